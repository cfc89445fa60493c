// A campaign's history: its versions still on the compacted campaign topic, who wrote each and through what
// (the records' audit headers), and the engine's status records for each version, from
// GET /api/campaigns/:id/history. Every value reaches the page through textContent, never as HTML.
import { $, api, h, setResult } from "./dom.js";

const dash = (v) => (v === undefined || v === null || v === "" ? "–" : String(v));

function statusCells(s) {
  return [
    h("td", { class: "status" }, h("span", { class: `badge ${s.status}` }, s.status)),
    h("td", { class: "when" }, dash(s.at)),
    h(
      "td",
      {},
      h(
        "ul",
        { class: "reasons" },
        (s.reasons ?? []).map((r) => h("li", {}, r)),
      ),
    ),
  ];
}

const noStatus = () => [
  h("td", { class: "status" }, h("span", { class: "badge pending" }, "none yet")),
  h("td", {}, "–"),
  h("td", {}, ""),
];

/** One row per version, more rows under it for further status records; a status whose record is gone on its own. */
function rows(entry) {
  if (entry.kind === "status") {
    const s = entry.status;
    return [
      h(
        "tr",
        { class: "orphan", title: `status of ${s.source}: its campaign record is no longer on the topic` },
        h("td", { class: "num" }, "–"),
        h("td", { class: "when" }, "–"),
        h("td", {}, s.source === "engine" ? "engine" : "compacted"),
        h("td", {}, dash(s.written_by)),
        h("td", {}, dash(s.written_via)),
        h("td", {}, h("code", { title: dash(s.version) }, dash(s.version?.slice(0, 12)))),
        ...statusCells(s),
      ),
    ];
  }
  const first = [
    h("td", { class: "num", title: entry.source }, entry.offset),
    h("td", { class: "when", title: `written at ${dash(entry.written_at)}` }, entry.timestamp),
    h("td", { class: entry.record }, entry.record),
    h("td", { class: "author" }, dash(entry.written_by)),
    h("td", {}, dash(entry.written_via)),
    h("td", {}, h("code", { title: dash(entry.version) }, dash(entry.version?.slice(0, 12)))),
  ];
  if (entry.statuses.length === 0) return [h("tr", { "data-offset": entry.offset }, ...first, ...noStatus())];
  return entry.statuses.map((s, i) =>
    h(
      "tr",
      { "data-offset": entry.offset, class: i === 0 ? "" : "again" },
      ...(i === 0 ? first : first.map(() => h("td", {}))),
      ...statusCells(s),
    ),
  );
}

/** Fetches and shows the history of `campaignId`. */
export async function showHistory(campaignId) {
  const card = $("history-card");
  const result = $("history-result");
  $("history-id").value = String(campaignId);
  card.scrollIntoView({ behavior: "smooth" });
  setResult(result, "busy", `Reading the history of campaign ${campaignId}…`);
  const { status, data } = await api("GET", `/api/campaigns/${campaignId}/history`);
  const table = $("history");
  if (status !== 200) {
    table.hidden = true;
    setResult(result, "error", `No history: ${data.error}`);
    return;
  }
  table.tBodies[0].replaceChildren(...data.timeline.flatMap(rows));
  table.hidden = data.timeline.length === 0;
  const versions = data.timeline.filter((e) => e.kind === "version").length;
  setResult(
    result,
    "",
    data.timeline.length === 0
      ? `Campaign ${campaignId}: nothing on ${data.campaign_topic} or ${data.status_topic} (never written, or compacted away).`
      : `Campaign ${campaignId}: ${versions} ${versions === 1 ? "version" : "versions"} on ${data.campaign_topic}, oldest first, each with the engine's status records from ${data.status_topic}.`,
  );
}

export function setUpHistory() {
  $("history-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("history-id").value.trim();
    if (id !== "") void showHistory(Number(id));
  });
  return { showHistory };
}
