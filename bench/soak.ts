// `npm run soak [-- --minutes 10 --rate 13340]`: the engine (a child process, default workers) under a
// steady event rate for a long time while campaigns change every second. Passes when the engine's RSS stays
// flat after the warm-up and no trigger is lost (bench/soak/check.ts says how that is judged while campaigns
// change). Prints the tables, writes bench/results/soak-<time>.json, exits 1 on a failed check.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EngineProcess } from "../test/helpers/engine-process.js";
import { readToEnd, useBootstrap } from "../test/helpers/kafka.js";
import {
  bootstrap,
  createRunTopics,
  deleteTopics,
  endOffsets,
  localBroker,
  produceBulk,
  recordCount,
  waitCommitted,
  runTopics,
} from "./lib/kafka.js";
import { machine } from "./lib/machine.js";
import { fmt, table } from "./lib/report.js";
import { checkChanging, checkStable } from "./soak/check.js";
import { CampaignChurn } from "./soak/churn.js";
import { PacedProducer } from "./soak/pacer.js";
import {
  cpuSeconds,
  LagProbe,
  load1,
  ownCpuSeconds,
  procStatus,
  scrapeEngineMemory,
  RSS_CRITERION,
  rssVerdict,
  type Sample,
} from "./soak/samples.js";
import { TriggerReader } from "./soak/trigger-reader.js";
import {
  buildTemplates,
  EVENT_PARTITIONS,
  eventJson,
  stableCampaignRecords,
  templateOf,
} from "./soak/workload.js";

