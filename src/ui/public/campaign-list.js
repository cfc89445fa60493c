// The campaign list (each campaign with its delivery rules, the engine's status of its record, its counters and
// a chart of its triggers per minute) and the list of rejected and quarantined campaigns.
/* global window */
import { $, api, h, position } from "./dom.js";
import { sparkline } from "./sparkline.js";

/** The engine's status of the campaign's current record: only a status about that very record counts. */
function statusOf(state, entry) {
  const status = state.statuses[String(entry.campaignId)];
  if (!status) return { status: "pending", reasons: ["the engine has not read this campaign yet"] };
  if (status.source !== entry.source)
    return { status: "pending", reasons: ["the engine has not read this version yet"] };
  return status;
}

/** The date window, one bound a line; a missing bound is unbounded. */
function dateWindow(c) {
  if (!c.start_date && !c.end_date) return "always";
  return [
    h("div", {}, `from ${c.start_date ?? "any time"}`),
    h("div", {}, `until ${c.end_date ?? "any time"}`),
  ];
}

const present = (v) => v !== undefined && v !== null;
const text = (v) => (typeof v === "string" ? v : JSON.stringify(v));

/** The delivery rules of a campaign, one a line, as written in its record; "none" for a seed campaign. */
function rules(c) {
  const lines = [];
  const cap = c.frequency_cap;
  if (present(cap)) {
    lines.push(
      typeof cap === "object"
        ? `cap ${text(cap.max)} per ${present(cap.period) ? text(cap.period) : "lifetime"}`
        : `cap ${text(cap)}`,
    );
  }
  if (present(c.holdout_percent)) lines.push(`holdout ${text(c.holdout_percent)}%`);
  if (Array.isArray(c.variants)) {
    lines.push(`variants ${c.variants.map((v) => `${text(v?.name)} ${text(v?.weight)}`).join(" / ")}`);
  } else if (present(c.variants)) lines.push(`variants ${text(c.variants)}`);
  if (present(c.max_event_age)) lines.push(`max age ${text(c.max_event_age)}`);
  if (present(c.priority)) lines.push(`priority ${text(c.priority)}`);
  return lines.length === 0 ? "none" : lines.map((l) => h("div", {}, l));
}

const RULES_TITLE =
  "frequency cap per player (per period, or over the campaign's lifetime), holdout share, variants with " +
  "their weights, the oldest event that still triggers, priority under the global frequency cap";

/** A count as the page shows it: "–" when no engine answered or the engines do not count it at all. */
function count(metrics, counters, name) {
  if (!metrics.exposed?.includes(name)) return "–";
  const n = counters?.[name];
  if (n !== undefined) return String(n);
  return metrics.available ? "0" : "–";
}

function byLabel(map) {
  return Object.entries(map ?? {})
    .map(([k, n]) => `${k}: ${n}`)
    .join(", ");
}

function rateCell(metrics, campaignId) {
  const rate = metrics.triggerRate;
  if (!rate || !metrics.exposed?.includes("triggers")) return "–";
  const points = rate.campaigns[String(campaignId)] ?? new Array(rate.observed).fill(0);
  return sparkline(rate, points);
}

async function writeCampaign(c) {
  const { status, data } = await api("PUT", `/api/campaigns/${c.campaign_id}`, c);
  if (status !== 200) {
    const detail = (data.problems ?? []).map((p) => position(p) + p.message).join("; ");
    window.alert(`Campaign ${c.campaign_id} not sent: ${data.error}${detail ? `: ${detail}` : ""}`);
  }
}

async function removeCampaign(campaignId) {
  if (!window.confirm(`Delete campaign ${campaignId}? The engine stops evaluating it at once.`)) return;
  const { status, data } = await api("DELETE", `/api/campaigns/${campaignId}`);
  if (status !== 200) window.alert(`Campaign ${campaignId} not deleted: ${data.error}`);
}

