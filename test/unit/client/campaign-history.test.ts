// A campaign's history from the records of the two topics: its versions in the order the broker holds them,
// each with the engine's status records for that very record, and statuses whose record is gone placed by time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { parseStatusRecord as statusOf, type CampaignStatus } from "../../../src/campaigns/status.js";
import {
  campaignVersions,
  mergeTimeline,
  type HistoryVersion,
  type TimelineEntry,
} from "../../../src/client/campaign-history.js";
import type { ClientRecord } from "../../../src/client/kafka-io.js";
import { historyTable } from "../../../src/cli/history-command.js";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const seed = {
  campaign_id: 4711,
  enabled: true,
  game: "foe",
  event_name: "fight",
  filter: "function(event) { return true }",
};

function record(
  offset: number,
  value: unknown,
  headers: Record<string, string> = {},
  key: string | null = "4711",
  partition = 0,
): ClientRecord {
  return {
    key,
    value: value === null ? null : Buffer.from(typeof value === "string" ? value : JSON.stringify(value)),
    headers,
    partition,
    offset,
    timestamp: T0 + offset * 60_000,
  };
}

function version(offset: number, over: Partial<HistoryVersion> = {}): HistoryVersion {
  return {
    kind: "version",
    source: `c/0/${offset}`,
    partition: 0,
    offset,
    timestamp: new Date(T0 + offset * 60_000).toISOString(),
    record: "put",
    statuses: [],
    ...over,
  };
}

function status(source: string, kind: CampaignStatus["status"], minute: number, over = {}): CampaignStatus {
  return {
    campaign_id: 4711,
    status: kind,
    source,
    at: new Date(T0 + minute * 60_000).toISOString(),
    ...over,
  };
}

const shape = (timeline: TimelineEntry[]) =>
  timeline.map((e) =>
    e.kind === "version"
      ? `v${e.offset}:${e.statuses.map((s) => s.status).join(",")}`
      : `s:${e.status.status}@${e.status.source}`,
  );

test("the campaign's records of the topic: puts and tombstones with their stamp and version hash, others left out", () => {
  const audit = {
    "rtcrm-author": "alice\u001b@box",
    "rtcrm-via": "cli",
    "rtcrm-written-at": "2026-12-01T10:00:00Z",
  };
  const versions = campaignVersions(
    "c",
    [
      record(0, seed, audit),
      record(1, { ...seed, campaign_id: 9 }, {}, "9"),
      record(2, "not json"),
      // Keyed otherwise, but naming the campaign inside: the engine keys it by its campaign_id too.
      record(3, seed, {}, "x"),
      record(4, null, { "rtcrm-author": "bob", "rtcrm-via": "ui" }),
    ],
    4711,
  );
  assert.deepEqual(
    versions.map((v) => [v.offset, v.record, v.written_by, v.written_via]),
    [
      [0, "put", "alice@box", "cli"],
      [2, "put", undefined, undefined],
      [3, "put", undefined, undefined],
      [4, "deleted", "bob", "ui"],
    ],
  );
  const first = versions[0] as HistoryVersion;
  assert.equal(first.source, "c/0/0");
  assert.equal(first.timestamp, "2026-12-01T10:00:00.000Z");
  assert.equal(first.written_at, "2026-12-01T10:00:00Z");
  assert.deepEqual(first.value, seed);
  const parsed = parseCampaign(seed);
  assert.ok(parsed.ok);
  assert.equal(first.version, parsed.campaign.versionKey);
  assert.equal(versions[1]?.value, "not json");
  assert.equal(versions[1]?.version, undefined);
  assert.ok(!("value" in (versions[3] as HistoryVersion)));
});

test("every version holds its own status records in the order written; other campaigns' statuses are left out", () => {
  const timeline = mergeTimeline(
    4711,
    [version(2, { record: "deleted" }), version(0), version(1)],
    [
      status("c/0/0", "accepted", 0),
      status("c/0/1", "rejected", 1, { reasons: ["end_date must be an ISO-8601 instant"] }),
      { ...status("c/0/5", "accepted", 1), campaign_id: 12 },
      status("c/0/2", "deleted", 2),
      // A second engine start reads the topic again and says the same.
      status("c/0/0", "accepted", 9),
    ],
  );
  assert.deepEqual(shape(timeline), ["v0:accepted,accepted", "v1:rejected", "v2:deleted"]);
  const v1 = timeline[1] as HistoryVersion;
  assert.deepEqual(v1.statuses[0]?.reasons, ["end_date must be an ISO-8601 instant"]);
});

