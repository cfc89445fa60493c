// Scenario 2: a pre-filled events topic, the engine started from the earliest offset with N campaigns, until
// every event is committed; next to it, kcat pipelines on the same topic (bench/lib/kcat.ts: librdkafka alone,
// the reference) and the Node pass-through (bench/passthrough.ts: the first build's client pattern).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EngineProcess } from "../../test/helpers/engine-process.js";
import { scanToEnd } from "../../test/helpers/kafka.js";
import { ExpectedTriggers } from "../lib/expected.js";
import { runKcatPipeline, type KcatResult } from "../lib/kcat.js";
import {
  bootstrap,
  createRunTopics,
  createTopic,
  deleteTopics,
  endOffsets,
  produceBulk,
  recordCount,
  waitCommitted,
  runTopics,
  type RunTopics,
} from "../lib/kafka.js";
import { progress } from "../lib/report.js";
import { campaignRecord, generateCampaigns, generateEvents } from "../workload/generator.js";

export const EVENT_PARTITIONS = 3;

export interface Workload {
  readonly id: string;
  readonly topics: RunTopics;
  readonly events: number;
  readonly campaigns: number;
  /** The campaign records written to the campaign topic. */
  readonly records: string[];
  readonly expectedTriggers: number;
  /** Expected triggers per event (index = offset * partitions + partition). */
  readonly countsPath: string;
  readonly bytes: number;
  readonly dir: string;
}

/**
 * Creates topics, writes `campaigns` generated campaigns (or `campaignRecords`) and `events` generated events, and
 * the expectation: the triggers of `expectedFrom` (default: every campaign written; a run with campaigns that can
 * never match, such as hostile ones the sandbox stops, names the others). With `only`, every event has that game
 * and event name.
 */
export async function prepareWorkload(
  name: string,
  events: number,
  campaigns: number,
  campaignRecords?: string[],
  expectedFrom?: string[],
  only?: { game: string; eventName: string },
): Promise<Workload> {
  const id = `bench-${name}-${randomUUID().slice(0, 8)}`;
  const topics = runTopics(id);
  await createRunTopics(topics, EVENT_PARTITIONS);
  const records = campaignRecords ?? generateCampaigns(7, campaigns).map(campaignRecord);
  await produceBulk(
    topics.campaigns,
    1,
    records.map((value) => ({
      key: String((JSON.parse(value) as { campaign_id: number }).campaign_id),
      value,
    })),
  );

  progress(`${name}: generating ${events.toLocaleString("en-US")} events and their expected triggers`);
  const expected = new ExpectedTriggers(expectedFrom ?? records);
  const counts = new Uint8Array(events);
  const now = Date.now();
  let total = 0;
  let bytes = 0;
  function* values(): Generator<string> {
    let i = 0;
    for (const e of generateEvents(11, events, undefined, only)) {
      const n = expected.matches(e.json, e.game, e.eventName, now).length;
      counts[i++] = n;
      total += n;
      bytes += e.json.length;
      yield e.json;
    }
  }
  progress(`${name}: producing ${events.toLocaleString("en-US")} events`);
  await produceBulk(topics.events, EVENT_PARTITIONS, values());
  const dir = mkdtempSync(join(tmpdir(), `${id}-`));
  const countsPath = join(dir, "counts.bin");
  writeFileSync(countsPath, counts);
  return {
    id,
    topics,
    events,
    campaigns: records.length,
    records,
    expectedTriggers: total,
    countsPath,
    bytes,
    dir,
  };
}

export async function dropWorkload(w: Workload): Promise<void> {
  await deleteTopics(Object.values(w.topics));
}

