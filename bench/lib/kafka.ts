// Kafka helpers for the benchmarks: topics, bulk production, progress of a consumer group.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import rdkafka from "@confluentinc/kafka-javascript";
import { KafkaJS } from "@confluentinc/kafka-javascript";

export const bootstrap = process.env.RTCRM_BENCH_BOOTSTRAP ?? "127.0.0.1:9093";

function kafka(): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ "bootstrap.servers": bootstrap, log_level: 3 });
}

export async function withAdmin<T>(fn: (admin: KafkaJS.Admin) => Promise<T>): Promise<T> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopic(
  topic: string,
  partitions: number,
  config: Record<string, string> = {},
): Promise<void> {
  await withAdmin((a) =>
    a.createTopics({
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
        },
      ],
    }),
  );
}

/** The five topics of one engine run, named after the run's `id`. */
export interface RunTopics {
  readonly events: string;
  readonly campaigns: string;
  readonly triggers: string;
  readonly dlq: string;
  readonly status: string;
}

export function runTopics(id: string): RunTopics {
  return {
    events: `${id}-events`,
    campaigns: `${id}-campaigns`,
    triggers: `${id}-triggers`,
    dlq: `${id}-dlq`,
    status: `${id}-status`,
  };
}

/**
 * Creates a run's topics as the engine expects them: campaigns and statuses compacted, and the trigger topic
 * stamped with LogAppendTime, which the latency measurements read.
 */
export async function createRunTopics(topics: RunTopics, eventPartitions: number): Promise<void> {
  await createTopic(topics.events, eventPartitions);
  await createTopic(topics.triggers, eventPartitions, { "message.timestamp.type": "LogAppendTime" });
  await createTopic(topics.campaigns, 1, { "cleanup.policy": "compact" });
  await createTopic(topics.status, 1, { "cleanup.policy": "compact" });
  await createTopic(topics.dlq, 1);
}

export async function deleteTopics(topics: string[]): Promise<void> {
  await withAdmin((a) => a.deleteTopics({ topics })).catch(() => undefined);
}

/** Deletes every topic whose name starts with `prefix` (a run's id: the topics its engines created too). */
export async function deleteTopicsNamed(prefix: string): Promise<void> {
  await withAdmin(async (a) => {
    const topics = (await a.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await a.deleteTopics({ topics });
  }).catch(() => undefined);
}

/** Sum of the end offsets of a topic: how many records it holds (from offset 0). */
export async function endOffsets(topic: string): Promise<Map<number, number>> {
  const offsets = await withAdmin((a) => a.fetchTopicOffsets(topic));
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

export async function recordCount(topic: string): Promise<number> {
  let n = 0;
  for (const v of (await endOffsets(topic)).values()) n += v;
  return n;
}

/** Committed offsets of `group` on `topic` (partition -> offset; -1 where none). */
async function committed(admin: KafkaJS.Admin, group: string, topic: string): Promise<Map<number, number>> {
  const result = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const out = new Map<number, number>();
  for (const t of result) for (const p of t.partitions) out.set(p.partition, Number(p.offset));
  return out;
}

/** Resolves with the time (ms) when `group` has committed every offset of `topic` (one admin client, polled). */
export async function waitCommitted(
  group: string,
  topic: string,
  ends: Map<number, number>,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  return withAdmin(async (admin) => {
    for (;;) {
      const now = Date.now();
      // The group may not exist yet.
      const c = await committed(admin, group, topic).catch(() => new Map<number, number>());
      if ([...ends].every(([p, end]) => end === 0 || (c.get(p) ?? -1) >= end)) return now;
      if (now > deadline)
        throw new Error(
          `group ${group} did not commit ${topic} to its end within ${timeoutMs} ms: ${JSON.stringify([...c])} of ${JSON.stringify([...ends])}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  });
}

/** A record with a key, and the partition it goes to when not i % partitions (records keyed by player). */
export interface KeyedValue {
  readonly key: string;
  readonly value: string | Buffer;
  readonly partition?: number;
}

/**
 * Produces `values` to `topic`, value i to partition i % partitions (so the record at (p, o) is value
 * o * partitions + p) unless it names its partition, as fast as librdkafka takes them; resolves when all are
 * acknowledged.
 */
export async function produceBulk(
  topic: string,
  partitions: number,
  values: Iterable<string | Buffer | KeyedValue>,
  timestamps?: (i: number) => number,
): Promise<number> {
  const producer = new rdkafka.Producer({
    "bootstrap.servers": bootstrap,
    dr_cb: true,
    "linger.ms": 20,
    "batch.num.messages": 10_000,
    "queue.buffering.max.messages": 500_000,
    "enable.idempotence": true,
  });
  await new Promise<void>((resolve, reject) =>
    producer.connect({}, (err) => (err ? reject(err) : resolve())),
  );
  producer.setPollInterval(10);
  let sent = 0;
  let acked = 0;
  let failed: unknown = null;
  producer.on("delivery-report", (err) => {
    if (err) failed = err;
    acked++;
  });
  let i = 0;
  for (const value of values) {
    for (;;) {
      try {
        const keyed = typeof value === "object" && !Buffer.isBuffer(value);
        const v = keyed ? value.value : value;
        producer.produce(
          topic,
          keyed ? (value.partition ?? i % partitions) : i % partitions,
          Buffer.isBuffer(v) ? v : Buffer.from(v),
          keyed ? value.key : null,
          timestamps?.(i) ?? Date.now(),
        );
        break;
      } catch (error) {
        if ((error as { code?: number }).code !== rdkafka.CODES.ERRORS.ERR__QUEUE_FULL) throw error;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    i++;
    sent++;
    if (sent % 50_000 === 0) await new Promise((r) => setImmediate(r));
  }
  while (acked < sent) await new Promise((r) => setTimeout(r, 10));
  if (failed) throw new Error(`producing to ${topic} failed: ${String((failed as Error).message ?? failed)}`);
  await new Promise<void>((resolve) => producer.disconnect(5_000, () => resolve()));
  return sent;
}

/** Runs scripts/kafka.sh on the local broker (127.0.0.1:9093); false when the command failed. */
export function localBroker(cmd: "start" | "stop" | "status"): boolean {
  try {
    execFileSync("bash", ["scripts/kafka.sh", cmd], {
      cwd: fileURLToPath(new URL("../../../", import.meta.url)),
      stdio: cmd === "status" ? "ignore" : "inherit",
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * Bytes of the log segments (.log files, not their indexes) of `topic` on the local broker's disk: what the topic
 * takes before any compaction. Null when the broker's data directory is not on this machine.
 */
export function topicBytesOnDisk(topic: string): number | null {
  const repo = fileURLToPath(new URL("../../../", import.meta.url));
  const port = bootstrap.split(":").pop() ?? "9093";
  const data = join(process.env.RTCRM_KAFKA_DIR ?? join(repo, ".kafka"), `data-${port}`);
  if (!existsSync(data)) return null;
  let bytes = 0;
  const prefix = `${topic}-`;
  for (const dir of readdirSync(data)) {
    // "<topic>-<partition>"; a topic whose name continues with "-<digits>" is another topic's prefix only.
    if (!dir.startsWith(prefix) || !/^\d+$/.test(dir.slice(prefix.length))) continue;
    for (const file of readdirSync(join(data, dir)))
      if (file.endsWith(".log")) bytes += statSync(join(data, dir, file)).size;
  }
  return bytes;
}
