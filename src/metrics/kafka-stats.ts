// What the metrics read from librdkafka's statistics of the events consumer (JSON, see librdkafka's
// STATISTICS.md): the lag of each assigned partition, and whether any broker connection is up.

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

export interface ConsumerStats {
  /** Assigned partitions whose lag is known (librdkafka reports -1 until the group has a committed offset). */
  readonly lags: readonly PartitionLag[];
  /** Brokers of the cluster (not the internal or logical pseudo-brokers) and the connection state of each. */
  readonly brokers: readonly { readonly name: string; readonly state: string }[];
}

interface RawPartition {
  partition?: unknown;
  desired?: unknown;
  fetch_state?: unknown;
  consumer_lag?: unknown;
}

interface RawStats {
  brokers?: Record<string, { name?: unknown; source?: unknown; state?: unknown }>;
  topics?: Record<string, { topic?: unknown; partitions?: Record<string, RawPartition> }>;
}

/** Parses one statistics document; throws on text that is not JSON. Unknown or missing parts are left out. */
export function parseConsumerStats(json: string): ConsumerStats {
  const raw = JSON.parse(json) as RawStats;
  const lags: PartitionLag[] = [];
  for (const [topicName, topic] of Object.entries(raw.topics ?? {})) {
    for (const p of Object.values(topic.partitions ?? {})) {
      // Partition -1 is librdkafka's placeholder for unassigned messages; "none" is a partition not fetched.
      if (typeof p.partition !== "number" || p.partition < 0) continue;
      if (p.desired !== true && (p.fetch_state === "none" || p.fetch_state === undefined)) continue;
      if (typeof p.consumer_lag !== "number" || p.consumer_lag < 0) continue;
      lags.push({
        topic: typeof topic.topic === "string" ? topic.topic : topicName,
        partition: p.partition,
        lag: p.consumer_lag,
      });
    }
  }
  const brokers: { name: string; state: string }[] = [];
  for (const [name, b] of Object.entries(raw.brokers ?? {})) {
    // "configured" (bootstrap) and "learned" are real brokers; "internal" and "logical" (e.g. the
    // GroupCoordinator handle) are librdkafka's own and say nothing more about reachability.
    if (b.source !== "configured" && b.source !== "learned") continue;
    brokers.push({ name, state: typeof b.state === "string" ? b.state : "unknown" });
  }
  return { lags, brokers };
}

/** Kafka counts as reachable while at least one broker connection is up. */
export function anyBrokerUp(stats: ConsumerStats): boolean {
  return stats.brokers.some((b) => b.state === "UP");
}
