// Delivery rules under crashes and rebalances (issue 15): a lifetime cap ({"max":1}) and a cap per period
// ({"max":3,"period":"PT1H"}) on every event of many players, each player with more events than the caps allow, the
// events spread over the whole stream so that crashes land between a player's events. Engines run as child processes
// and are killed with SIGKILL in the middle of their work. Once every event is processed, the trigger topic is read
// as a read_committed consumer: each player must hold exactly min(events, max) triggers per capped campaign, and one
// per matching event of a campaign without rules. At-least-once mode may send a retried event's triggers again, with
// the same trigger id: at least those counts, and exactly those once de-duplicated by trigger id.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import rdkafka from "@confluentinc/kafka-javascript";
import { returnReadyRecords } from "../../src/kafka/consumer-util.js";
import { SEED_EVENT_JSON } from "../fixtures/seed.js";
import { campaign } from "../helpers/campaigns.js";
import { engineFixture, type EngineProcess } from "../helpers/engine-process.js";
import {
  bootstrapServers,
  produce,
  readToEnd,
  within,
  type OutRecord,
  type Received,
} from "../helpers/kafka.js";
import { putCampaigns } from "./scenario.js";

type Delivery = "at-least-once" | "exactly-once";
type After = { after(fn: () => Promise<void>): void };
type Diagnose = { diagnostic(message: string): void };

const ONCE = 31;
const PER_HOUR = 32;
const NO_RULES = 33;
const PER_HOUR_MAX = 3;
const CAMPAIGNS = [
  campaign(ONCE, "(e) => e.data.n >= 0", { frequency_cap: { max: 1 } }),
  campaign(PER_HOUR, "(e) => e.data.n >= 0", { frequency_cap: { max: PER_HOUR_MAX, period: "PT1H" } }),
  // No rules: one trigger per matching event, exactly once (in exactly-once mode).
  campaign(NO_RULES, "(e) => e.data.n % 2 === 0"),
];

/** Player i gets 1 + (i mod MOST_EVENTS) events. */
const MOST_EVENTS = 10;

interface Workload {
  /** Event n (data.n = n) is the n-th sent: players in rounds, so that a player's events spread over the stream. */
  readonly events: readonly { readonly player: string; readonly value: string }[];
  /** Triggers each "<player>/<campaign>" must get in the end (0 included). */
  readonly expected: ReadonlyMap<string, number>;
  readonly total: number;
}

function workload(prefix: string, players: number): Workload {
  const eventsOf = (i: number): number => 1 + (i % MOST_EVENTS);
  const events: { player: string; value: string }[] = [];
  const now = new Date().toISOString();
  for (let round = 0; round < MOST_EVENTS; round++)
    for (let i = 0; i < players; i++) {
      if (round >= eventsOf(i)) continue;
      const n = events.length;
      const player = `${prefix}${i}`;
      events.push({
        player,
        value: JSON.stringify({
          ...(JSON.parse(SEED_EVENT_JSON) as object),
          event_id: `${prefix}-${n}`,
          player_id: player,
          created_at: now,
          data: { n },
        }),
      });
    }
  const expected = new Map<string, number>();
  for (let i = 0; i < players; i++) {
    const player = `${prefix}${i}`;
    expected.set(`${player}/${ONCE}`, 1);
    expected.set(`${player}/${PER_HOUR}`, Math.min(eventsOf(i), PER_HOUR_MAX));
    expected.set(`${player}/${NO_RULES}`, 0);
  }
  for (const [n, e] of events.entries()) {
    const k = `${e.player}/${NO_RULES}`;
    if (n % 2 === 0) expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  let total = 0;
  for (const n of expected.values()) total += n;
  return { events, expected, total };
}

/** The events [from, to) as records: keyed by player, or without a key and round-robin over the partitions. */
function records(w: Workload, from: number, to: number, keyed: boolean, partitions: number): OutRecord[] {
  return w.events
    .slice(from, to)
    .map((e, i) =>
      keyed ? { key: e.player, value: e.value } : { partition: (from + i) % partitions, value: e.value },
    );
}

async function connect(consumer: rdkafka.KafkaConsumer): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
  );
}