/** Half the engine's measured end-to-end maximum on the reference machine (BENCHMARKS.md: 26,681 events/s). */
const HALF_OF_MAX = 13_340;

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: String(HALF_OF_MAX) },
    minutes: { type: "string", default: "10" },
    "warmup-minutes": { type: "string" },
    "sample-seconds": { type: "string", default: "5" },
    "change-ms": { type: "string", default: "1000" },
    churn: { type: "string", default: "all" },
    templates: { type: "string", default: "50000" },
    "keep-topics": { type: "boolean", default: false },
  },
});
const positive = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${String(values[name])}`);
  return n;
};
const rate = positive("rate");
const minutes = positive("minutes");
const warmupSeconds =
  // RSS climbed for about 2 minutes in each of the 10-minute runs here (BENCHMARKS.md, "Soak"), with or
  // without campaigns being created and deleted: the steady part starts after that.
  60 * (values["warmup-minutes"] === undefined ? Math.min(2, minutes / 5) : positive("warmup-minutes"));
const sampleMs = positive("sample-seconds") * 1000;
const changeMs = positive("change-ms");
if (values.churn !== "all" && values.churn !== "versions")
  throw new Error(`--churn must be all (versions, creations, deletions) or versions, got ${values.churn}`);
const createAndDelete = values.churn === "all";
const templateCount = Math.round(positive("templates"));
const total = Math.round(rate * minutes * 60);
const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const log = (text: string) => process.stderr.write(`soak: ${text}\n`);

/** A port nobody listens on now, for the engine's HTTP endpoints. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

const id = `soak-${randomUUID().slice(0, 8)}`;
const topics = runTopics(id);
const group = `${id}-engine`;
const dir = mkdtempSync(join(tmpdir(), `rtcrm-${id}-`));
const results: Record<string, unknown> = {};
const failures: string[] = [];
const started = Date.now();
let startedBroker = false;
let engine: EngineProcess | undefined;
let topicsCreated = false;

try {
  if (process.env.RTCRM_BENCH_BOOTSTRAP === undefined && !localBroker("status")) {
    startedBroker = localBroker("start");
    if (!startedBroker) throw new Error("the local Kafka broker did not start (npm run kafka:start)");
  }
  useBootstrap(bootstrap);
  const m = machine();
  log(`${m.cpu}, ${m.cores} cores, Node ${m.node}, Kafka ${m.kafka}; broker ${bootstrap}`);
  log(
    `plan: ${fmt(rate)} events/s for ${minutes} min (${fmt(total)} events), a campaign change every ${changeMs} ms`,
  );
  results.machine = m;
  results.plan = {
    rate,
    minutes,
    events: total,
    warmupSeconds,
    sampleSeconds: sampleMs / 1000,
    changeMs,
    churn: values.churn,
    templates: templateCount,
    bootstrap,
  };
  results.loadAverageAtStart = load1();

  log(`generating ${fmt(templateCount)} event templates and their expected triggers`);
  const stable = stableCampaignRecords();
  const templates = buildTemplates(templateCount, stable);

  await createRunTopics(topics, EVENT_PARTITIONS);
  topicsCreated = true;
  await produceBulk(
    topics.campaigns,
    1,
    stable.map((value) => ({
      key: String((JSON.parse(value) as { campaign_id: number }).campaign_id),
      value,
    })),
  );

  const httpPort = await freePort();
  const configPath = join(dir, "config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      kafka_bootstrap_servers: bootstrap,
      kafka_group_id: group,
      event_topic: topics.events,
      campaign_topic: topics.campaigns,
      trigger_topic: topics.triggers,
      dead_letter_topic: topics.dlq,
      campaign_status_topic: topics.status,
      filters_compiled_dir: join(dir, "filters-compiled"),
      // Metrics on, as by default: their per-campaign state is part of what must not grow.
      http_host: "127.0.0.1",
      http_port: httpPort,
      log_level: "info",
    }),
  );
  const spawnedAt = Date.now();
  engine = new EngineProcess(configPath);
  await engine.waitForLog(/"msg":"partitions assigned"/, 300_000);
  const pid = engine.child.pid;
  log(`engine pid ${pid} consuming after ${((Date.now() - spawnedAt) / 1000).toFixed(1)} s`);
  results.engineIdleRssMiB = procStatus(pid).rssMiB;

  const sentAt = new Float64Array(total);
  const reader = new TriggerReader(bootstrap, topics.triggers, sentAt, `${id}-reader`);
  await reader.start(EVENT_PARTITIONS);
  const churn = new CampaignChurn(bootstrap, topics.campaigns, createAndDelete);
  await churn.connect();
  const probe = new LagProbe(bootstrap, group, topics.events);
  await probe.connect();
  const pacer = new PacedProducer(bootstrap, topics.events, EVENT_PARTITIONS, sentAt);
  await pacer.connect();

  const samples: Sample[] = [];
  const t0 = Date.now();
  const sample = async (): Promise<Sample> => {
    const s: Sample = {
      t: Math.round((Date.now() - t0) / 100) / 10,
      ...procStatus(pid),
      engineCpuS: cpuSeconds(pid, clockTicks),
      ...(await scrapeEngineMemory(httpPort)),
      soakCpuS: ownCpuSeconds(),
      lag: await probe.lag(),
      sent: pacer.sent,
      triggersRead: reader.read,
      load1: load1(),
    };
    samples.push(s);
    return s;
  };
  let sampling = true;
  const sampler = (async () => {
    let next = Date.now();
    while (sampling) {
      const s = await sample();
      if (samples.length % Math.max(1, Math.round(30_000 / sampleMs)) === 1)
        log(
          `t=${s.t.toFixed(0)} s  sent ${s.sent.toLocaleString("en-US")}  RSS ${s.rssMiB} MiB  main heap ${s.mainHeapMiB}/${s.mainHeapTotalMiB} MiB  worker heap ${s.workerHeapTotalMiB} MiB  sandbox ${s.sandboxMiB} MiB  lag ${s.lag}  triggers ${s.triggersRead.toLocaleString("en-US")}  load ${s.load1}`,
        );
      next += sampleMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  })();

  churn.start(changeMs);
  await pacer.run(rate, (n) => Buffer.from(eventJson(templateOf(templates, n), n)));
  const productionSeconds = (Date.now() - t0) / 1000;
  const atEnd = await sample();
  await churn.stop();
  await pacer.close(120_000);
  log(
    `production done in ${productionSeconds.toFixed(1)} s; lag ${atEnd.lag}; waiting for the engine to commit everything`,
  );

  const ends = await endOffsets(topics.events);
  const committedAt = await waitCommitted(group, topics.events, ends, 600_000);
  const drainSeconds = Math.max(0, (committedAt - t0) / 1000 - productionSeconds);
  const triggerEnds = await endOffsets(topics.triggers);
  const deadline = Date.now() + 300_000;
  while ([...triggerEnds].some(([p, end]) => (reader.positions.get(p) ?? 0) < end)) {
    if (Date.now() > deadline) throw new Error("the trigger topic was not read to its end within 300 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  sampling = false;
  await sampler;
  const drained = await sample();
  await reader.stop();
  await probe.disconnect();
  const exitCode = await engine.stop("SIGTERM", 120_000);
  if (reader.error) failures.push(`reading triggers failed: ${reader.error.message}`);

  const statuses: Record<string, number> = {};
  for (const r of await readToEnd(topics.status, 120_000)) {
    const s = r.value === null ? "tombstone" : ((JSON.parse(r.value) as { status: string }).status ?? "?");
    statuses[s] = (statuses[s] ?? 0) + 1;
  }
  const deadLetters = await recordCount(topics.dlq);

  log("checking triggers against the reference");
  const stableCheck = checkStable(templates, reader.stableFound, total);
  const changingCheck = checkChanging(templates, reader.changing, churn.written);
  const rss = rssVerdict(samples, warmupSeconds, productionSeconds);
  const achieved = total / productionSeconds;
  const first = samples[0] as Sample;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const warnings = engine.lines.filter((l) => /"level":"(warn|error)"/.test(l));

  const production = {
    targetPerSec: rate,
    achievedPerSec: achieved,
    events: total,
    seconds: productionSeconds,
    lagAtEnd: atEnd.lag,
    drainSeconds,
    // Cores used during production: the engine (all its threads) and this process (producer, reader).
    engineCores: ((atEnd.engineCpuS ?? NaN) - (first.engineCpuS ?? NaN)) / (atEnd.t - first.t),
    soakCores: (atEnd.soakCpuS - first.soakCpuS) / (atEnd.t - first.t),
    meanLoad1: mean(samples.filter((x) => x.t <= productionSeconds).map((x) => x.load1)),
  };
  results.production = production;
  results.campaignChanges = {
    writes: churn.written.length,
    versions: churn.written.filter((w) => w.record !== null).length,
    deletions: churn.written.filter((w) => w.record === null).length,
    skippedTicks: churn.skipped,
    statuses,
  };
  results.rss = {
    criterion: RSS_CRITERION,
    ...rss,
    afterDrainMiB: drained.rssMiB,
    peakMiB: drained.peakRssMiB,
  };
  results.triggers = {
    read: reader.read,
    duplicates: reader.duplicates + changingCheck.duplicates,
    unreadable: reader.unreadable,
    stable: stableCheck,
    changing: changingCheck,
  };
  results.deadLetters = deadLetters;
  const latency = reader.latencyPerMinute();
  results.latencyPerMinute = latency;
  results.engine = { exitCode, warnings: warnings.length, warningSamples: warnings.slice(0, 10) };
  results.loadAverageAtEnd = load1();
  results.samples = samples;

  if (stableCheck.missing > 0) failures.push(`${stableCheck.missing} triggers of stable campaigns missing`);
  if (stableCheck.unexpected > 0)
    failures.push(`${stableCheck.unexpected} unexpected triggers of stable campaigns`);
  if (changingCheck.missing > 0)
    failures.push(`${changingCheck.missing} triggers of changing campaigns missing`);
  if (changingCheck.inconsistent > 0)
    failures.push(
      `${changingCheck.inconsistent} triggers of changing campaigns inconsistent with their version`,
    );
  if (changingCheck.outOfOrder > 0)
    failures.push(`${changingCheck.outOfOrder} version regressions along a partition`);
  if (reader.unreadable > 0) failures.push(`${reader.unreadable} triggers unreadable`);
  if (deadLetters > 0) failures.push(`${deadLetters} dead letters (every event is well-formed)`);
  if ((statuses.rejected ?? 0) > 0) failures.push(`${statuses.rejected} campaign versions rejected`);
  if (exitCode !== 0) failures.push(`engine exited with ${exitCode} on SIGTERM`);
  if (!rss.pass)
    failures.push(
      `RSS not flat: growth at equal lag ${fmt(rss.growthAtEqualLagMiBPerMin)} MiB/min (limit ${RSS_CRITERION.maxGrowthMiBPerMin}), end/start ${fmt(rss.endOverStart)} (limit ${RSS_CRITERION.maxEndOverStart})`,
    );

  const int = (n: number | null) => (n === null ? "n/a" : Math.round(n).toLocaleString("en-US"));
  const closest = (at: number) =>
    samples.reduce((best, x) => (Math.abs(x.t - at) < Math.abs(best.t - at) ? x : best));
  const lowest = (from: number) => {
    const xs = samples.filter((x) => x.t >= from && x.t < from + 60 && x.t <= productionSeconds);
    return xs.length === 0 ? "n/a" : Math.min(...xs.map((x) => x.rssMiB ?? Infinity));
  };
  const rows: { label: string; s: Sample }[] = [];
  for (let minute = 0; minute * 60 < productionSeconds - sampleMs / 2000; minute++)
    rows.push({ label: String(minute), s: closest(minute * 60) });
  rows.push({ label: "end", s: atEnd }, { label: "drained", s: drained });
  const out = [
    table(
      `Soak: ${fmt(achieved)} events/s (target ${fmt(rate)}) for ${fmt(productionSeconds)} s, ${churn.written.length} campaign writes`,
      rows.map(({ label, s }, i) => {
        const before = rows[i - 1]?.s;
        const cpu =
          before && s.engineCpuS !== null && before.engineCpuS !== null && s.t > before.t
            ? `${Math.round(((s.engineCpuS - before.engineCpuS) / (s.t - before.t)) * 100)}%`
            : "";
        return {
          minute: label,
          "t s": s.t.toFixed(0),
          "RSS MiB": s.rssMiB ?? "n/a",
          // The lowest RSS of the minute that starts here: garbage-collection peaks left out.
          "min RSS of minute": /^\d+$/.test(label) ? lowest(Number(label) * 60) : "",
          "main heap MiB": s.mainHeapMiB ?? "n/a",
          "main external MiB": s.mainExternalMiB ?? "n/a",
          "main heap reserved MiB": s.mainHeapTotalMiB ?? "n/a",
          "worker heap reserved MiB": s.workerHeapTotalMiB ?? "n/a",
          "sandbox MiB": s.sandboxMiB ?? "n/a",
          threads: int(s.threads),
          "engine CPU": cpu,
          "events sent": int(s.sent),
          "lag events": int(s.lag),
          "triggers read": int(s.triggersRead),
          load: s.load1.toFixed(2),
        };
      }),
    ),
    table(
      "Trigger latency per minute of production (ms)",
      latency.map((l, minute) => ({
        minute: String(minute),
        triggers: int(l.triggers),
        p50: int(l.p50),
        p99: int(l.p99),
        max: int(l.max),
      })),
    ),
    table("Checks", [
      {
        check: `RSS start (after ${fmt(warmupSeconds / 60)} min warm-up) / end / max MiB`,
        result: `${rss.startMiB} / ${rss.endMiB} / ${rss.maxMiB}`,
      },
      { check: "RSS slope MiB/min (steady part)", result: fmt(rss.slopeMiBPerMin) },
      {
        check: "RSS growth at equal lag MiB/min / MiB per 1,000 events of lag",
        result: `${fmt(rss.growthAtEqualLagMiBPerMin)} / ${fmt(rss.miBPerThousandLag)}`,
      },
      {
        check: "slopes MiB/min: sandbox / worker heap / main heap reserved / main heap used",
        result: [
          rss.parts.sandbox,
          rss.parts.workerHeapReserved,
          rss.parts.mainHeapReserved,
          rss.parts.mainHeapUsed,
        ]
          .map(fmt)
          .join(" / "),
      },
      { check: "RSS end / start", result: fmt(rss.endOverStart) },
      {
        check: `RSS flat (growth at equal lag < ${RSS_CRITERION.maxGrowthMiBPerMin} MiB/min, end < ${RSS_CRITERION.maxEndOverStart}x start)`,
        result: rss.pass ? "PASS" : "FAIL",
      },
      { check: "achieved / target events/s", result: `${fmt(achieved)} / ${fmt(rate)}` },
      {
        check: "cores used by engine / by soak process, mean load average",
        result: `${fmt(production.engineCores)} / ${fmt(production.soakCores)}, ${fmt(production.meanLoad1)}`,
      },
      { check: "lag at end of production / drain s", result: `${atEnd.lag} / ${fmt(drainSeconds)}` },
      {
        check: "stable triggers expected / found / missing / unexpected",
        result: `${stableCheck.expected} / ${stableCheck.found} / ${stableCheck.missing} / ${stableCheck.unexpected}`,
      },
      {
        check: "changing: versions written / triggered",
        result: `${changingCheck.versionsWritten} / ${changingCheck.versionsTriggered}`,
      },
      {
        check: "changing: triggers / inconsistent / out of order",
        result: `${changingCheck.triggers} / ${changingCheck.inconsistent} / ${changingCheck.outOfOrder}`,
      },
      {
        check: "changing: covered events / missing",
        result: `${changingCheck.covered} / ${changingCheck.missing}`,
      },
      {
        check: "duplicates / dead letters / engine warnings",
        result: `${reader.duplicates + changingCheck.duplicates} / ${deadLetters} / ${warnings.length}`,
      },
      { check: "campaign statuses", result: JSON.stringify(statuses) },
      {
        check: "no trigger lost",
        result: stableCheck.missing + changingCheck.missing === 0 ? "PASS" : "FAIL",
      },
    ]),
  ];
  process.stdout.write(out.join("\n") + "\n");
  for (const s of [...stableCheck.samples, ...changingCheck.samples]) log(s);
} catch (error) {
  failures.push((error as Error).message);
} finally {
  if (engine && engine.child.exitCode === null && engine.child.signalCode === null)
    await engine.stop("SIGKILL").catch(() => undefined);
  if (topicsCreated && !values["keep-topics"]) await deleteTopics(Object.values(topics));
  rmSync(dir, { recursive: true, force: true });
  if (startedBroker) localBroker("stop");
}

results.durationSeconds = (Date.now() - started) / 1000;
results.finishedAt = new Date().toISOString();
results.failures = failures;
const resultsDir = fileURLToPath(new URL("../../bench/results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const file = `${resultsDir}soak-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
process.stdout.write(`\nresults: ${file}\n`);
if (failures.length > 0) {
  process.stderr.write(`\nSOAK FAILED: ${failures.join("; ")}\n`);
  process.exit(1);
}
process.stdout.write("SOAK PASSED\n");
process.exit(0);
