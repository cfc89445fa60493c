// Helpers for integration tests against the real local broker (scripts/kafka.sh).
import { randomUUID } from "node:crypto";
import { KafkaJS } from "@confluentinc/kafka-javascript";

export const bootstrapServers = process.env.RTCRM_TEST_BOOTSTRAP ?? "127.0.0.1:9093";

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
