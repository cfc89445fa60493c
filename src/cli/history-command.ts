// `rtcrm campaign history ID`: a campaign's versions still on the campaign topic, who wrote each (audit headers),
// and the engine's status records about them, as a table or as JSON.
import type { CampaignStatus } from "../campaigns/status.js";
import { readCampaignHistory, type CampaignHistory, type TimelineEntry } from "../client/campaign-history.js";
import { EXIT, integerArg } from "./args.js";
import type { Command } from "./commands.js";
import type { Context } from "./context.js";
import { clip, table } from "./format.js";
import { CONFIG_OPTION, TIMEOUT_OPTION, timeout } from "./option-help.js";

const HISTORY_HELP = `Reads the campaign topic and the campaign status topic from the beginning to their ends and prints every
record of campaign ID still on them, oldest first: each version (a put, or a tombstone as "deleted") with its
offset, time, who wrote it and through what (the rtcrm-author and rtcrm-via headers that the UI and rtcrm
write; "-" for records written otherwise), and below it the engine's status records for that very record
(accepted, rejected with the reasons, deleted, quarantined). An engine writes a status record for every
record it reads, so a version read by several engine starts has several. Both topics are compacted: once
compaction has run, only the latest record of a campaign is left on each. The author is what the writer
asserted; the Kafka principal (ACLs, the broker's audit log) is what the broker authenticated.

options:
  --json             print the timeline as JSON: {campaign_id, campaign_topic, status_topic, timeline: [...]},
                     each entry {"kind":"version", source, offset, timestamp, record, written_by, written_at,
                     written_via, version, value, statuses: [...]} or {"kind":"status", status} (a status
                     record whose campaign record is no longer on the topic)
${TIMEOUT_OPTION}
${CONFIG_OPTION}

examples:
  rtcrm campaign history 4711
  rtcrm campaign history 4711 --json | jq '.timeline[] | select(.kind == "version") | .written_by'`;

export const HISTORY_COMMAND: Command = {
  words: ["campaign", "history"],
  summary: "who changed a campaign when, and what the engine made of it",
  synopsis: "rtcrm campaign history ID [--json] [--config FILE]",
  help: HISTORY_HELP,
  options: { json: { type: "boolean" }, ...timeout },
  positionals: { min: 1, max: 1, name: "ID (a campaign_id)" },
  exits: "0 printed; 1 no record of ID on either topic, or Kafka failure; 2 usage or configuration error",
  run: campaignHistory,
};

const HEADER = ["OFFSET", "TIME", "RECORD", "AUTHOR", "VIA", "VERSION", "STATUS", "STATUS_AT", "REASONS"];

export async function campaignHistory(ctx: Context): Promise<number> {
  const id = integerArg(ctx.command, "ID", ctx.positionals[0] as string);
  const config = ctx.config();
  const history = await readCampaignHistory(ctx.settings("history"), config, id, ctx.timeoutMs);
  const empty = history.timeline.length === 0;
  if (ctx.values.json) {
    ctx.io.stdout(`${JSON.stringify(history, null, 2)}\n`);
    return empty ? EXIT.FAILURE : EXIT.OK;
  }
  if (empty) {
    ctx.io.stderr(
      `campaign ${id}: no record on ${history.campaign_topic} and no status record on ${history.status_topic} (never written, or compacted away)\n`,
    );
    return EXIT.FAILURE;
  }
  ctx.io.stdout(`${summary(history)}\n${historyTable(history)}`);
  return EXIT.OK;
}

function summary(h: CampaignHistory): string {
  const versions = h.timeline.filter((e) => e.kind === "version").length;
  const statuses = h.timeline.reduce((n, e) => n + (e.kind === "version" ? e.statuses.length : 1), 0);
  return `campaign ${h.campaign_id}: ${versions} ${versions === 1 ? "record" : "records"} on ${h.campaign_topic}, ${statuses} status ${statuses === 1 ? "record" : "records"} on ${h.status_topic}`;
}

/** One row per version and per status record; a version's further status records on rows of their own. */
export function historyTable(h: CampaignHistory): string {
  const rows: string[][] = [];
  for (const entry of h.timeline) rows.push(...entryRows(entry));
  return table(HEADER, rows);
}

function entryRows(entry: TimelineEntry): string[][] {
  if (entry.kind === "status") {
    const s = entry.status;
    // Its campaign record is gone: the status record still says who wrote it.
    return [
      [
        offsetOf(s.source),
        "-",
        s.source === "engine" ? "-" : "(compacted)",
        s.written_by ?? "-",
        s.written_via ?? "-",
        short(s.version),
        ...statusCells(s),
      ],
    ];
  }
  const first = [
    String(entry.offset),
    entry.timestamp,
    entry.record,
    entry.written_by ?? "-",
    entry.written_via ?? "-",
    short(entry.version),
  ];
  if (entry.statuses.length === 0) return [[...first, "-", "-", "no status record (yet)"]];
  return entry.statuses.map((s, i) => [...(i === 0 ? first : first.map(() => "")), ...statusCells(s)]);
}

function statusCells(s: CampaignStatus): string[] {
  return [s.status, s.at, clip((s.reasons ?? []).join("; "), 300) || "-"];
}

function offsetOf(source: string): string {
  return /\/(\d+)$/.exec(source)?.[1] ?? "-";
}

function short(version: string | undefined): string {
  return version === undefined ? "-" : version.slice(0, 12);
}
