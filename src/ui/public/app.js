// The rtcrm web UI in the browser: two editors (campaign, event), the campaign list with the engine's status
// and counters, and the live triggers. State arrives over Server-Sent Events (/api/live): a snapshot, then
// every change. Every value from Kafka reaches the page through textContent, never as HTML.
/* global ace, document, window, fetch, EventSource, setTimeout, clearTimeout */

const $ = (id) => document.getElementById(id);

/** Creates an element; children are nodes or text. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof window.Node ? c : String(c));
  }
  return el;
}

const state = {
  topics: {},
  campaigns: new Map(),
  statuses: {},
  triggers: [],
  metrics: { available: false, problem: "not read yet", campaigns: {}, urls: [] },
  kafka: { connected: false, problem: "connecting" },
};

const MAX_ALERTS = 50;
const MAX_RAW = 100;

// ---- editors ---------------------------------------------------------------------------------------------

ace.config.set("basePath", "/vendor/ace");
const Range = ace.require("ace/range").Range;

function editor(id, mode, lines, wrap) {
  const e = ace.edit(id, {
    wrap,
    mode,
    theme: "ace/theme/tomorrow_night",
    // Problems come from the engine's own compiler on the server, not from Ace's linter.
    useWorker: false,
    minLines: lines,
    maxLines: lines,
    fontSize: 13,
    showPrintMargin: false,
    tabSize: 2,
    useSoftTabs: true,
  });
  return e;
}

const filterEditor = editor("filter-editor", "ace/mode/javascript", 9, true);
const eventEditor = editor("event-editor", "ace/mode/json", 22, false);
// For the browser test and the curious: the editors' contents are reachable from the console.
window.rtcrm = { filterEditor, eventEditor };

let filterMarkers = [];
function markFilter(problems) {
  const session = filterEditor.session;
  for (const m of filterMarkers) session.removeMarker(m);
  filterMarkers = [];
  const positioned = problems.filter((p) => p.where === "filter" && p.line !== undefined);
  session.setAnnotations(
    positioned.map((p) => ({
      row: p.line - 1,
      column: (p.column ?? 1) - 1,
      text: p.message,
      type: "error",
    })),
  );
  for (const p of positioned) {
    filterMarkers.push(
      session.addMarker(new Range(p.line - 1, 0, p.line - 1, Infinity), "error-line", "fullLine"),
    );
  }
}

// ---- helpers ---------------------------------------------------------------------------------------------

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data;
  try {
    data = await response.json();
  } catch {
    data = { ok: false, error: `HTTP ${response.status}` };
  }
  return { status: response.status, data };
}

function position(p) {
  if (p.line === undefined) return "";
  return p.column === undefined ? `line ${p.line}: ` : `line ${p.line}, column ${p.column}: `;
}

function showProblems(list, problems) {
  list.replaceChildren(...problems.map((p) => h("li", { class: "problem" }, position(p), p.message)));
}

function setResult(el, kind, text) {
  el.className = `result ${kind}`;
  el.textContent = text;
}

function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

// ---- campaign editor -------------------------------------------------------------------------------------

const form = $("campaign-form");
const fields = {
  id: $("f-campaign-id"),
  enabled: $("f-enabled"),
  game: $("f-game"),
  eventName: $("f-event-name"),
  start: $("f-start-date"),
  end: $("f-end-date"),
};

/** The campaign as the form says, in the seed's field order; empty dates are left out (unbounded). */
function campaignFromForm() {
  const id = fields.id.value.trim();
  const campaign = {
    campaign_id: id === "" ? null : Number(id),
    enabled: fields.enabled.checked,
    game: fields.game.value,
    event_name: fields.eventName.value,
  };
  if (fields.start.value.trim() !== "") campaign.start_date = fields.start.value.trim();
  if (fields.end.value.trim() !== "") campaign.end_date = fields.end.value.trim();
  campaign.filter = filterEditor.getValue();
  return campaign;
}

