// The campaign editor: the seed's fields, the delivery rules (frequency cap, holdout, variants, event expiry,
// priority) and the filter. The server checks what the form says with the engine's own validation and compiler
// while you type; a rule left empty is left out of the record, so a campaign without rules stays as it was.
/* global ace */
import { $, api, debounce, setResult, showProblems } from "./dom.js";

const Range = ace.require("ace/range").Range;

const fields = {
  id: $("f-campaign-id"),
  enabled: $("f-enabled"),
  game: $("f-game"),
  eventName: $("f-event-name"),
  start: $("f-start-date"),
  end: $("f-end-date"),
  capMax: $("f-cap-max"),
  capPeriod: $("f-cap-period"),
  holdout: $("f-holdout"),
  variants: $("f-variants"),
  maxAge: $("f-max-age"),
  priority: $("f-priority"),
};

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A number as typed; anything else as its text, so that the engine's check names what is wrong with it. */
function numberOrText(input) {
  const text = input.value.trim();
  if (text === "") return undefined;
  return NUMBER.test(text) ? Number(text) : text;
}

/** JSON as typed; text that is not JSON as it is (the engine's check then says what a list must hold). */
function jsonOrText(input) {
  const text = input.value.trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The delivery rules the form holds, in the engine's field order; only those filled in. */
function rulesFromForm() {
  const rules = {};
  const max = numberOrText(fields.capMax);
  const period = fields.capPeriod.value.trim();
  if (max !== undefined || period !== "") {
    rules.frequency_cap = {};
    if (max !== undefined) rules.frequency_cap.max = max;
    if (period !== "") rules.frequency_cap.period = period;
  }
  const holdout = numberOrText(fields.holdout);
  if (holdout !== undefined) rules.holdout_percent = holdout;
  const variants = jsonOrText(fields.variants);
  if (variants !== undefined) rules.variants = variants;
  const maxAge = fields.maxAge.value.trim();
  if (maxAge !== "") rules.max_event_age = maxAge;
  const priority = numberOrText(fields.priority);
  if (priority !== undefined) rules.priority = priority;
  return rules;
}

/** The campaign as the form says, in the seed's field order and the rules after it; empty fields are left out. */
function campaignFromForm(filterEditor) {
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
  return { ...campaign, ...rulesFromForm() };
}

/** A record's value for a text input: nothing for a missing field, the text of anything else. */
function shown(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function fillRules(c) {
  const cap = typeof c.frequency_cap === "object" && c.frequency_cap !== null ? c.frequency_cap : {};
  fields.capMax.value = shown(cap.max);
  fields.capPeriod.value = shown(cap.period);
  fields.holdout.value = shown(c.holdout_percent);
  fields.variants.value = shown(c.variants);
  fields.maxAge.value = shown(c.max_event_age);
  fields.priority.value = shown(c.priority);
}

export function setUpCampaignForm(filterEditor) {
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

  let checkSeq = 0;
  /** Checks the campaign on the server with the engine's validation and compiler; resolves with the problems. */
  async function checkCampaign() {
    const seq = ++checkSeq;
    const { data } = await api("POST", "/api/check", campaignFromForm(filterEditor));
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

  /** Fills the form; `editId` is the id of the campaign being edited (kept fixed), or null for a new one. */
  function fillForm(c, editId) {
    fields.id.value = c.campaign_id ?? "";
    fields.id.readOnly = editId !== null;
    fields.enabled.checked = c.enabled !== false;
    fields.game.value = c.game ?? "";
    fields.eventName.value = c.event_name ?? "";
    fields.start.value = c.start_date ?? "";
    fields.end.value = c.end_date ?? "";
    fillRules(c);
    filterEditor.setValue(typeof c.filter === "string" ? c.filter : "", 1);
    $("campaign-heading").textContent = editId === null ? "New campaign" : `Edit campaign ${editId}`;
    setResult($("campaign-result"), "", "");
    scheduleCheck();
  }

  $("campaign-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const result = $("campaign-result");
    const problems = await checkCampaign();
    if (problems.length > 0) {
      setResult(
        result,
        "error",
        `Not sent: fix the ${problems.length === 1 ? "problem" : "problems"} above.`,
      );
      return;
    }
    const campaign = campaignFromForm(filterEditor);
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

  /** The campaign in the form is gone: what the form holds can be sent again as a new one. */
  function campaignDeleted(campaignId) {
    if (fields.id.readOnly && fields.id.value === String(campaignId)) {
      fields.id.readOnly = false;
      $("campaign-heading").textContent = `New campaign (${campaignId} was deleted)`;
    }
  }

  return { fillForm, campaignDeleted };
}
