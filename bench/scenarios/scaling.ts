// Scenario 4: throughput for worker counts 1..N, and for growing campaign counts: throughput, RSS, time to
// compile and load all campaigns, and the time from writing a campaign to its first trigger.
import rdkafka from "@confluentinc/kafka-javascript";
import { randomUUID } from "node:crypto";
import { bootstrap } from "../lib/kafka.js";
import { progress } from "../lib/report.js";
import { campaignRecord, generateCampaigns } from "../workload/generator.js";
import { dropWorkload, prepareWorkload, runEngine, verify, type RunResult } from "./end-to-end.js";

export interface WorkerScalingRow {
  workers: number;
  eventsPerSec: number;
  peakRssMiB: number | null;
}

export async function runWorkerScaling(events: number, counts: number[]): Promise<WorkerScalingRow[]> {
  const w = await prepareWorkload("workers", events, 20);
  try {
    const rows: WorkerScalingRow[] = [];
    for (const workers of counts) {
      // Each run reads the same topic in its own group; the trigger count grows by the expected number.
      const r = await runEngine(w, { workers }, `scaling: ${workers} worker(s)`);
      verify(`${workers} workers`, w, r);
      rows.push({ workers, eventsPerSec: r.eventsPerSec, peakRssMiB: r.peakRssMiB });
    }
    return rows;
  } finally {
    await dropWorkload(w);
  }
}

export interface CampaignScalingRow {
  campaigns: string;
  count: number;
  events: number;
  eventsPerSec: number;
  peakRssMiB: number | null;
  loadSeconds: number;
  campaignToTriggerMs: number;
}

/** 20 campaigns on the workload's games plus `others` on games no event has: routing must make them free. */
export function campaignsOnOtherGames(others: number): string[] {
  const base = generateCampaigns(7, 20).map(campaignRecord);
  const rest = generateCampaigns(8, others, 100_000).map((c, i) =>
    campaignRecord({ ...c, game: `other-game-${i % 50}` }),
  );
  return [...base, ...rest];
}

/**
 * Writes a campaign for a fresh event name and sends matching events until its first trigger arrives (also
 * campaign-scale's probe).
 */
export async function campaignToFirstTrigger(topics: {
  events: string;
  campaigns: string;
  triggers: string;
}): Promise<number> {
  const probeName = `probe_${randomUUID().slice(0, 8)}`;
  const id = 9_000_000 + Math.floor(Math.random() * 1_000_000);
  const consumer = new rdkafka.KafkaConsumer(
    {
      "bootstrap.servers": bootstrap,
      "group.id": `bench-probe-${randomUUID()}`,
      "enable.auto.commit": false,
      "fetch.wait.max.ms": 10,
      rebalance_cb: true,
    },
    { "auto.offset.reset": "latest" },
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({}, (err) => (err ? reject(err) : resolve())),
  );
  consumer.setDefaultConsumeTimeout(20);
  const assigned = new Promise<void>((resolve) => consumer.once("rebalance", () => resolve()));
  consumer.subscribe([topics.triggers]);
  let stop = false;
  let firstAt = 0;
  const loop = (async () => {
    while (!stop) {
      const ms = await new Promise<rdkafka.Message[]>((resolve) =>
        consumer.consume(100, (err, m) => resolve(err ? [] : m)),
      );
      for (const m of ms) if (firstAt === 0 && m.value?.toString().includes(probeName)) firstAt = Date.now();
    }
  })();
  try {
    await assigned;
    await new Promise((r) => setTimeout(r, 1_000)); // let "latest" resolve before anything is written
    const campaign = {
      campaign_id: id,
      enabled: true,
      game: "foe",
      event_name: probeName,
      filter: "function(event) { return event.getData().get('probe') === true }",
    };
    // One producer, connected before the clock starts: producing a record is what "written" means, not
    // connecting a client (about 100 ms with idempotence). Each record is flushed as it is sent.
    const producer = new rdkafka.Producer({ "bootstrap.servers": bootstrap, "linger.ms": 0, dr_cb: true });
    await new Promise<void>((resolve, reject) =>
      producer.connect({}, (err) => (err ? reject(err) : resolve())),
    );
    producer.setPollInterval(5);
    const send = (topic: string, key: string | null, value: string): Promise<void> =>
      new Promise((resolve, reject) => {
        producer.produce(topic, null, Buffer.from(value), key);
        producer.flush(5_000, (err) => (err ? reject(err) : resolve()));
      });
    try {
      const written = Date.now();
      await send(topics.campaigns, String(id), JSON.stringify(campaign));
      const event = (n: number) =>
        JSON.stringify({ game: "foe", event_name: probeName, player_id: n, data: { probe: true } });
      let n = 0;
      while (firstAt === 0 && Date.now() - written < 60_000) {
        await send(topics.events, String(n), event(n++));
        await new Promise((r) => setTimeout(r, 20));
      }
      if (firstAt === 0) throw new Error("no trigger for a new campaign within 60 s");
      return firstAt - written;
    } finally {
      await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
    }
  } finally {
    stop = true;
    await loop;
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/**
 * Campaigns spread over all (game, event_name) pairs of the workload, so an event meets more of them as
 * their number grows: runs with many campaigns get fewer events (`eventsFor`) to keep the suite's time.
 */
export async function runCampaignScaling(
  eventsFor: (campaigns: number) => number,
  counts: number[],
  otherGames: number | null,
): Promise<CampaignScalingRow[]> {
  const rows: CampaignScalingRow[] = [];
  const cases: { label: string; count: number; events: number; records?: string[] }[] = counts.map(
    (count) => ({
      label: `${count}`,
      count,
      events: eventsFor(count),
    }),
  );
  if (otherGames !== null)
    cases.push({
      label: `20 + ${otherGames} on other games`,
      count: 20 + otherGames,
      events: eventsFor(20),
      records: campaignsOnOtherGames(otherGames),
    });
  for (const c of cases) {
    const w = await prepareWorkload(`campaigns-${c.count}`, c.events, c.count, c.records);
    try {
      let probeMs = NaN;
      const r: RunResult = await runEngine(w, {}, `scaling: ${c.label} campaigns`, async () => {
        progress(`scaling: ${c.label} campaigns, campaign-to-trigger probe`);
        probeMs = await campaignToFirstTrigger(w.topics);
      });
      verify(`${c.label} campaigns`, w, r);
      rows.push({
        campaigns: c.label,
        count: c.count,
        events: c.events,
        eventsPerSec: r.eventsPerSec,
        peakRssMiB: r.peakRssMiB,
        loadSeconds: r.startSeconds,
        campaignToTriggerMs: probeMs,
      });
    } finally {
      await dropWorkload(w);
    }
  }
  return rows;
}
