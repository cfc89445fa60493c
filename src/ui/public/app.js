// The rtcrm web UI in the browser: two editors (campaign, event), the campaign list with the engine's status
// and counters, and the live triggers. State arrives over Server-Sent Events (/api/live): a snapshot, then
// every change. Every value from Kafka reaches the page through textContent, never as HTML.
/* global ace, window, EventSource */
import { $, api, debounce, h, setResult, showProblems } from "./dom.js";
import { setUpCampaignForm } from "./campaign-form.js";
import { renderCampaigns, renderRejected } from "./campaign-list.js";
import { setUpHistory } from "./campaign-history.js";
import { showSession, sessionEnded } from "./session.js";

const state = {
  topics: {},
  campaigns: new Map(),
  statuses: {},
  triggers: [],
  metrics: { available: false, problem: "not read yet", campaigns: {}, urls: [], exposed: [] },
  kafka: { connected: false, problem: "connecting" },
};

const MAX_ALERTS = 50;
const MAX_RAW = 100;

// ---- editors ---------------------------------------------------------------------------------------------

ace.config.set("basePath", "/vendor/ace");

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

const form = setUpCampaignForm(filterEditor);

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

function editCampaign(entry) {
  form.fillForm(entry.value, entry.campaignId);
  $("campaign-card").scrollIntoView({ behavior: "smooth" });
}

const history = setUpHistory();
const showCampaigns = () => renderCampaigns(state, editCampaign, history.showHistory);

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
    // A campaign with variants names the player's variant in the trigger.
    typeof trigger.variant === "string" ? [" (variant ", h("strong", {}, trigger.variant), ")"] : null,
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
  showCampaigns();
  renderRejected(state);
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
      form.campaignDeleted(campaignId);
    } else {
      state.campaigns.set(campaignId, entry);
    }
    showCampaigns();
  });
  on("status", ({ key, status }) => {
    state.statuses[key] = status;
    showCampaigns();
    renderRejected(state);
  });
  on("trigger", (t) => {
    state.triggers.push(t);
    if (state.triggers.length > MAX_RAW) state.triggers.shift();
    addTrigger(t);
  });
  on("metrics", (m) => {
    state.metrics = m;
    showCampaigns();
  });
  on("kafka", (k) => {
    state.kafka = k;
    renderKafka();
  });
  source.addEventListener("error", () => {
    // The server ends the stream when the session expires: then the page goes to the log-in.
    void sessionEnded();
    const el = $("kafka-status");
    el.textContent = "UI server: reconnecting…";
    el.className = "pill warn";
  });
}

void showSession();
connect();
// As the seed's demo UI: both editors start with the examples, ready to send.
$("campaign-example").click();
$("event-example").click();
