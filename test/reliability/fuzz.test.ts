// Hostile input: fast-check generates malformed and odd-but-valid event and campaign records (random bytes,
// invalid UTF-8, wrong types, 900 KB values, 10,000 levels of nesting, lone surrogates, duplicate keys,
// integers beyond 2^53, empty values, missing fields, record keys that are not the campaign id), produced to
// one running engine. Then: the engine still runs and stops cleanly; every malformed event is on the
// dead-letter topic and every invalid campaign rejected on the status topic, none missing; the valid events
// caused exactly the triggers the reference computes, and none of them was dead-lettered.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { engineFixture } from "../helpers/engine-process.js";
import { consumeUntil, kafka, produce, readToEnd, type Received } from "../helpers/kafka.js";
import {
  badCampaigns,
  badEvents,
  deepFilterCampaigns,
  goodCampaign,
  goodEvents,
  matchingCampaign,
  ROUTES,
  type CampaignCase,
  type EventCase,
  type RenderedCampaign,
} from "./fuzz-records.js";
import { campaign, checkTriggers, type Stream } from "./scenario.js";

const SEED = Number(process.env.RTCRM_FUZZ_SEED ?? 20_251_106);
const PARTITIONS = 3;
/** Records per kind; the expensive kinds (600 KB, 900 KB, 10,000 levels) fewer. */
const runsFor = (kind: string): number =>
  /600 KB/.test(kind) ? 1 : /900 KB/.test(kind) ? 2 : /10000 levels/.test(kind) ? 3 : 20;
const ID_HEADER = "fuzz-id";

/** Campaigns 1-8 stay; 9-11 are written valid, then removed by a later record; generated ones follow from 100. */
const STAYING = [
  campaign(1, "fight", "function(e) { return e.getData().get('n') % 2 === 0 }"),
  campaign(2, "fight", "(e) => e.data.n % 3 === 0 || typeof e.data.big === 'bigint'"),
  campaign(3, "fight", "(e) => String(e.getPlayerId()).length >= 17"),
  { ...campaign(4, "x", "(e) => true"), ...ROUTES.unicode },
  { ...campaign(5, "fight", "(e) => true"), enabled: false },
  campaign(6, "deep", "(e) => e.getEventName() === 'deep'"),
  campaign(7, "deep", "(e) => e.getData().get('deep') !== null"),
  campaign(8, "fight", "(e) => Object.keys(e.data).length > 2"),
];

interface CampaignRecord extends RenderedCampaign {
  readonly case: CampaignCase;
}

const fixedCase = (kind: string, expect: CampaignCase["expect"], reasons: RegExp[]): CampaignCase => ({
  kind,
  expect,
  reasons,
  render: () => {
    throw new Error("fixed records are rendered by the test");
  },
});

/** Valid campaigns, each followed by a record that must remove it again (README: last write wins). */
function shadowed(): CampaignRecord[] {
  const valid = (id: number): CampaignRecord => ({
    case: fixedCase("valid, removed later", "accepted", []),
    key: String(id),
    value: Buffer.from(JSON.stringify(matchingCampaign(id))),
  });
  return [
    valid(9),
    valid(10),
    valid(11),
    {
      case: fixedCase("invalid record of a valid campaign", "rejected", [/enabled must be true or false/]),
      key: "9",
      value: Buffer.from(JSON.stringify({ ...matchingCampaign(9), enabled: "yes" })),
    },
    { case: fixedCase("tombstone", "deleted", []), key: "10", value: null },
    {
      case: fixedCase("valid campaign under the key of another", "rejected", [
        /does not match campaign_id 5011/,
      ]),
      key: "11",
      value: Buffer.from(JSON.stringify(matchingCampaign(5011))),
    },
  ];
}

function sampleAll<T>(arbitraries: Record<string, fc.Arbitrary<T>>, seedOffset: number): T[] {
  return Object.entries(arbitraries).flatMap(([kind, arb], i) =>
    fc.sample(arb, { seed: SEED + seedOffset + i, numRuns: runsFor(kind) }),
  );
}

