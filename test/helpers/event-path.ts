// The event path's stages against the real broker, without the pool: a configuration built like the engine's,
// a consumer group member that tracks what it fetches (the consumer loop of src/events/event-pipeline.ts,
// minus the batch builder), the group's committed offsets, and waiting on telemetry.
import type { TestContext } from "node:test";
import { defaults, type Config } from "../../src/config/config.js";
import { AckingProducer, type AckingProducerOptions } from "../../src/kafka/acking-producer.js";
import { EventConsumer, type ConsumedRecord } from "../../src/kafka/event-consumer.js";
import { clientSettings } from "../../src/kafka/settings.js";
import { createLogger, type Logger } from "../../src/logging/logger.js";
import { Assignments } from "../../src/offsets/assignments.js";
import type { Committer } from "../../src/offsets/committer.js";
import type { Telemetry, TelemetryEvents } from "../../src/telemetry.js";
import { bootstrapServers, createTopics, deleteTopics, kafka, uniqueTopic, within } from "./kafka.js";

/** The engine's configuration (defaults) for the events topic `eventTopic` and a consumer group of its own. */
export function eventPathConfig(eventTopic: string, over: Partial<Config> = {}): Config {
  return {
    ...defaults(),
    kafka_bootstrap_servers: bootstrapServers,
    kafka_group_id: uniqueTopic("group"),
    event_topic: eventTopic,
    auto_offset_reset: "earliest",
    ...over,
  };
}

/** A topic of the test's own, deleted after it. */
export async function topicOf(t: TestContext, prefix: string, partitions = 1): Promise<string> {
  const topic = uniqueTopic(prefix);
  await createTopics([{ topic, partitions }]);
  t.after(() => deleteTopics([topic]));
  return topic;
}

/** Log lines (warn and above) a stage wrote, parsed. */
export interface Logged {
  readonly log: Logger;
  readonly lines: { level: string; msg: string; error?: string }[];
}

export function testLogger(): Logged {
  const lines: Logged["lines"] = [];
  const log = createLogger("warn", {}, (line) => lines.push(JSON.parse(line) as Logged["lines"][number]));
  return { log, lines };
}

/** A connected AckingProducer built as the engine builds it, disconnected after the test. */
export async function ackingProducer(
  t: TestContext,
  config: Config,
  log: Logger,
  options: AckingProducerOptions = {},
): Promise<AckingProducer> {
  const producer = new AckingProducer(clientSettings(config, "producer"), log, options);
  t.after(() => producer.disconnect());
  await within(30_000, "producer connect", producer.connect(20_000));
  return producer;
}

/**
 * A member of the config's consumer group: an EventConsumer whose fetched records are tracked in `assignments`
 * (each partition's offsets), with partitions taken and given back as EventPipeline does, through the committer.
 */
export class TrackingMember {
  readonly consumer: EventConsumer;
  readonly assignments: Assignments;
  /** Every record fetched and tracked, in fetch order. */
  readonly records: ConsumedRecord[] = [];
  /** Partitions taken and given back, in order ("+0" assigned, "-0" revoked). */
  readonly rebalances: string[] = [];
  #loop: Promise<void> | undefined;
  #stopping = false;
  #closed: Promise<void> | undefined;
  #waiters: (() => void)[] = [];

  constructor(config: Config, telemetry: Telemetry, log: Logger, assignments = new Assignments()) {
    this.consumer = new EventConsumer(config, telemetry, log);
    this.assignments = assignments;
  }

  /** Joins the group and fetches until close(); the member is closed after the test. */
  async start(t: TestContext, committer: Committer): Promise<void> {
    this.consumer.onRebalance({
      assign: (partitions) =>
        committer.whenAssigning(() => {
          if (this.#stopping) return;
          for (const tp of partitions) this.assignments.add(tp.topic, tp.partition);
          this.consumer.assign(partitions, false);
          this.rebalances.push(...partitions.map((tp) => `+${tp.partition}`));
        }),
      revoke: (partitions) => {
        committer.revoking();
        for (const tp of partitions) this.assignments.revoke(tp.topic, tp.partition);
        this.rebalances.push(...partitions.map((tp) => `-${tp.partition}`));
      },
    });
    t.after(() => this.close());
    await within(30_000, "consumer connect", this.consumer.connect(20_000));
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let records: ConsumedRecord[];
      try {
        records = await this.consumer.consume(100);
      } catch (error) {
        this.consumer.reportError(error as Error);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      for (const m of records) {
        const p = this.assignments.get(m.topic, m.partition);
        if (p?.offsets.track(m.offset)) this.records.push(m);
      }
      if (records.length > 0) for (const w of this.#waiters.splice(0)) w();
    }
  }

  /** Resolves with the records fetched once `done(records)` holds (checked after each fetch). */
  async fetched(
    done: (records: readonly ConsumedRecord[]) => boolean,
    timeoutMs = 60_000,
  ): Promise<ConsumedRecord[]> {
    await within(
      timeoutMs,
      `fetching (${this.records.length} so far)`,
      (async () => {
        while (!done(this.records)) await new Promise<void>((r) => this.#waiters.push(r));
      })(),
    );
    return this.records;
  }

  /** Marks the event at `partition`/`offset` fully processed in the partition's current assignment. */
  done(partition: number, ...offsets: number[]): void {
    const p = this.assignments.get(this.consumer.topic, partition);
    if (!p) throw new Error(`partition ${partition} is not assigned`);
    for (const offset of offsets) p.offsets.done(offset);
  }

  /** Stops fetching and leaves the group. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopping = true;
      await this.#loop;
      await this.consumer.disconnect(10_000);
    })();
    return this.#closed;
  }
}

/** The group's committed offset of each partition of `topic` that has one, by partition. */
export async function committedOffsets(groupId: string, topic: string): Promise<Record<number, number>> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const [fetched] = await within(
      30_000,
      `committed offsets of ${groupId}`,
      admin.fetchOffsets({ groupId, topics: [topic] }),
    );
    return Object.fromEntries(
      (fetched?.partitions ?? [])
        .filter((p) => Number(p.offset) >= 0)
        .map((p) => [p.partition, Number(p.offset)]),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Polls `read` until `done(value)` holds, for at most `timeoutMs`; resolves with the value that held. */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves with the arguments of the next `event` published for which `match` holds. */
export function published<K extends keyof TelemetryEvents>(
  telemetry: Telemetry,
  event: K,
  match: (...args: TelemetryEvents[K]) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<TelemetryEvents[K]> {
  let settled = false;
  return within(
    timeoutMs,
    `telemetry ${event}`,
    new Promise<TelemetryEvents[K]>((resolve) =>
      telemetry.on(event, (...args) => {
        if (settled || !match(...args)) return;
        settled = true;
        resolve(args);
      }),
    ),
  );
}
