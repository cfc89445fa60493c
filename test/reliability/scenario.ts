// What the reliability scenarios share: a stream of events with known expected triggers (from the pure
// evaluation function), and the check of a trigger topic against them, reported per scenario.
import assert from "node:assert/strict";
import { SEED_EVENT_JSON } from "../fixtures/seed.js";
import { Reference } from "../helpers/expected.js";
import { consumeUntil, produce, readToEnd, triggerKey, type Received } from "../helpers/kafka.js";

const DAY = 86_400_000;

export interface Stream {
  readonly campaigns: Record<string, unknown>[];
  readonly events: { partition: number; value: string }[];
  /** "<campaign id>:<event_id>" of every trigger the events must cause. */
  readonly expected: Set<string>;
}

/** `total` events spread round-robin over `partitions`, and two campaigns matching about 2/3 of them. */
export function makeStream(total: number, partitions: number, idPrefix = "ev"): Stream {
  const window = {
    start_date: new Date(Date.now() - DAY).toISOString(),
    end_date: new Date(Date.now() + DAY).toISOString(),
  };
  const campaigns = [
    {
      campaign_id: 1,
      enabled: true,
      game: "foe",
      event_name: "fight",
      ...window,
      filter: "function(e) { return e.getData().get('n') % 2 === 0 }",
    },
    {
      campaign_id: 2,
      enabled: true,
      game: "foe",
      event_name: "fight",
      ...window,
      filter: "(e) => e.data.n % 3 === 0",
    },
  ];
  const events = Array.from({ length: total }, (_, n) => ({
    partition: n % partitions,
    value: JSON.stringify({
      ...(JSON.parse(SEED_EVENT_JSON) as object),
      event_id: `${idPrefix}-${n}`,
      player_id: n,
      data: { n },
    }),
  }));
  const reference = new Reference(campaigns);
  const now = Date.now();
  const expected = new Set(
    events.flatMap((e, n) => reference.matches(e.value, now).map((id) => `${id}:${idPrefix}-${n}`)),
  );
  return { campaigns, events, expected };
}

export async function putCampaigns(topic: string, campaigns: Record<string, unknown>[]): Promise<void> {
  await produce(
    topic,
    campaigns.map((c) => ({ key: String(c.campaign_id), value: JSON.stringify(c) })),
  );
}

/** Resolves once every expected trigger is on `topic` (read_committed), or rejects after `timeoutMs`. */
export async function waitForAll(topic: string, expected: Set<string>, timeoutMs = 180_000): Promise<void> {
  const found = new Set<string>();
  let scanned = 0;
  await consumeUntil(
    [topic],
    (r) => {
      for (; scanned < r.length; scanned++) {
        const k = triggerKey(r[scanned] as Received);
        if (expected.has(k)) found.add(k);
      }
      return found.size === expected.size;
    },
    timeoutMs,
  );
}

export interface Tally {
  readonly sent: number;
  readonly expected: number;
  readonly found: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly unexpected: number;
}

/**
 * Reads the whole trigger topic (writers must have stopped) as a read_committed consumer, states the
 * scenario's tally in the test output, and asserts: nothing missing, nothing unexpected, duplicates sharing
 * their twin's trigger id, and no duplicate at all when `exactlyOnce`.
 */
export async function checkTriggers(
  t: { diagnostic(message: string): void },
  scenario: string,
  topic: string,
  stream: Stream,
  options: { exactlyOnce?: boolean; sent?: number } = {},
): Promise<Tally> {
  const got = await readToEnd(topic);
  const ids = new Map<string, Set<string>>();
  for (const r of got) {
    const k = triggerKey(r);
    ids.set(k, (ids.get(k) ?? new Set()).add(r.headers["rtcrm-trigger-id"] ?? ""));
  }
  const missing = [...stream.expected].filter((k) => !ids.has(k));
  const unexpected = [...ids.keys()].filter((k) => !stream.expected.has(k));
  const tally: Tally = {
    sent: options.sent ?? stream.events.length,
    expected: stream.expected.size,
    found: ids.size,
    missing: missing.length,
    duplicates: got.length - ids.size,
    unexpected: unexpected.length,
  };
  const line =
    `${scenario}: events sent ${tally.sent}, triggers expected ${tally.expected}, found ${tally.found}, ` +
    `missing ${tally.missing}, duplicates ${tally.duplicates}, unexpected ${tally.unexpected}`;
  t.diagnostic(line);
  process.stdout.write(`# ${line}\n`);
  assert.deepEqual(missing.slice(0, 10), [], `${scenario}: triggers missing`);
  assert.deepEqual(unexpected.slice(0, 10), [], `${scenario}: triggers nobody expected`);
  for (const [k, set] of ids) assert.equal(set.size, 1, `${k}: duplicates carry different trigger ids`);
  if (options.exactlyOnce) assert.equal(tally.duplicates, 0, `${scenario}: duplicates in exactly-once mode`);
  return tally;
}