/**
 * The reference's matches per event, computed in a worker with a large stack: the definition must not be
 * limited by the host's stack depth (on the main thread JSON.stringify fails at 10,000 levels).
 */
function referenceMatches(campaigns: Record<string, unknown>[], events: string[]): Promise<number[][]> {
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     import(workerData.module).then(({ Reference }) => {
       const reference = new Reference(workerData.campaigns);
       parentPort.postMessage(workerData.events.map((e) => reference.matches(e, Date.now())));
     });`,
    {
      eval: true,
      workerData: { module: new URL("../helpers/expected.js", import.meta.url).href, campaigns, events },
      resourceLimits: { stackSizeMb: 64 },
    },
  );
  return new Promise<number[][]>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`reference worker exited with ${code}`)));
  }).finally(() => void worker.terminate());
}

/** Resolves once the engine's group has committed every partition up to `ends` (all events processed). */
async function waitForCommitted(
  groupId: string,
  topic: string,
  ends: Map<number, number>,
  timeoutMs: number,
) {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const behind = [...ends].filter(
        ([p, end]) => Number(offsets?.partitions.find((x) => x.partition === p)?.offset ?? -1) < end,
      );
      if (behind.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`events not all committed within ${timeoutMs} ms: ${JSON.stringify(offsets)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect();
  }
}

/** A short, printable view of a record value for failure messages. */
function preview(value: Buffer | null): string {
  if (value === null) return "null";
  const s = JSON.stringify(value.subarray(0, 160).toString());
  return `${value.length} bytes ${s}${value.length > 160 ? "…" : ""}`;
}

const asText = (value: Buffer | string | null | undefined): string =>
  value === null || value === undefined ? "" : value.toString();

interface StatusRecord {
  campaign_id: number | null;
  status: string;
  reasons?: string[];
  source: string;
}

/** Where the event records landed (by their id header). */
interface Placement {
  /** "partition/offset" to event index. */
  readonly at: Map<string, number>;
  readonly source: Map<number, string>;
  /** The key as stored (the test's producer cuts a string key at its first NUL): what a dead letter keeps. */
  readonly key: Map<number, string | null>;
}

interface SentEvent {
  readonly case: EventCase;
  readonly value: Buffer | null;
}

interface Checked {
  readonly problems: string[];
  /** Per kind of bad record: sent, found where it belongs. */
  readonly tally: Map<string, [number, number]>;
}

/** Every malformed event once on the dead-letter topic, as received and with a fitting reason; no valid one. */
async function checkDeadLetters(
  topic: string,
  eventTopic: string,
  events: readonly SentEvent[],
  placed: Placement,
): Promise<Checked> {
  const bySource = new Map<string, Received[]>();
  for (const r of await readToEnd(topic)) {
    const source = `${r.headers["rtcrm-dlq-source-partition"]}/${r.headers["rtcrm-dlq-source-offset"]}`;
    bySource.set(source, [...(bySource.get(source) ?? []), r]);
  }
  const problems: string[] = [];
  const tally = new Map<string, [number, number]>();
  for (const [i, e] of events.entries()) {
    if (e.case.reasons.length === 0) continue;
    const source = placed.source.get(i) ?? "?";
    const label = `${e.case.kind} #${i} (${source}, ${preview(e.value)})`;
    const counts = tally.get(e.case.kind) ?? [0, 0];
    tally.set(e.case.kind, counts);
    counts[0]++;
    const got = bySource.get(source) ?? [];
    if (got.length === 0) problems.push(`${label}: not on the dead-letter topic`);
    else counts[1]++;
    for (const r of got) {
      const reason = r.headers["rtcrm-dlq-reason"] ?? "";
      if (reason === "" || !e.case.reasons.every((re) => re.test(reason)))
        problems.push(
          `${label}: reason ${JSON.stringify(reason)} does not match ${e.case.reasons.join(", ")}`,
        );
      if (r.headers["rtcrm-dlq-source-topic"] !== eventTopic)
        problems.push(`${label}: source topic ${r.headers["rtcrm-dlq-source-topic"]}`);
      if (r.headers[ID_HEADER] !== String(i)) problems.push(`${label}: the original headers are not kept`);
      if (asText(r.value) !== asText(e.value)) problems.push(`${label}: the value is not the original`);
      // Found by this test: an empty, non-null key came out as a null key.
      if (r.key !== placed.key.get(i))
        problems.push(
          `${label}: key ${JSON.stringify(r.key)}, the original ${JSON.stringify(placed.key.get(i))}`,
        );
    }
  }
  for (const [source, got] of bySource) {
    const i = placed.at.get(source);
    const e = i === undefined ? undefined : events[i];
    if (!e || e.case.reasons.length === 0)
      problems.push(
        `dead-lettered but valid: ${e?.case.kind} #${i} (${source}, ${preview(e?.value ?? null)}): ` +
          got[0]?.headers["rtcrm-dlq-reason"],
      );
  }
  return { problems, tally };
}