/** Fills the form; `editId` is the id of the campaign being edited (kept fixed), or null for a new one. */
function fillForm(c, editId) {
  fields.id.value = c.campaign_id ?? "";
  fields.id.readOnly = editId !== null;
  fields.enabled.checked = c.enabled !== false;
  fields.game.value = c.game ?? "";
  fields.eventName.value = c.event_name ?? "";
  fields.start.value = c.start_date ?? "";
  fields.end.value = c.end_date ?? "";
  filterEditor.setValue(typeof c.filter === "string" ? c.filter : "", 1);
  $("campaign-heading").textContent = editId === null ? "New campaign" : `Edit campaign ${editId}`;
  setResult($("campaign-result"), "", "");
  scheduleCheck();
}

let checkSeq = 0;
/** Compiles the campaign on the server with the engine's compiler; resolves with the problems. */
async function checkCampaign() {
  const seq = ++checkSeq;
  const { data } = await api("POST", "/api/check", campaignFromForm());
  const problems = data.problems ?? (data.ok ? [] : [{ message: data.error ?? "check failed" }]);
  if (seq === checkSeq) {
    showProblems($("campaign-problems"), problems);
    markFilter(problems);
    $("campaign-card").classList.toggle("invalid", problems.length > 0);
  }
  return problems;
}
const scheduleCheck = debounce(() => void checkCampaign(), 300);
for (const el of Object.values(fields)) el.addEventListener("input", scheduleCheck);
filterEditor.session.on("change", scheduleCheck);

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const result = $("campaign-result");
  const problems = await checkCampaign();
  if (problems.length > 0) {
    setResult(result, "error", `Not sent: fix the ${problems.length === 1 ? "problem" : "problems"} above.`);
    return;
  }
  const campaign = campaignFromForm();
  setResult(result, "busy", "Sending…");
  const { status, data } = await api("PUT", `/api/campaigns/${campaign.campaign_id}`, campaign);
  if (status === 200) {
    fillForm(campaign, campaign.campaign_id);
    setResult(result, "ok", `Sent campaign ${campaign.campaign_id}: its engine status shows in the list.`);
  } else {
    if (data.problems) showProblems($("campaign-problems"), data.problems);
    setResult(result, "error", `Not sent: ${data.error}`);
  }
});

$("campaign-example").addEventListener("click", async () => {
  const { data } = await api("GET", "/api/examples/campaign");
  fillForm(data, null);
});
$("campaign-new").addEventListener("click", () =>
  fillForm({ campaign_id: "", enabled: true, filter: "function(event) {\n  return true;\n}" }, null),
);

// ---- event editor ----------------------------------------------------------------------------------------

/** JSON.parse's complaint with the line and column it points at. */
function jsonProblems(text) {
  try {
    const value = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return [{ message: "an event is one JSON object" }];
    return [];
  } catch (error) {
    const at = / at position (\d+)/.exec(error.message);
    if (!at) return [{ message: error.message }];
    const before = text.slice(0, Number(at[1]));
    const line = before.split("\n").length;
    const column = Number(at[1]) - before.lastIndexOf("\n");
    return [{ message: error.message.replace(/ in JSON at position \d+.*$/, ""), line, column }];
  }
}

function checkEvent() {
  const problems = jsonProblems(eventEditor.getValue());
  showProblems($("event-problems"), problems);
  eventEditor.session.setAnnotations(
    problems
      .filter((p) => p.line !== undefined)
      .map((p) => ({ row: p.line - 1, column: p.column - 1, text: p.message, type: "error" })),
  );
  return problems;
}
eventEditor.session.on("change", debounce(checkEvent, 300));

$("event-example").addEventListener("click", async () => {
  const { data } = await api("GET", "/api/examples/event");
  eventEditor.setValue(JSON.stringify(data, null, 2), 1);
  setResult($("event-result"), "", "");
});

$("event-send").addEventListener("click", async () => {
  const result = $("event-result");
  if (checkEvent().length > 0) {
    setResult(result, "error", "Not sent: the event is not a JSON object.");
    return;
  }
  setResult(result, "busy", "Sending…");
  const { status, data } = await api("POST", "/api/events", eventEditor.getValue());
  if (status === 200) {
    setResult(
      result,
      "ok",
      `Sent to ${state.topics.event_topic}, partition ${data.partition}, offset ${data.offset}.`,
    );
  } else {
    if (data.problems) showProblems($("event-problems"), data.problems);
    setResult(result, "error", `Not sent: ${data.error}`);
  }
});