function campaignRow(state, entry, onEdit, onHistory) {
  const c = typeof entry.value === "object" && entry.value !== null ? entry.value : null;
  const st = statusOf(state, entry);
  const m = state.metrics;
  const counters = m.campaigns[String(entry.campaignId)];
  const actions = c
    ? [
        h("button", { class: "small", "data-action": "edit", onclick: () => onEdit(entry) }, "Edit"),
        h(
          "button",
          {
            class: "small",
            "data-action": "toggle",
            onclick: () => void writeCampaign({ ...c, enabled: !c.enabled }),
          },
          c.enabled ? "Disable" : "Enable",
        ),
      ]
    : [];
  actions.push(
    h(
      "button",
      { class: "small", "data-action": "history", onclick: () => void onHistory(entry.campaignId) },
      "History",
    ),
    h(
      "button",
      {
        class: "small danger",
        "data-action": "delete",
        onclick: () => void removeCampaign(entry.campaignId),
      },
      "Delete",
    ),
  );
  const num = (cls, name, title) => h("td", { class: `num ${cls}`, title }, count(m, counters, name));
  return h(
    "tr",
    { "data-campaign-id": entry.campaignId, class: c && !c.enabled ? "disabled" : "" },
    h("td", { class: "num" }, entry.campaignId),
    h("td", { class: "enabled" }, c ? (c.enabled ? "yes" : "no") : "–"),
    h("td", {}, c?.game ?? "–"),
    h("td", {}, c?.event_name ?? "–"),
    h("td", { class: "window" }, c ? dateWindow(c) : "–"),
    h("td", { class: "rules", title: RULES_TITLE }, c ? rules(c) : "–"),
    h(
      "td",
      {},
      h(
        "code",
        { class: "filter", title: c?.filter ?? String(entry.value) },
        c?.filter ?? String(entry.value),
      ),
    ),
    h(
      "td",
      { class: "status" },
      h("span", { class: `badge ${st.status}`, title: (st.reasons ?? []).join("\n") }, st.status),
    ),
    num("matches", "matches"),
    num("triggers", "triggers"),
    num("capped", "capped", byLabel(counters?.cappedBy)),
    num("held-out", "heldOut"),
    num("expired", "expired"),
    num("errors", "errors", byLabel(counters?.errorsByKind)),
    num("fuel", "fuelExhausted"),
    h("td", { class: "rate" }, rateCell(m, entry.campaignId)),
    h("td", { class: "actions" }, actions),
  );
}

export function renderCampaigns(state, onEdit, onHistory) {
  const entries = [...state.campaigns.values()].sort((a, b) => a.campaignId - b.campaignId);
  $("campaigns").tBodies[0].replaceChildren(...entries.map((e) => campaignRow(state, e, onEdit, onHistory)));
  $("no-campaigns").hidden = entries.length > 0;
  const m = state.metrics;
  $("metrics-note").textContent = m.available
    ? `Counters from ${m.urls.join(", ")}, since each engine started; triggers per minute since the UI started.`
    : `Counters unavailable: ${m.problem}`;
  $("metrics-status").textContent = m.available ? "Counters: live" : "Counters: unavailable";
  $("metrics-status").className = `pill ${m.available ? "ok" : "warn"}`;
  $("metrics-status").title = m.problem ?? m.urls.join(", ");
}

export function renderRejected(state) {
  const items = Object.entries(state.statuses)
    .filter(([, s]) => s.status === "rejected" || s.status === "quarantined")
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([key, s]) =>
      h(
        "li",
        { "data-campaign-id": key },
        h("span", { class: `badge ${s.status}` }, s.status),
        " ",
        h("strong", {}, `campaign ${s.campaign_id ?? key}`),
        h("span", { class: "muted" }, ` ${s.source} at ${s.at}`),
        h(
          "ul",
          { class: "reasons" },
          (s.reasons ?? []).map((r) => h("li", {}, r)),
        ),
      ),
    );
  $("rejected").replaceChildren(...items);
  $("no-rejected").hidden = items.length > 0;
}