/** Every campaign record answered on the status topic as expected: invalid ones rejected with their reasons. */
async function checkStatuses(
  topic: string,
  records: readonly CampaignRecord[],
  campaignAt: Map<string, number>,
): Promise<Checked> {
  const bySource = new Map<string, StatusRecord[]>();
  for (const r of await readToEnd(topic)) {
    const s = JSON.parse(r.value ?? "{}") as StatusRecord;
    bySource.set(s.source, [...(bySource.get(s.source) ?? []), s]);
  }
  const problems: string[] = [];
  const tally = new Map<string, [number, number]>();
  for (const [source, i] of campaignAt) {
    const record = records[i];
    if (!record) continue;
    const { kind, expect, reasons } = record.case;
    const label = `campaign ${kind} #${i} (${source}, key ${JSON.stringify(record.key)}, ${preview(record.value)})`;
    const got = bySource.get(source) ?? [];
    if (expect === "rejected") {
      const counts = tally.get(kind) ?? [0, 0];
      tally.set(kind, counts);
      counts[0]++;
      if (got.some((s) => s.status === "rejected")) counts[1]++;
    }
    if (got.length === 0) problems.push(`${label}: no status record`);
    for (const s of got) {
      const fits =
        expect === "accepted-or-rejected"
          ? s.status === "accepted" || (s.status === "rejected" && (s.reasons ?? []).length > 0)
          : s.status === expect &&
            (expect !== "rejected" || (s.reasons ?? []).length > 0) &&
            reasons.every((re) => (s.reasons ?? []).some((x) => re.test(x)));
      if (!fits)
        problems.push(
          `${label}: expected ${expect} ${reasons.join(", ")}, got ${s.status} ${JSON.stringify(s.reasons ?? []).slice(0, 300)}`,
        );
    }
  }
  for (const source of bySource.keys())
    if (!campaignAt.has(source)) problems.push(`a status record for an unknown source ${source}`);
  return { problems, tally };
}

