// Scenario 3: events produced at fixed rates; latency from each event's produce timestamp to its trigger's
// broker timestamp (the trigger topic uses LogAppendTime).
import { randomUUID } from "node:crypto";
import rdkafka from "@confluentinc/kafka-javascript";
import { EngineProcess } from "../../test/helpers/engine-process.js";
import { ExpectedTriggers } from "../lib/expected.js";
import { bootstrap } from "../lib/kafka.js";
import { progress } from "../lib/report.js";
import { generateEvents } from "../workload/generator.js";
import { engineConfig, EVENT_PARTITIONS, type Workload } from "./end-to-end.js";

export interface LatencyResult {
  targetPerSec: number;
  achievedPerSec: number;
  events: number;
  triggers: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Reads triggers as they arrive; `latencies` gets broker time minus the event's produce time. */
class TriggerReader {
  readonly latencies: number[] = [];
  readonly #consumer: rdkafka.KafkaConsumer;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(
    topic: string,
    private readonly sentAt: Map<string, number>,
  ) {
    this.#consumer = new rdkafka.KafkaConsumer(
      {
        "bootstrap.servers": bootstrap,
        "group.id": `bench-latency-${randomUUID()}`,
        "enable.auto.commit": false,
        "fetch.wait.max.ms": 10,
        rebalance_cb: true,
      },
      { "auto.offset.reset": "earliest" },
    );
    this.#consumer.setDefaultConsumeTimeout(20);
    this.topic = topic;
  }
  readonly topic: string;

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.#consumer.connect({}, (err) => (err ? reject(err) : resolve())),
    );
    const assigned = new Promise<void>((resolve) => this.#consumer.once("rebalance", () => resolve()));
    this.#consumer.subscribe([this.topic]);
    this.#loop = (async () => {
      while (!this.#stopped) {
        const messages = await new Promise<rdkafka.Message[]>((resolve) =>
          this.#consumer.consume(500, (err, m) => resolve(err ? [] : m)),
        );
        for (const m of messages) {
          const id = /"event_id":"([^"]+)"/.exec(m.value?.toString() ?? "")?.[1];
          const sent = id === undefined ? undefined : this.sentAt.get(id);
          if (sent !== undefined && m.timestamp !== undefined) this.latencies.push(m.timestamp - sent);
        }
      }
    })();
    await assigned;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await new Promise<void>((resolve) => this.#consumer.disconnect(() => resolve()));
  }
}

/** Measures each rate in turn against one running engine. */
export async function runLatency(w: Workload, rates: number[], seconds: number): Promise<LatencyResult[]> {
  const group = `${w.id}-latency`;
  const engine = new EngineProcess(
    engineConfig(w, group, w.topics.triggers, { auto_offset_reset: "latest" }),
  );
  const producer = new rdkafka.Producer({
    "bootstrap.servers": bootstrap,
    dr_cb: false,
    "linger.ms": 1,
    "enable.idempotence": true,
  });
  const sentAt = new Map<string, number>();
  const reader = new TriggerReader(w.topics.triggers, sentAt);
  const expected = new ExpectedTriggers(w.records);
  const results: LatencyResult[] = [];
  try {
    await engine.waitForLog(/"msg":"partitions assigned"/, 600_000);
    await new Promise<void>((resolve, reject) =>
      producer.connect({}, (err) => (err ? reject(err) : resolve())),
    );
    producer.setPollInterval(10);
    await reader.start();
    let seed = 100;
    for (const rate of rates) {
      progress(`latency: ${Math.round(rate).toLocaleString("en-US")} events/s for ${seconds} s`);
      const total = Math.round(rate * seconds);
      // Everything per event that is not producing it is done before the clock starts.
      const events = [...generateEvents(seed++, total)].map((e) => ({
        ...e,
        id: (JSON.parse(e.json) as { event_id: string }).event_id,
        bytes: Buffer.from(e.json),
      }));
      let triggersExpected = 0;
      const now = Date.now();
      for (const e of events) triggersExpected += expected.matches(e.json, e.game, e.eventName, now).length;
      const firstLatency = reader.latencies.length;
      const start = Date.now();
      let sent = 0;
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
          for (; sent < due; sent++) {
            const e = events[sent] as (typeof events)[number];
            const at = Date.now();
            sentAt.set(e.id, at);
            producer.produce(w.topics.events, sent % EVENT_PARTITIONS, e.bytes, null, at);
          }
          if (sent >= total) {
            clearInterval(tick);
            resolve();
          }
        }, 2);
      });
      const achieved = total / ((Date.now() - start) / 1000);
      const deadline = Date.now() + 60_000;
      while (reader.latencies.length - firstLatency < triggersExpected && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const got = reader.latencies.slice(firstLatency).sort((a, b) => a - b);
      if (got.length !== triggersExpected)
        throw new Error(`latency at ${rate}/s: ${got.length} triggers, ${triggersExpected} expected`);
      results.push({
        targetPerSec: rate,
        achievedPerSec: achieved,
        events: total,
        triggers: got.length,
        p50: percentile(got, 50),
        p95: percentile(got, 95),
        p99: percentile(got, 99),
        max: got[got.length - 1] ?? NaN,
      });
    }
    return results;
  } finally {
    await reader.stop().catch(() => undefined);
    await new Promise<void>((resolve) => producer.disconnect(5_000, () => resolve()));
    await engine.stop("SIGTERM").catch(() => engine.stop("SIGKILL"));
  }
}