export function engineConfig(
  w: Workload,
  group: string,
  triggerTopic: string,
  extra: Record<string, unknown> = {},
): string {
  const path = join(w.dir, `${group}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      kafka_bootstrap_servers: bootstrap,
      kafka_group_id: group,
      event_topic: w.topics.events,
      campaign_topic: w.topics.campaigns,
      trigger_topic: triggerTopic,
      dead_letter_topic: w.topics.dlq,
      campaign_status_topic: w.topics.status,
      create_topics: true,
      filters_compiled_dir: join(w.dir, "filters-compiled"),
      commit_interval_ms: 200,
      log_level: "info",
      ...extra,
    }),
  );
  return path;
}

export interface RunResult {
  seconds: number;
  eventsPerSec: number;
  triggers: number;
  peakRssMiB: number | null;
  startSeconds: number;
}

/** The process's peak RSS (VmHWM), or its RSS now (VmRSS), in MiB; null when it cannot be read. */
export function peakRss(pid: number | undefined, field: "VmHWM" | "VmRSS" = "VmHWM"): number | null {
  if (pid === undefined) return null;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

const logTime = (line: string): number => Date.parse((JSON.parse(line) as { time: string }).time);

/** Runs the engine on the workload from the earliest offset until every event is committed. */
export async function runEngine(
  w: Workload,
  extra: Record<string, unknown> = {},
  label = "engine",
  whileRunning?: (engine: EngineProcess) => Promise<void>,
): Promise<RunResult> {
  const group = `${w.id}-engine-${randomUUID().slice(0, 6)}`;
  // Exactly-once: triggers to a topic of their own, counted by reading it (its offsets include the
  // transaction markers, so offsets do not count records).
  const exactlyOnce = extra.delivery === "exactly-once";
  const triggerTopic = exactlyOnce
    ? `${w.topics.triggers}-eos-${randomUUID().slice(0, 6)}`
    : w.topics.triggers;
  if (exactlyOnce)
    await createTopic(triggerTopic, EVENT_PARTITIONS, { "message.timestamp.type": "LogAppendTime" });
  const count = (): Promise<number> =>
    exactlyOnce ? scanToEnd(triggerTopic, () => undefined, 600_000, bootstrap) : recordCount(triggerTopic);
  const before = exactlyOnce ? 0 : await count();
  progress(`${label}: ${w.events.toLocaleString("en-US")} events, ${w.campaigns} campaigns`);
  const spawned = Date.now();
  const engine = new EngineProcess(engineConfig(w, group, triggerTopic, extra));
  try {
    const started = logTime(await engine.waitForLog(/"msg":"engine started"/, 600_000));
    const assigned = logTime(await engine.waitForLog(/"msg":"partitions assigned"/, 60_000));
    const t0 = Math.max(started, assigned);
    const done = await waitCommitted(group, w.topics.events, await endOffsets(w.topics.events), 1_800_000);
    const rss = peakRss(engine.child.pid);
    const triggers = (await count()) - before;
    const seconds = (done - t0) / 1000;
    await whileRunning?.(engine);
    return {
      seconds,
      eventsPerSec: w.events / seconds,
      triggers,
      peakRssMiB: rss,
      startSeconds: (started - spawned) / 1000,
    };
  } finally {
    await engine.stop("SIGTERM").catch(() => engine.stop("SIGKILL"));
    if (exactlyOnce) await deleteTopics([triggerTopic]);
  }
}

/** The same workload through the pass-through (consume, produce the expected number of records, commit). */
export async function runPassthrough(w: Workload): Promise<RunResult> {
  const group = `${w.id}-passthrough`;
  const triggerTopic = `${w.topics.triggers}-passthrough`;
  await createTopic(triggerTopic, EVENT_PARTITIONS);
  progress(`pass-through: ${w.events.toLocaleString("en-US")} events`);
  const script = fileURLToPath(new URL("../passthrough.js", import.meta.url));
  const child = spawn(
    process.execPath,
    [script, engineConfig(w, group, triggerTopic), w.countsPath, String(EVENT_PARTITIONS)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => d.toString().includes("passthrough started") && resolve());
      child.on("exit", (code) => reject(new Error(`pass-through exited with ${code}`)));
    });
    const t0 = Date.now();
    const done = await waitCommitted(group, w.topics.events, await endOffsets(w.topics.events), 1_800_000);
    const seconds = (done - t0) / 1000;
    return {
      seconds,
      eventsPerSec: w.events / seconds,
      triggers: await recordCount(triggerTopic),
      peakRssMiB: peakRss(child.pid),
      startSeconds: 0,
    };
  } finally {
    child.kill("SIGKILL");
    await deleteTopics([triggerTopic]);
  }
}

/** A kcat consume -> produce pipeline on the workload: one record per event, or one per expected trigger. */
export function runKcat(w: Workload, per: "event" | "trigger"): Promise<KcatResult> {
  progress(`kcat pipeline, one record per ${per}: ${w.events.toLocaleString("en-US")} events`);
  return runKcatPipeline({
    topic: w.topics.events,
    events: w.events,
    partitions: EVENT_PARTITIONS,
    expectedRecords: per === "event" ? w.events : w.expectedTriggers,
    ...(per === "trigger" ? { countsPath: w.countsPath } : {}),
  });
}

/** Throws when a run lost events or produced the wrong number of triggers. */
export function verify(label: string, w: Workload, r: RunResult): void {
  if (r.triggers !== w.expectedTriggers) {
    throw new Error(
      `${label}: ${r.triggers} triggers produced, ${w.expectedTriggers} expected (events lost or duplicated)`,
    );
  }
}