// ---- campaign list ---------------------------------------------------------------------------------------

/** The engine's status of the campaign's current record: only a status about that very record counts. */
function statusOf(entry) {
  const status = state.statuses[String(entry.campaignId)];
  if (!status) return { status: "pending", reasons: ["the engine has not read this campaign yet"] };
  if (status.source !== entry.source)
    return { status: "pending", reasons: ["the engine has not read this version yet"] };
  return status;
}

/** A counter; a campaign the engine has not counted yet has none, which is 0 while the counters are readable. */
function count(n) {
  if (n !== undefined) return String(n);
  return state.metrics.available ? "0" : "–";
}

/** The date window, one bound a line; a missing bound is unbounded. */
function window_(c) {
  if (!c.start_date && !c.end_date) return "always";
  return [
    h("div", {}, `from ${c.start_date ?? "any time"}`),
    h("div", {}, `until ${c.end_date ?? "any time"}`),
  ];
}

async function writeCampaign(c) {
  const { status, data } = await api("PUT", `/api/campaigns/${c.campaign_id}`, c);
  if (status !== 200) {
    const detail = (data.problems ?? []).map((p) => position(p) + p.message).join("; ");
    window.alert(`Campaign ${c.campaign_id} not sent: ${data.error}${detail ? `: ${detail}` : ""}`);
  }
}

function campaignRow(entry) {
  const c = typeof entry.value === "object" && entry.value !== null ? entry.value : null;
  const st = statusOf(entry);
  const counters = state.metrics.campaigns[String(entry.campaignId)];
  const errorsTitle = counters
    ? Object.entries(counters.errorsByKind)
        .map(([k, n]) => `${k}: ${n}`)
        .join(", ")
    : "";
  const actions = c
    ? [
        h("button", { class: "small", "data-action": "edit", onclick: () => editCampaign(entry) }, "Edit"),
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
      {
        class: "small danger",
        "data-action": "delete",
        onclick: async () => {
          if (!window.confirm(`Delete campaign ${entry.campaignId}? The engine stops evaluating it at once.`))
            return;
          const { status, data } = await api("DELETE", `/api/campaigns/${entry.campaignId}`);
          if (status !== 200) window.alert(`Campaign ${entry.campaignId} not deleted: ${data.error}`);
        },
      },
      "Delete",
    ),
  );
  return h(
    "tr",
    { "data-campaign-id": entry.campaignId, class: c && !c.enabled ? "disabled" : "" },
    h("td", { class: "num" }, entry.campaignId),
    h("td", { class: "enabled" }, c ? (c.enabled ? "yes" : "no") : "–"),
    h("td", {}, c?.game ?? "–"),
    h("td", {}, c?.event_name ?? "–"),
    h("td", { class: "window" }, c ? window_(c) : "–"),
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
    h("td", { class: "num matches" }, count(counters?.matches)),
    h("td", { class: "num errors", title: errorsTitle }, count(counters?.errors)),
    h("td", { class: "num fuel" }, count(counters?.fuelExhausted)),
    h("td", { class: "actions" }, actions),
  );
}

function editCampaign(entry) {
  fillForm(entry.value, entry.campaignId);
  $("campaign-card").scrollIntoView({ behavior: "smooth" });
}

function renderCampaigns() {
  const entries = [...state.campaigns.values()].sort((a, b) => a.campaignId - b.campaignId);
  $("campaigns").tBodies[0].replaceChildren(...entries.map(campaignRow));
  $("no-campaigns").hidden = entries.length > 0;
  const m = state.metrics;
  $("metrics-note").textContent = m.available
    ? `Counters from ${m.urls.join(", ")}, since each engine started.`
    : `Counters unavailable: ${m.problem}`;
  $("metrics-status").textContent = m.available ? "Counters: live" : "Counters: unavailable";
  $("metrics-status").className = `pill ${m.available ? "ok" : "warn"}`;
  $("metrics-status").title = m.problem ?? m.urls.join(", ");
}