function partitionsOf(consumer: rdkafka.KafkaConsumer, topic: string): Promise<number[]> {
  return new Promise((resolve, reject) =>
    consumer.getMetadata({ topic, timeout: 10_000 }, (err, md) =>
      err ? reject(err) : resolve(md.topics.find((x) => x.name === topic)?.partitions.map((p) => p.id) ?? []),
    ),
  );
}

/**
 * Follows the trigger topic from its beginning outside any consumer group (assigned: no join to wait for) and notes
 * the event (data.n) of each trigger it sees: as read_committed, what consumers get; as read_uncommitted, also what
 * is in open (or aborted) transactions, i.e. what an engine has written so far.
 */
class TriggerWatch {
  /** The event (data.n) and campaign of each trigger seen, with repeats. */
  readonly triggers: { n: number; campaign: number }[] = [];
  readonly #consumer: rdkafka.KafkaConsumer;
  readonly #loop: Promise<void>;
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(consumer: rdkafka.KafkaConsumer) {
    this.#consumer = consumer;
    this.#loop = this.#run();
  }

  static async open(t: After, topic: string, isolation: "read_committed" | "read_uncommitted") {
    const consumer = new rdkafka.KafkaConsumer(
      {
        "bootstrap.servers": bootstrapServers,
        "group.id": `test-watch-${topic}-${isolation}`,
        "enable.auto.commit": false,
        "isolation.level": isolation,
        "fetch.wait.max.ms": 20,
        log_level: 3,
      },
      {},
    );
    await connect(consumer);
    const partitions = await partitionsOf(consumer, topic);
    consumer.assign(partitions.map((partition) => ({ topic, partition, offset: 0 })));
    // Each consume call returns what is there as soon as one record is, instead of gathering for a second.
    returnReadyRecords(consumer, 50);
    const watch = new TriggerWatch(consumer);
    t.after(() => watch.close());
    return watch;
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      const batch = await new Promise<rdkafka.Message[]>((resolve) =>
        this.#consumer.consume(500, (err, messages) => resolve(err ? [] : messages)),
      );
      for (const m of batch) {
        const { event, campaign } = JSON.parse(m.value?.toString() ?? "{}") as {
          event: { data: { n: number } };
          campaign: { campaign_id: number };
        };
        this.triggers.push({ n: event.data.n, campaign: campaign.campaign_id });
      }
      if (batch.length > 0) for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /** Triggers seen of the events [from, to) (only those of capped campaigns when `capped`). */
  of(from: number, to: number, capped = false): number {
    return this.triggers.filter((x) => x.n >= from && x.n < to && (!capped || x.campaign !== NO_RULES))
      .length;
  }

  /** Resolves once a trigger of an event in [from, to) is seen; rejects after `timeoutMs` saying `what`. */
  async anyOf(from: number, to: number, capped: boolean, what: string, timeoutMs = 120_000): Promise<void> {
    const wait = async (): Promise<void> => {
      while (this.of(from, to, capped) === 0)
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
    };
    await within(timeoutMs, what, wait());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#loop;
    await new Promise<void>((resolve) => this.#consumer.disconnect(() => resolve()));
  }
}

type TopicPartition = { topic: string; partition: number };

function end(consumer: rdkafka.KafkaConsumer, { topic, partition }: TopicPartition): Promise<number> {
  return new Promise((resolve, reject) =>
    consumer.queryWatermarkOffsets(topic, partition, 10_000, (err, o) =>
      err ? reject(err) : resolve(o.highOffset),
    ),
  );
}

/**
 * Whether the engines have processed everything sent so far and no transaction is left open (a killed instance's
 * stays open until the broker aborts it after transaction.timeout.ms; until then read_committed consumers stop before
 * it): the consumer group's committed offsets are the ends of the events topic (sent by the test, no transactions);
 * past them, the repartition topic holds no committed record (the markers of transactions follow the last record, so
 * its end is not the committed offset); the trigger and internal topics' last stable offsets are their ends. Asks
 * without joining the group (a read_committed consumer's end of a partition is its last stable offset).
 */
class GroupProgress {
  readonly #committed: rdkafka.KafkaConsumer;
  readonly #uncommitted: rdkafka.KafkaConsumer;
  readonly #events: TopicPartition[];
  readonly #repartition: TopicPartition[];
  readonly #transactional: TopicPartition[];

  private constructor(
    consumers: [rdkafka.KafkaConsumer, rdkafka.KafkaConsumer],
    events: TopicPartition[],
    repartition: TopicPartition[],
    transactional: TopicPartition[],
  ) {
    [this.#committed, this.#uncommitted] = consumers;
    this.#events = events;
    this.#repartition = repartition;
    this.#transactional = transactional;
  }

  static async open(
    t: After,
    group: string,
    topics: { event_topic: string; trigger_topic: string },
    keyed: boolean,
  ): Promise<GroupProgress> {
    const consumer = (
      isolation: "read_committed" | "read_uncommitted",
      groupId: string,
    ): rdkafka.KafkaConsumer =>
      new rdkafka.KafkaConsumer(
        {
          "bootstrap.servers": bootstrapServers,
          "group.id": groupId,
          "enable.auto.commit": false,
          "enable.auto.offset.store": false,
          "enable.partition.eof": true,
          "isolation.level": isolation,
          "fetch.wait.max.ms": 20,
          log_level: 3,
        },
        { "auto.offset.reset": "earliest" },
      );
    // The group's own id, to read its committed offsets (it never subscribes, so it never joins).
    const committed = consumer("read_committed", group);
    const uncommitted = consumer("read_uncommitted", `test-progress-${group}`);
    for (const c of [committed, uncommitted]) {
      await connect(c);
      t.after(() => new Promise<void>((resolve) => c.disconnect(() => resolve())));
    }
    returnReadyRecords(committed, 50);
    const of = async (...names: string[]): Promise<TopicPartition[]> => {
      const out: TopicPartition[] = [];
      for (const topic of names)
        for (const partition of await partitionsOf(committed, topic)) out.push({ topic, partition });
      return out;
    };
    const repartition = keyed ? [] : await of(`${group}-rules-repartition`);
    return new GroupProgress([committed, uncommitted], await of(topics.event_topic), repartition, [
      ...repartition,
      ...(await of(topics.trigger_topic, `${group}-rules-changelog`)),
    ]);
  }

  async idle(): Promise<boolean> {
    for (const tp of this.#transactional)
      if ((await end(this.#committed, tp)) !== (await end(this.#uncommitted, tp))) return false;
    const offsets = await new Promise<rdkafka.TopicPartitionOffset[]>((resolve, reject) =>
      this.#committed.committed([...this.#events, ...this.#repartition], 10_000, (err, tps) =>
        err ? reject(err) : resolve(tps),
      ),
    );
    const committed = new Map(offsets.map((o) => [`${o.topic}/${o.partition}`, o.offset]));
    const committedOf = (tp: TopicPartition): number => committed.get(`${tp.topic}/${tp.partition}`) ?? -1;
    for (const tp of this.#events) {
      const last = await end(this.#uncommitted, tp);
      if (last > 0 && committedOf(tp) !== last) return false;
    }
    // Repartition partitions with something (records or markers) past the committed offset: read it.
    const toRead = new Map<number, number>();
    for (const tp of this.#repartition) {
      const last = await end(this.#committed, tp);
      if (committedOf(tp) < last) toRead.set(tp.partition, last);
    }
    if (toRead.size === 0) return true;
    const topic = this.#repartition[0]!.topic;
    this.#committed.assign(
      [...toRead.keys()].map((partition) => ({
        topic,
        partition,
        offset: Math.max(committedOf({ topic, partition }), 0),
      })),
    );
    const atEnd = new Set<number>();
    // An end reported for an earlier question is not this one's: only one at the partition's end now counts.
    const onEof = (eof: { partition: number; offset: number }): void => {
      if (eof.offset >= (toRead.get(eof.partition) ?? Infinity)) atEnd.add(eof.partition);
    };
    this.#committed.on("partition.eof", onEof);
    try {
      while (atEnd.size < toRead.size) {
        const batch = await new Promise<rdkafka.Message[]>((resolve, reject) =>
          this.#committed.consume(10, (err, messages) => (err ? reject(err) : resolve(messages))),
        );
        if (batch.length > 0) return false;
      }
      return true;
    } finally {
      this.#committed.off("partition.eof", onEof);
      this.#committed.unassign();
    }
  }

  /**
   * Resolves once everything sent so far is processed (asked every 250 ms). While a transaction with offsets is
   * open, the broker does not tell the committed offsets (the question fails, and is asked again).
   */
  async untilIdle(what: string, timeoutMs = 180_000): Promise<void> {
    const wait = async (): Promise<void> => {
      while (!(await this.idle().catch(() => false))) await new Promise((r) => setTimeout(r, 250));
    };
    await within(timeoutMs, `${what}: the engines did not process every event`, wait());
  }
}

/** `promise`, unless one of `engines` exits first: a failure that shows the engine's last lines. */
function whileRunning<T>(engines: Iterable<EngineProcess>, promise: Promise<T>): Promise<T> {
  const exits = [...engines].map((e) =>
    e.exited.then((code): never => {
      throw new Error(`an engine exited (${code}) while it should run: ${e.lines.slice(-8).join("\n")}`);
    }),
  );
  return Promise.race([promise, ...exits]);
}

/**
 * The stream in `count` slices, sent one at a time: `send(i)` sends slice i; `done()` resolves once every event sent
 * is processed. Moments at which a kill lands in the middle of slice i's processing: `written(i)` resolves once an
 * engine wrote a trigger of the slice (in exactly-once mode: into an open transaction), `decided(i)` once a trigger of
 * a capped campaign of the slice is committed (decided against the player's state: the state must have been
 * committed with it).
 */
async function slices(
  t: After,
  w: Workload,
  topics: { trigger_topic: string; event_topic: string },
  group: string,
  options: { count: number; keyed: boolean; partitions: number },
) {
  const committed = await TriggerWatch.open(t, topics.trigger_topic, "read_committed");
  const uncommitted = await TriggerWatch.open(t, topics.trigger_topic, "read_uncommitted");
  const progress = await GroupProgress.open(t, group, topics, options.keyed);
  const size = Math.ceil(w.events.length / options.count);
  const start = (i: number): number => Math.min(w.events.length, i * size);
  return {
    send: (i: number): Promise<void> =>
      produce(topics.event_topic, records(w, start(i), start(i + 1), options.keyed, options.partitions)),
    written: (i: number): Promise<void> =>
      uncommitted.anyOf(start(i), start(i + 1), false, `slice ${i}: no trigger of it written`),
    decided: (i: number): Promise<void> =>
      committed.anyOf(start(i), start(i + 1), true, `slice ${i}: no trigger of a capped campaign committed`),
    done: (what: string): Promise<void> => progress.untilIdle(what),
    /** How far slice i got, for the test's output. */
    progress: (i: number): string =>
      `${committed.of(start(i), start(i + 1))} triggers of slice ${i} committed ` +
      `(${committed.of(start(i), start(i + 1), true)} of capped campaigns), ` +
      `${uncommitted.of(start(i), start(i + 1))} written`,
  };
}

async function kill(engine: EngineProcess): Promise<void> {
  engine.child.kill("SIGKILL");
  await engine.exited;
}

/** State records restored over the engines' runs (log lines "delivery-rule state restored"). */
function restoredRecords(engines: readonly EngineProcess[]): number {
  let records = 0;
  for (const e of engines)
    for (const line of e.lines)
      if (line.includes('"msg":"delivery-rule state restored"'))
        records += (JSON.parse(line) as { records?: number }).records ?? 0;
  return records;
}

interface Counts {
  /** Trigger records per "<player>/<campaign>". */
  readonly raw: Map<string, number>;
  /** Distinct trigger ids per "<player>/<campaign>". */
  readonly distinct: Map<string, number>;
  readonly records: number;
}

function countTriggers(triggers: readonly Received[]): Counts {
  const raw = new Map<string, number>();
  const ids = new Map<string, Set<string>>();
  for (const r of triggers) {
    const k = `${r.key}/${r.headers["rtcrm-campaign-id"]}`;
    raw.set(k, (raw.get(k) ?? 0) + 1);
    ids.set(k, (ids.get(k) ?? new Set()).add(r.headers["rtcrm-trigger-id"] ?? ""));
  }
  const distinct = new Map([...ids].map(([k, set]) => [k, set.size]));
  return { raw, distinct, records: triggers.length };
}

/** "<player>/<campaign> expected N, got M" for every pair whose count is not the expected one. */
function differences(expected: ReadonlyMap<string, number>, got: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  for (const [k, n] of expected)
    if ((got.get(k) ?? 0) !== n) out.push(`${k} expected ${n}, got ${got.get(k) ?? 0}`);
  for (const [k, n] of got) if (!expected.has(k)) out.push(`${k} expected 0, got ${n}`);
  return out;
}

/**
 * Reads the trigger topic (engines stopped) as a read_committed consumer, states the tally in the test output and
 * asserts the counts per player and campaign: exactly the expected ones in exactly-once mode; in at-least-once mode
 * at least them, and exactly them once de-duplicated by trigger id.
 */
async function checkCaps(
  t: Diagnose,
  scenario: string,
  topic: string,
  w: Workload,
  delivery: Delivery,
): Promise<Counts> {
  const counts = countTriggers(await readToEnd(topic));
  const raw = differences(w.expected, counts.raw);
  const distinct = differences(w.expected, counts.distinct);
  const under = [...w.expected]
    .filter(([k, n]) => (counts.raw.get(k) ?? 0) < n)
    .map(([k, n]) => `${k} expected at least ${n}, got ${counts.raw.get(k) ?? 0}`);
  let ids = 0;
  for (const n of counts.distinct.values()) ids += n;
  const line =
    `${scenario}: players ${w.expected.size / CAMPAIGNS.length}, events ${w.events.length}, ` +
    `triggers expected ${w.total}, records ${counts.records}, distinct trigger ids ${ids}; ` +
    `player/campaign pairs off ${raw.length} (below ${under.length}), off once de-duplicated ${distinct.length}`;
  t.diagnostic(line);
  process.stdout.write(`# ${line}\n`);
  if (delivery === "exactly-once") {
    assert.deepEqual(raw.slice(0, 10), [], `${scenario}: triggers per player and campaign`);
  } else {
    assert.deepEqual(under.slice(0, 10), [], `${scenario}: a trigger lost`);
    assert.deepEqual(
      distinct.slice(0, 10),
      [],
      `${scenario}: triggers per player and campaign, de-duplicated`,
    );
  }
  return counts;
}

const ENGINE = {
  batch_size: 64,
  commit_interval_ms: 200,
  // A killed member that is not restarted (static membership) leaves the group after the session timeout.
  session_timeout_ms: 6000,
};

/**
 * One engine on 3 partitions; the stream is sent in `sliceCount` slices, each once the one before is processed. In
 * each slice of `kills` the engine is killed with SIGKILL once it wrote (or committed) a trigger of the slice, and
 * started again. Returns the trigger counts, checked.
 */
async function crashLoop(
  t: After & Diagnose,
  options: {
    name: string;
    delivery: Delivery;
    keyed: boolean;
    players: number;
    sliceCount: number;
    /** Slices the engine is killed in, and when. */
    kills: Readonly<Record<number, "written" | "decided">>;
  },
): Promise<Counts> {
  const { name, delivery, keyed } = options;
  const partitions = 3;
  const { topics, start, config } = await engineFixture(
    t,
    name,
    { ...ENGINE, delivery, events_keyed_by_player: keyed, new_topic_partitions: partitions },
    partitions,
  );
  const w = workload(`${name}-p`, options.players);
  await putCampaigns(topics.campaign_topic, CAMPAIGNS);
  const engines = [await start()];
  let engine = engines[0] as EngineProcess;
  // The engine created the repartition topic: the progress of the group can be followed.
  const stream = await slices(t, w, topics, config.kafka_group_id, {
    count: options.sliceCount,
    keyed,
    partitions,
  });
  for (let i = 0; i < options.sliceCount; i++) {
    await stream.send(i);
    const when = options.kills[i];
    if (when === undefined) {
      await whileRunning([engine], stream.done(`slice ${i}`));
      continue;
    }
    await whileRunning([engine], stream[when](i));
    await kill(engine);
    t.diagnostic(`${name}: SIGKILL with ${stream.progress(i)}`);
    engine = await start();
    engines.push(engine);
  }
  await whileRunning([engine], stream.done("the end"));
  assert.equal(await engine.stop(), 0);
  const restored = restoredRecords(engines);
  t.diagnostic(`${name}: state records restored over the restarts: ${restored}`);
  assert.ok(restored > 0, "the restarted engines restored the players' state from the changelog");
  return checkCaps(
    t,
    `${name}, ${Object.keys(options.kills).length} kills`,
    topics.trigger_topic,
    w,
    delivery,
  );
}

test("exactly-once, unkeyed events: once per player and 3 per hour exact across 3 SIGKILLs", async (t) => {
  await crashLoop(t, {
    name: "rules-crash-eo",
    delivery: "exactly-once",
    keyed: false,
    players: 1000,
    sliceCount: 6,
    // Capped campaigns trigger in the first 3 slices (the players' first 3 events).
    kills: { 0: "written", 1: "decided", 2: "decided" },
  });
});

test("exactly-once: 3 instances on 6 partitions, one killed, one added, one leaving: caps exact", async (t) => {
  const partitions = 6;
  const { topics, start, config, dir } = await engineFixture(
    t,
    "rules-scale-eo",
    { ...ENGINE, delivery: "exactly-once", new_topic_partitions: partitions },
    partitions,
  );
  // Each instance its own transactional id and state directory, as separate hosts would have.
  const instance = (name: string): Promise<EngineProcess> =>
    start({
      RTCRM_TRANSACTIONAL_ID: `${config.kafka_group_id}-${name}`,
      RTCRM_STATE_DIR: join(dir, `state-${name}`),
    });
  const holdsPartitions = (e: EngineProcess): Promise<string> =>
    e.waitForLog(/"msg":"partitions assigned".*"partitions":\[\d/);
  const w = workload("rules-scale-p", 900);
  await putCampaigns(topics.campaign_topic, CAMPAIGNS);
  const engines = new Map<string, EngineProcess>();
  for (const name of ["A", "B", "C"]) engines.set(name, await instance(name));
  await holdsPartitions(engines.get("B") as EngineProcess);
  const count = 6;
  const stream = await slices(t, w, topics, config.kafka_group_id, { count, keyed: false, partitions });
  for (let i = 0; i < count; i++) {
    await stream.send(i);
    if (i === 1) {
      // B is killed while the instances process slice 1, and D joins.
      await whileRunning(engines.values(), stream.decided(i));
      const b = engines.get("B") as EngineProcess;
      engines.delete("B");
      await kill(b);
      t.diagnostic(`B killed with ${stream.progress(i)}`);
      engines.set("D", await instance("D"));
    } else if (i === 2) {
      // C leaves (a graceful stop) while they process slice 2.
      await whileRunning(engines.values(), stream.decided(i));
      const c = engines.get("C") as EngineProcess;
      engines.delete("C");
      assert.equal(await c.stop(), 0, "instance C did not leave cleanly");
      t.diagnostic(`C left with ${stream.progress(i)}`);
    } else {
      await whileRunning(engines.values(), stream.done(`slice ${i}`));
    }
  }
  await whileRunning(engines.values(), stream.done("the end"));
  for (const [name, e] of engines) {
    await holdsPartitions(e);
    assert.equal(await e.stop(), 0, `instance ${name} did not stop cleanly`);
  }
  await checkCaps(
    t,
    "3 instances on 6 partitions, kill + join + leave",
    topics.trigger_topic,
    w,
    "exactly-once",
  );
});

const SIDE_BY_SIDE = {
  delivery: "exactly-once",
  players: 600,
  sliceCount: 6,
  kills: { 1: "decided" },
} as const;

test("exactly-once: unkeyed events are capped exactly as events keyed by player (a SIGKILL in each)", async (t) => {
  const [unkeyed, keyed] = await Promise.all([
    crashLoop(t, { ...SIDE_BY_SIDE, name: "rules-unkeyed-eo", keyed: false }),
    crashLoop(t, { ...SIDE_BY_SIDE, name: "rules-keyed-eo", keyed: true }),
  ]);
  // Players are named after their run: compare by player number.
  const byNumber = (m: ReadonlyMap<string, number>, prefix: string): Map<string, number> =>
    new Map([...m].map(([k, n]) => [k.slice(prefix.length), n]));
  assert.deepEqual(
    byNumber(unkeyed.raw, "rules-unkeyed-eo-p"),
    byNumber(keyed.raw, "rules-keyed-eo-p"),
    "the same counts per player and campaign",
  );
});

test("at-least-once: a SIGKILL loses no capped trigger; retried ones repeat their trigger id", async (t) => {
  const counts = await crashLoop(t, {
    name: "rules-crash-alo",
    delivery: "at-least-once",
    keyed: false,
    players: 600,
    sliceCount: 6,
    kills: { 0: "written", 1: "decided" },
  });
  let distinct = 0;
  for (const n of counts.distinct.values()) distinct += n;
  t.diagnostic(`rules-crash-alo: trigger records sent again (same trigger id): ${counts.records - distinct}`);
});