/** Fatal and error lines of the engine log, counted by message (a stuck record repeats its line every second). */
function summariseErrors(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of lines.filter((l) => /^fatal|"level":"(error|fatal)"/.test(l))) {
    let entry: Record<string, unknown> = { msg: line };
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      // A long line arrives in pieces: keep its start.
    }
    const what = `${String(entry.msg).slice(0, 200)} ${entry.topic ?? ""} ${String(entry.error ?? "").slice(0, 100)}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return [...counts].map(([what, count]) => `${count} x ${what}`);
}

test("hostile event and campaign records: malformed ones dead-lettered or rejected, none missing; valid ones trigger exactly as the reference says; the engine keeps running", async (t) => {
  t.diagnostic(`fast-check seed ${SEED} (set RTCRM_FUZZ_SEED to replay another)`);
  process.stdout.write(`# fast-check seed ${SEED}\n`);

  // --- Campaigns: valid ones (fixed and generated), then invalid ones; half of the invalid ones written live.
  const generatedGood = fc
    .sample(goodCampaign, { seed: SEED, numRuns: 12 })
    .map((c, i): CampaignRecord => ({ case: c, ...c.render(100 + i) }));
  const badCampaignRecords = sampleAll(badCampaigns, 100).map((c, i): CampaignRecord => ({
    case: c,
    ...c.render(1000 + i),
  }));
  const deepFilterRecords = sampleAll(deepFilterCampaigns, 200).map((c, i): CampaignRecord => ({
    case: c,
    ...c.render(2000 + i),
  }));
  const fixedGood = STAYING.map((c): CampaignRecord => ({
    case: fixedCase("valid", "accepted", []),
    key: String(c.campaign_id),
    value: Buffer.from(JSON.stringify(c)),
  }));
  const [badOrder] = fc.sample(
    fc.shuffledSubarray(badCampaignRecords, {
      minLength: badCampaignRecords.length,
      maxLength: badCampaignRecords.length,
    }),
    { seed: SEED, numRuns: 1 },
  );
  const shuffledBad = badOrder ?? badCampaignRecords;
  const half = Math.ceil(shuffledBad.length / 2);
  const beforeStart = [...fixedGood, ...generatedGood, ...shadowed(), ...shuffledBad.slice(0, half)];
  const live = [...shuffledBad.slice(half), ...deepFilterRecords];
  const campaignRecords = [...beforeStart, ...live];
  const activeCampaigns = [
    ...STAYING,
    ...generatedGood.map((r) => r.campaign).filter((c): c is Record<string, unknown> => c !== undefined),
  ];

  // --- Events: valid and malformed ones interleaved, round robin over the partitions.
  const cases = [...sampleAll(goodEvents, 0), ...sampleAll(badEvents, 50)];
  const [order] = fc.sample(
    fc.shuffledSubarray(cases, { minLength: cases.length, maxLength: cases.length }),
    {
      seed: SEED + 1,
      numRuns: 1,
    },
  );
  const events = (order ?? cases).map((c: EventCase, i) => ({
    case: c,
    partition: i % PARTITIONS,
    key: c.key,
    value: c.render(`fz-${i}`),
    headers: { [ID_HEADER]: String(i) },
  }));
  const good = events.filter((e) => e.case.reasons.length === 0);

  const matches = await referenceMatches(
    activeCampaigns,
    good.map((e) => asText(e.value)),
  );
  const stream: Stream = {
    campaigns: activeCampaigns,
    events: good.map((e) => ({ partition: e.partition, value: asText(e.value) })),
    expected: new Set(
      good.flatMap((e, i) => (matches[i] ?? []).map((id) => `${id}:fz-${events.indexOf(e)}`)),
    ),
  };

  // A 900 KB event against a dozen filters takes a while on a loaded machine: the watchdog is not under test.
  const { topics, config, start } = await engineFixture(
    t,
    "fuzz",
    { batch_size: 32, watchdog_ms: 20_000, shutdown_timeout_ms: 15_000 },
    PARTITIONS,
  );
  const toCampaignRecord = (r: CampaignRecord, i: number) => ({
    key: r.key,
    value: r.value,
    headers: { [ID_HEADER]: String(i) },
  });
  await produce(topics.campaign_topic, beforeStart.map(toCampaignRecord));
  const engine = await start();
  const firstHalf = Math.ceil(events.length / 2);
  await produce(topics.event_topic, events.slice(0, firstHalf));
  await produce(
    topics.campaign_topic,
    live.map((r, i) => toCampaignRecord(r, beforeStart.length + i)),
  );
  await produce(topics.event_topic, events.slice(firstHalf));

  // Where each record landed, by the id header: dead letters and statuses name their source by offset.
  const placed: Placement = { at: new Map(), source: new Map(), key: new Map() };
  const ends = new Map<number, number>();
  for (const r of await readToEnd(topics.event_topic)) {
    const i = Number(r.headers[ID_HEADER]);
    placed.at.set(`${r.partition}/${r.offset}`, i);
    placed.source.set(i, `${r.partition}/${r.offset}`);
    placed.key.set(i, r.key);
    ends.set(r.partition, Math.max(ends.get(r.partition) ?? 0, r.offset + 1));
  }
  const campaignAt = new Map<string, number>();
  for (const r of await readToEnd(topics.campaign_topic))
    campaignAt.set(`${r.topic}/${r.partition}/${r.offset}`, Number(r.headers[ID_HEADER]));
  assert.equal(placed.at.size, events.length, "every event record is on the events topic");
  assert.equal(campaignAt.size, campaignRecords.length, "every campaign record is on the campaign topic");

  // Committed offsets at the end: every event processed, its triggers and dead letter acknowledged.
  await waitForCommitted(config.kafka_group_id, topics.event_topic, ends, 180_000);
  const sourceOfStatus = (r: Received) => (JSON.parse(r.value ?? "{}") as StatusRecord).source;
  await consumeUntil(
    [topics.campaign_status_topic],
    (got) => new Set(got.map(sourceOfStatus).filter((s) => campaignAt.has(s))).size >= campaignAt.size,
    60_000,
  ).catch((error: Error) => t.diagnostic(`status topic incomplete: ${error.message.slice(0, 300)}`));

  // --- The engine survived all of it (asserted at the end, after every tally is printed).
  const runningAtEnd = engine.child.exitCode === null && engine.child.signalCode === null;
  const exitCode = await engine.stop();
  const errorLines = summariseErrors(engine.lines);
  const deadLetters = await checkDeadLetters(topics.dead_letter_topic, topics.event_topic, events, placed);
  const statuses = await checkStatuses(topics.campaign_status_topic, campaignRecords, campaignAt);

  // --- The tallies, then the verdicts.
  const sum = (m: Map<string, [number, number]>) =>
    [...m.values()].reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
  const [badSent, badDeadLettered] = sum(deadLetters.tally);
  const [badCampaignsSent, badCampaignsRejected] = sum(statuses.tally);
  const lines = [
    `fuzz: bad events sent ${badSent}, on the dead-letter topic ${badDeadLettered}; good events sent ${good.length}`,
    ...[...deadLetters.tally].map(
      ([kind, [s, f]]) => `fuzz:   bad events "${kind}": sent ${s}, dead-lettered ${f}`,
    ),
    `fuzz: bad campaigns sent ${badCampaignsSent}, rejected ${badCampaignsRejected}; campaign records in all ${campaignRecords.length}`,
    ...[...statuses.tally].map(
      ([kind, [s, f]]) => `fuzz:   bad campaigns "${kind}": sent ${s}, rejected ${f}`,
    ),
  ];
  for (const line of lines) {
    t.diagnostic(line);
    process.stdout.write(`# ${line}\n`);
  }
  for (const p of [...deadLetters.problems, ...statuses.problems].slice(0, 20)) t.diagnostic(`problem: ${p}`);
  for (const l of errorLines) t.diagnostic(`engine log: ${l}`);

  assert.ok(runningAtEnd, "the engine is still running after all records");
  await checkTriggers(t, `fuzz, seed ${SEED}`, topics.trigger_topic, stream, { sent: events.length });
  assert.deepEqual(deadLetters.problems.slice(0, 10), [], "dead-letter topic");
  assert.deepEqual(statuses.problems.slice(0, 10), [], "status topic");
  assert.deepEqual(errorLines, [], "no fatal or error line in the engine log");
  assert.equal(exitCode, 0, "the engine exits 0 on SIGTERM");
});
