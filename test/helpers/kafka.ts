// Helpers for integration tests against the real local broker (scripts/kafka.sh).
import { randomUUID } from "node:crypto";
import rdkafka, { KafkaJS } from "@confluentinc/kafka-javascript";

/** The broker every helper talks to (a live binding: useBootstrap() switches the whole test file over). */
export let bootstrapServers = process.env.RTCRM_TEST_BOOTSTRAP ?? "127.0.0.1:9093";

/** Points the helpers (and engines set up after the call) at another broker, e.g. one a test starts. */
export function useBootstrap(servers: string): void {
  bootstrapServers = servers;
}

/** A topic name no other test (or earlier run) uses. */
export function uniqueTopic(prefix: string): string {
  return `test-${prefix}-${randomUUID().slice(0, 8)}`;
}

export function kafka(): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ "bootstrap.servers": bootstrapServers, log_level: 3 });
}

export async function createTopics(
  topics: { topic: string; partitions?: number; config?: Record<string, string> }[],
) {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions ?? 1,
        replicationFactor: 1,
        configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(topics: string[]) {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/** Rejects when `promise` does not settle within `ms`: a hung client shows up as a failure, not a hung run. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Received {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
  readonly timestamp: number;
}

export interface OutRecord {
  key?: string | null;
  value: string | Buffer | null;
  partition?: number;
  headers?: Record<string, string>;
}

/** Produces records and waits for their acknowledgement. */
export async function produce(topic: string, records: OutRecord[]): Promise<void> {
  const producer = kafka().producer({ "bootstrap.servers": bootstrapServers, "linger.ms": 5 });
  await producer.connect();
  try {
    await within(
      60_000,
      `produce to ${topic}`,
      producer.send({
        topic,
        messages: records.map((r) => ({
          key: r.key ?? null,
          value: r.value,
          ...(r.partition === undefined ? {} : { partition: r.partition }),
          headers: { ...(r.headers ?? {}) },
        })),
      }),
    );
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads `topics` from the beginning with a fresh consumer group until `done(received)` is true.
 * Rejects after `timeoutMs` with what was received so far in the message.
 */
export async function consumeUntil(
  topics: string[],
  done: (received: Received[]) => boolean,
  timeoutMs = 60_000,
): Promise<Received[]> {
  const consumer = kafka().consumer({
    "bootstrap.servers": bootstrapServers,
    "group.id": `test-reader-${randomUUID()}`,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": false,
  });
  await consumer.connect();
  const received: Received[] = [];
  try {
    await consumer.subscribe({ topics });
    await within(
      timeoutMs,
      `waiting on ${topics.join(", ")} (received ${received.length}: ${JSON.stringify(received.slice(-3))})`,
      new Promise<void>((resolve, reject) => {
        if (done(received)) return resolve();
        consumer
          .run({
            eachMessage: async ({ topic, partition, message }) => {
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(message.headers ?? {}))
                headers[k] = String(Array.isArray(v) ? v[0] : v);
              received.push({
                topic,
                partition,
                offset: Number(message.offset),
                key: message.key ? message.key.toString() : null,
                value: message.value ? message.value.toString() : null,
                headers,
                timestamp: Number(message.timestamp),
              });
              if (done(received)) resolve();
            },
          })
          .catch(reject);
      }),
    );
    return received;
  } finally {
    await consumer.disconnect();
  }
}

/** A trigger as "<campaign id>:<event_id>": what the tests compare against the expected matches. */
export function triggerKey(r: Received): string {
  return `${r.headers["rtcrm-campaign-id"]}:${(JSON.parse(r.value ?? "{}") as { event: { event_id: string } }).event.event_id}`;
}

/**
 * Reads every partition of `topic` from the start to its end as a read_committed consumer sees it (records
 * of open or aborted transactions are not returned). For counting what a topic holds once writers stopped.
 */
export async function readToEnd(topic: string, timeoutMs = 60_000): Promise<Received[]> {
  const received: Received[] = [];
  await scanToEnd(topic, (r) => received.push(r), timeoutMs);
  return received;
}

/** Like readToEnd, one record at a time (for topics too large to hold); resolves with the record count. */
export async function scanToEnd(
  topic: string,
  onRecord: (r: Received) => void,
  timeoutMs = 60_000,
  servers = bootstrapServers,
): Promise<number> {
  const consumer = new rdkafka.KafkaConsumer(
    {
      "bootstrap.servers": servers,
      "group.id": `test-reader-${randomUUID()}`,
      "enable.auto.commit": false,
      "enable.partition.eof": true,
      "isolation.level": "read_committed",
      log_level: 3,
    },
    {},
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
  );
  let count = 0;
  try {
    const partitions = await new Promise<number[]>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: 10_000 }, (err, md) =>
        err
          ? reject(err)
          : resolve(md.topics.find((x) => x.name === topic)?.partitions.map((p) => p.id) ?? []),
      ),
    );
    consumer.assign(partitions.map((partition) => ({ topic, partition, offset: 0 })));
    const atEnd = new Set<number>();
    consumer.on("partition.eof", (eof) => atEnd.add(eof.partition));
    const deadline = Date.now() + timeoutMs;
    while (atEnd.size < partitions.length) {
      if (Date.now() > deadline) throw new Error(`${topic}: not read to its end within ${timeoutMs} ms`);
      const batch = await new Promise<rdkafka.Message[]>((resolve, reject) =>
        consumer.consume(1000, (err, messages) => (err ? reject(err) : resolve(messages))),
      );
      for (const m of batch) {
        const headers: Record<string, string> = {};
        for (const h of m.headers ?? []) for (const [k, v] of Object.entries(h)) headers[k] = String(v);
        count++;
        onRecord({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          key: m.key ? m.key.toString() : null,
          value: m.value ? m.value.toString() : null,
          headers,
          timestamp: m.timestamp ?? 0,
        });
      }
    }
    return count;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
