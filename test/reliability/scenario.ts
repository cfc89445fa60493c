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

/** A campaign on game foe matching when `filter` says so, active from yesterday to tomorrow. */
export function campaign(campaignId: number, eventName: string, filter: string): Record<string, unknown> {
  return {
    campaign_id: campaignId,
    enabled: true,
    game: "foe",
    event_name: eventName,
    start_date: new Date(Date.now() - DAY).toISOString(),
    end_date: new Date(Date.now() + DAY).toISOString(),
    filter,
  };
}

/** Two campaigns on "fight" events, matching about 2/3 of them. */
export const FIGHT_CAMPAIGNS = [
  campaign(1, "fight", "function(e) { return e.getData().get('n') % 2 === 0 }"),
  campaign(2, "fight", "(e) => e.data.n % 3 === 0"),
];

/**
 * `total` events spread round-robin over `partitions` (event_id `<idPrefix>-<n>`, data.n = n, event name
 * from `eventName`), and the triggers `campaigns` must cause for them.
 */
export function makeStream(
  total: number,
  partitions: number,
  idPrefix = "ev",
  campaigns: Record<string, unknown>[] = FIGHT_CAMPAIGNS,
  eventName: (n: number) => string = () => "fight",
): Stream {
  const events = Array.from({ length: total }, (_, n) => ({
    partition: n % partitions,
    value: JSON.stringify({
      ...(JSON.parse(SEED_EVENT_JSON) as object),
      event_name: eventName(n),
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

/** Both streams, as one: what the trigger topic must hold after both were sent. */
export function concat(a: Stream, b: Stream): Stream {
  return {
    campaigns: [...a.campaigns, ...b.campaigns],
    events: [...a.events, ...b.events],
    expected: new Set([...a.expected, ...b.expected]),
  };
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