function renderRejected() {
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

// ---- triggers --------------------------------------------------------------------------------------------

function triggerAlert(t) {
  let trigger;
  try {
    trigger = JSON.parse(t.value);
  } catch {
    return h("li", { class: "alert" }, "A trigger that is not JSON: ", t.value);
  }
  const campaignId = trigger.campaign?.campaign_id;
  const event = trigger.event ?? {};
  // The record key is the player id as written: exact also beyond 2^53, where JSON.parse rounds.
  const player = t.key ?? event.player_id;
  return h(
    "li",
    { class: "alert", title: `trigger id ${t.headers["rtcrm-trigger-id"] ?? "?"}` },
    "Trigger campaign ",
    h("strong", {}, campaignId),
    " for player ",
    h("strong", {}, player),
    " in game ",
    h("strong", {}, event.game),
    " and market ",
    h("strong", {}, event.market),
    "!",
  );
}

function addTrigger(t) {
  const alerts = $("trigger-alerts");
  alerts.prepend(triggerAlert(t));
  while (alerts.children.length > MAX_ALERTS) alerts.lastElementChild.remove();
  const raw = $("raw-triggers");
  raw.prepend(h("div", { class: "raw-line" }, t.value));
  while (raw.children.length > MAX_RAW) raw.lastElementChild.remove();
  $("no-triggers").hidden = true;
  $("no-raw-triggers").hidden = true;
}

function renderTriggers() {
  $("trigger-alerts").replaceChildren();
  $("raw-triggers").replaceChildren();
  $("no-triggers").hidden = state.triggers.length > 0;
  $("no-raw-triggers").hidden = state.triggers.length > 0;
  for (const t of state.triggers.slice(-MAX_RAW)) addTrigger(t);
}

// ---- live state ------------------------------------------------------------------------------------------

function renderKafka() {
  const k = state.kafka;
  const el = $("kafka-status");
  el.textContent = k.connected ? "Kafka: connected" : "Kafka: not connected";
  el.className = `pill ${k.connected ? "ok" : "warn"}`;
  el.title = k.problem ?? state.bootstrapServers ?? "";
}

function renderAll() {
  $("campaign-topic").textContent = state.topics.campaign_topic;
  $("event-topic").textContent = state.topics.event_topic;
  $("trigger-topic").textContent = state.topics.trigger_topic;
  $("status-topic").textContent = state.topics.campaign_status_topic;
  renderKafka();
  renderCampaigns();
  renderRejected();
  renderTriggers();
}

function connect() {
  const source = new EventSource("/api/live");
  const on = (name, fn) => source.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  on("snapshot", (s) => {
    state.topics = s.topics;
    state.bootstrapServers = s.bootstrapServers;
    state.campaigns = new Map(s.campaigns.map((c) => [c.campaignId, c]));
    state.statuses = s.statuses;
    state.triggers = s.triggers;
    state.metrics = s.metrics;
    state.kafka = s.kafka;
    renderAll();
  });
  on("campaign", ({ campaignId, entry }) => {
    if (entry === null) {
      state.campaigns.delete(campaignId);
      // The campaign in the form is gone: what the form holds can be sent again as a new one.
      if (fields.id.readOnly && fields.id.value === String(campaignId)) {
        fields.id.readOnly = false;
        $("campaign-heading").textContent = `New campaign (${campaignId} was deleted)`;
      }
    } else {
      state.campaigns.set(campaignId, entry);
    }
    renderCampaigns();
  });
  on("status", ({ key, status }) => {
    state.statuses[key] = status;
    renderCampaigns();
    renderRejected();
  });
  on("trigger", (t) => {
    state.triggers.push(t);
    if (state.triggers.length > MAX_RAW) state.triggers.shift();
    addTrigger(t);
  });
  on("metrics", (m) => {
    state.metrics = m;
    renderCampaigns();
  });
  on("kafka", (k) => {
    state.kafka = k;
    renderKafka();
  });
  source.addEventListener("error", () => {
    const el = $("kafka-status");
    el.textContent = "UI server: reconnecting…";
    el.className = "pill warn";
  });
}

connect();
// As the seed's demo UI: both editors start with the examples, ready to send.
$("campaign-example").click();
$("event-example").click();