test("a quarantine the engine decided goes with the last version of its hash; statuses of compacted records stand by time", () => {
  const timeline = mergeTimeline(
    4711,
    [version(5, { version: "aaa" }), version(8, { version: "bbb" }), version(9, { version: "aaa" })],
    [
      // The record at offset 1 is compacted away; its status survived: it goes before the versions still there.
      status("c/0/1", "accepted", 1, { version: "old", written_by: "carol" }),
      status("c/0/5", "accepted", 5, { version: "aaa" }),
      status("c/0/8", "accepted", 8, { version: "bbb" }),
      status("c/0/9", "accepted", 9, { version: "aaa" }),
      status("engine", "quarantined", 10, { version: "aaa", reasons: ["out of fuel 5 times"] }),
      // Gone, and written after the last version still there: it goes last.
      status("c/0/10", "deleted", 12),
      status("engine", "quarantined", 13, { version: "zzz" }),
    ],
  );
  assert.deepEqual(shape(timeline), [
    "s:accepted@c/0/1",
    "v5:accepted",
    "v8:accepted",
    "v9:accepted,quarantined",
    "s:deleted@c/0/10",
    "s:quarantined@engine",
  ]);
});

test("versions are in offset order within a partition whatever their timestamps, and across partitions by time", () => {
  const skewed = mergeTimeline(
    4711,
    [
      version(1, { timestamp: "2026-12-01T09:00:00.000Z" }),
      version(0, { timestamp: "2026-12-01T11:00:00.000Z" }),
      version(0, { partition: 2, source: "c/2/0", timestamp: "2026-12-01T12:00:00.000Z" }),
    ],
    [],
  );
  assert.deepEqual(
    skewed.map((e) => (e.kind === "version" ? e.source : "")),
    ["c/0/0", "c/0/1", "c/2/0"],
  );
  assert.deepEqual(mergeTimeline(4711, [], []), []);
});

test("status records are read only when they are one: JSON objects with a status and a source", () => {
  assert.equal(statusOf(null), null);
  assert.equal(statusOf(Buffer.from("")), null);
  assert.equal(statusOf(Buffer.from("nope")), null);
  assert.equal(statusOf(Buffer.from('{"status":"accepted"}')), null);
  assert.equal(statusOf(Buffer.from("[1]")), null);
  assert.deepEqual(statusOf(Buffer.from('{"campaign_id":1,"status":"deleted","source":"c/0/1","at":"x"}')), {
    campaign_id: 1,
    status: "deleted",
    source: "c/0/1",
    at: "x",
  });
});

test("the history table: one row per version, further status records below it, '-' where nothing was stamped", () => {
  const text = historyTable({
    campaign_id: 4711,
    campaign_topic: "c",
    status_topic: "s",
    timeline: [status("c/0/1", "accepted", 1, { written_by: "carol", written_via: "ui" })]
      .map((s): TimelineEntry => ({ kind: "status", status: s }))
      .concat([
        version(2, {
          written_by: "alice@box",
          written_via: "cli",
          version: "0123456789abcdef",
          statuses: [status("c/0/2", "accepted", 2), status("c/0/2", "accepted", 7)],
        }),
        version(3, { statuses: [status("c/0/3", "rejected", 3, { reasons: ["a", "b"] })] }),
        version(4, { record: "deleted" }),
      ]),
  });
  const lines = text.trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^OFFSET +TIME +RECORD +AUTHOR +VIA +VERSION +STATUS +STATUS_AT +REASONS$/);
  assert.match(lines[1] ?? "", /^1 +- +\(compacted\) +carol +ui +- +accepted +2026-12-01T10:01:00.000Z +-$/);
  assert.match(
    lines[2] ?? "",
    /^2 +2026-12-01T10:02:00.000Z +put +alice@box +cli +0123456789ab +accepted +2026-12-01T10:02:00.000Z +-$/,
  );
  assert.match(lines[3] ?? "", /^ +accepted +2026-12-01T10:07:00.000Z +-$/);
  assert.match(lines[4] ?? "", /^3 +2026-12-01T10:03:00.000Z +put +- +- +- +rejected +\S+ +a; b$/);
  assert.match(
    lines[5] ?? "",
    /^4 +2026-12-01T10:04:00.000Z +deleted +- +- +- +- +- +no status record \(yet\)$/,
  );
  assert.equal(lines.length, 6);
});
