// Scenario delivery-rules (issue 15): what the delivery rules cost on the event path, and what their state costs.
//
// Throughput, in one run so that the ratios compare runs of the same moment of this (shared) machine: the same
// events through the real engine with the 20 campaigns of the end-to-end scenario (a) without rules, (b) with a
// frequency cap on every campaign and unkeyed events (the default: matches go through the repartition topic),
// (c) the same caps with the events keyed by player_id and events_keyed_by_player (state in the event's own
// partition), and (a') without rules on the keyed events, last: a' / a is the noise between runs, and c / a' the
// cost of the rules alone. The generator's player ids are folded onto `players` players, so that caps are reached.
// Every run's triggers, and each campaign's triggers and capped matches (its /metrics), must equal what the pure
// decide() of src/rules/decide.ts gives on the same events; in (c), where a player's events keep their order,
// each event's own triggers too (by their rtcrm-source header). Next to events/s, the engine's main-thread CPU
// seconds over each run (/proc): that thread (Kafka I/O, decoding, the rules) limits the rate, and its CPU per
// event is a ratio that the other load of a shared machine moves far less than the wall clock.
//
// State: a changelog topic pre-filled with player states (src/rules/player-state.ts encodeState; one to three
// capped campaigns per player, one to three trigger times each) is restored by an engine started on its group:
// the engine's "delivery-rule state restored" lines (records, ms per partition) give players/s, extrapolated to
// 10 million players; then the LMDB directory's size per player and per player-campaign, and the changelog's bytes
// per record. Two sizes, so that the extrapolation can see whether the rate falls as the store grows.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign, type Campaign } from "../../src/campaigns/campaign.js";
import { METRIC_NAMES } from "../../src/metrics/metric-names.js";
import { decide } from "../../src/rules/decide.js";
import { emptyState, encodeState, type PlayerState } from "../../src/rules/player-state.js";
import { playerPartition } from "../../src/rules/repartition.js";
import { HEADER_SOURCE } from "../../src/triggers/trigger.js";
import { EngineProcess } from "../../test/helpers/engine-process.js";
import { scanToEnd } from "../../test/helpers/kafka.js";
import { ExpectedTriggers } from "../lib/expected.js";
import {
  bootstrap,
  createRunTopics,
  createTopic,
  deleteTopicsNamed,
  endOffsets,
  produceBulk,
  recordCount,
  runTopics,
  topicBytesOnDisk,
  waitCommitted,
  type KeyedValue,
  type RunTopics,
} from "../lib/kafka.js";
import { progress, type Row } from "../lib/report.js";
import { campaignRecord, generateCampaigns, generateEvents, rng } from "../workload/generator.js";
import { EVENT_PARTITIONS, engineConfig, peakRss, type Workload } from "./end-to-end.js";

/** The seeds of the end-to-end scenario: the same 20 campaigns and the same events. */
const CAMPAIGN_SEED = 7;
const EVENT_SEED = 11;
const CAMPAIGNS = 20;
/** The generator's created_at of event n is this plus n * 10 ms (generateEvents' default). */
const EVENTS_BASE_MS = Date.parse("2026-01-01T00:00:00Z");
/** Folded player ids start here: nine digits, as most of the generator's. */
const PLAYER_BASE = 100_000_000;

export const TARGETS = {
  /** Events/s with a cap on every campaign over the same run without rules. */
  ratio: 0.7,
  bytesPerPlayerCampaign: 100,
  /** Seconds to restore 10 million players. */
  restore10MSeconds: 60,
} as const;

export interface DeliveryRulesPlan {
  readonly events: number;
  /** Players the events are spread over. */
  readonly players: number;
  readonly cap: { readonly max: number; readonly period: string };
  /** Players of each restore measurement, smallest first. */
  readonly restorePlayers: readonly number[];
}

export interface CampaignCounts {
  matches: number;
  triggers: number;
  capped: number;
}

export interface ThroughputRun {
  readonly run: "a" | "b" | "c" | "a'";
  readonly name: string;
  readonly events: "unkeyed" | "keyed by player_id";
  readonly rules: boolean;
  seconds: number;
  eventsPerSec: number;
  /** Against (a) of the same run. */
  ratio: number;
  /**
   * CPU seconds of the engine over the run: every thread, and its main thread alone (Kafka I/O, decoding, the
   * rules; the filters run in the worker). The main thread is the one that limits the rate here.
   */
  cpuSeconds: number | null;
  mainThreadCpuSeconds: number | null;
  /** (a)'s main-thread CPU per event over this run's: the ratio with a core for each, unaffected by other load. */
  cpuRatio: number;
  triggers: number;
  expectedTriggers: number;
  /** Matches not sent because of a cap (the engine's /metrics). */
  capped: number;
  expectedCapped: number;
  /** Per campaign, from /metrics. */
  perCampaign: Record<string, CampaignCounts>;
  /** Records written to the repartition topic (b only). */
  repartitioned: number | null;
  /** Records the run wrote to its changelog topic, and their bytes in the broker's log segments. */
  changelogRecords: number | null;
  changelogBytesPerRecord: number | null;
  /** The LMDB directory after the run (allocated blocks), and the players it holds state for. */
  stateBytes: number | null;
  statePlayers: number | null;
  peakRssMiB: number | null;
  startSeconds: number;
  /** (c) only: events whose own triggers differ from the reference's (partition/offset: got of expected). */
  perEventMismatches: string[] | null;
}

export interface RestoreRun {
  players: number;
  playerCampaigns: number;
  /** Average bytes of a changelog record's key and value (the encoded state). */
  keyBytes: number;
  valueBytes: number;
  /** The engine's "delivery-rule state restored" lines. */
  partitions: { partition: number; records: number; ms: number }[];
  records: number;
  /** Sum of the partitions' ms (they are restored one after another). */
  ms: number;
  playersPerSec: number;
  /** "partitions assigned" to the last partition restored. */
  wallMs: number;
  /** The engine's main-thread CPU seconds over that time, and the players restored per second of it. */
  mainThreadCpuSeconds: number | null;
  playersPerCpuSecond: number | null;
  tenMillionSeconds: number;
  /** The LMDB directory after the restore and a clean stop: blocks allocated, and file sizes. */
  lmdbBytes: number;
  lmdbApparentBytes: number;
  bytesPerPlayer: number;
  bytesPerPlayerCampaign: number;
  changelogBytes: number | null;
  changelogBytesPerRecord: number | null;
  rssAfterRestoreMiB: number | null;
}

export interface Check {
  check: string;
  measured: string;
  status: "PASS" | "FAIL" | "MISS";
}

export interface DeliveryRulesResult {
  plan: DeliveryRulesPlan;
  workload: {
    events: number;
    bytes: number;
    players: number;
    campaigns: number;
    matches: number;
    /** Players who matched at least one campaign: those the rules keep state for. */
    matchedPlayers: number;
  };
  runs: ThroughputRun[];
  ratios: { bOverA: number; cOverA: number; cOverAPrime: number; aPrimeOverA: number };
  /** The same by main-thread CPU per event. */
  cpuRatios: { bOverA: number; cOverA: number; cOverAPrime: number; aPrimeOverA: number };
  restores: RestoreRun[];
  checks: Check[];
  /** Whether any check of correctness failed (a MISS of a target is not one). */
  failed: boolean;
}

/** What the pure rules give on the events, in their order (the order of each player's events in (c)). */
interface Reference {
  readonly perCampaign: Map<number, CampaignCounts>;
  readonly triggers: number;
  readonly capped: number;
  /** Expected triggers of each event of the keyed topic, by partition and offset. */
  readonly keyedPerEvent: Uint8Array[];
}

interface Prepared {
  readonly id: string;
  readonly topics: RunTopics;
  readonly keyedEvents: string;
  readonly cappedCampaigns: string;
  readonly cappedStatus: string;
  readonly holdouts: string;
  readonly workload: Workload;
  readonly matches: number;
  readonly matchedPlayers: number;
  readonly reference: Reference;
}

const fold = (json: string, players: number): { json: string; player: number } => {
  let player = 0;
  const folded = json.replace(/"player_id":(\d+)/, (_, id: string) => {
    player = PLAYER_BASE + (Number(id) % players);
    return `"player_id":${player}`;
  });
  if (player === 0) throw new Error("a generated event without a numeric player_id");
  return { json: folded, player };
};

function cappedRecords(plan: DeliveryRulesPlan): string[] {
  return generateCampaigns(CAMPAIGN_SEED, CAMPAIGNS).map((c) =>
    JSON.stringify({ ...(JSON.parse(campaignRecord(c)) as object), frequency_cap: plan.cap }),
  );
}

function parsed(record: string): Campaign {
  const r = parseCampaign(JSON.parse(record));
  if (!r.ok) throw new Error(`bench campaign invalid: ${r.reasons.join("; ")}`);
  return r.campaign;
}

async function prepare(plan: DeliveryRulesPlan): Promise<Prepared> {
  const id = `bench-delivery-rules-${randomUUID().slice(0, 8)}`;
  const topics = runTopics(id);
  const keyedEvents = `${id}-events-keyed`;
  const cappedCampaigns = `${id}-campaigns-capped`;
  const cappedStatus = `${id}-status-capped`;
  const holdouts = `${id}-holdouts`;
  await createRunTopics(topics, EVENT_PARTITIONS);
  await createTopic(keyedEvents, EVENT_PARTITIONS);
  await createTopic(cappedCampaigns, 1, { "cleanup.policy": "compact" });
  await createTopic(cappedStatus, 1, { "cleanup.policy": "compact" });
  await createTopic(holdouts, EVENT_PARTITIONS);

  const plain = generateCampaigns(CAMPAIGN_SEED, CAMPAIGNS).map(campaignRecord);
  const capped = cappedRecords(plan);
  const keyOf = (record: string) => String((JSON.parse(record) as { campaign_id: number }).campaign_id);
  await produceBulk(
    topics.campaigns,
    1,
    plain.map((value) => ({ key: keyOf(value), value })),
  );
  await produceBulk(
    cappedCampaigns,
    1,
    capped.map((value) => ({ key: keyOf(value), value })),
  );
  const cappedById = new Map(capped.map((r) => [Number(keyOf(r)), parsed(r)]));

  // Pass 1: the unkeyed topic (value i to partition i % 3, as the other scenarios), and each event's player and
  // matched campaigns (a bit per campaign id; the ids are 1..20).
  progress(
    `delivery-rules: generating ${plan.events.toLocaleString("en-US")} events over ${plan.players.toLocaleString("en-US")} players and their expected matches`,
  );
  const expected = new ExpectedTriggers(plain);
  const now = Date.now();
  const players = new Uint32Array(plan.events);
  const masks = new Uint32Array(plan.events);
  let matches = 0;
  let bytes = 0;
  function* unkeyed(): Generator<string> {
    let i = 0;
    for (const e of generateEvents(EVENT_SEED, plan.events)) {
      const { json, player } = fold(e.json, plan.players);
      let mask = 0;
      for (const c of expected.matches(json, e.game, e.eventName, now)) mask |= 1 << c;
      players[i] = player;
      masks[i++] = mask;
      matches += popcount(mask);
      bytes += json.length;
      yield json;
    }
  }
  await produceBulk(topics.events, EVENT_PARTITIONS, unkeyed());

  // Pass 2: the keyed topic, each player's events in one partition (the repartition topic's hash), in order.
  progress(`delivery-rules: producing the events keyed by player_id`);
  const partitionOf = new Uint8Array(plan.events);
  const perPartition = new Array<number>(EVENT_PARTITIONS).fill(0);
  function* keyed(): Generator<KeyedValue> {
    let i = 0;
    for (const e of generateEvents(EVENT_SEED, plan.events)) {
      const { json, player } = fold(e.json, plan.players);
      const key = String(player);
      const partition = playerPartition(key, EVENT_PARTITIONS);
      partitionOf[i++] = partition;
      perPartition[partition]!++;
      yield { key, value: json, partition };
    }
  }
  await produceBulk(keyedEvents, EVENT_PARTITIONS, keyed());

  // The reference: decide() per event in the events' order, each player's state kept from event to event.
  progress("delivery-rules: the pure rules' reference");
  const perCampaign = new Map<number, CampaignCounts>(
    [...cappedById.keys()].map((c) => [c, { matches: 0, triggers: 0, capped: 0 }]),
  );
  const keyedPerEvent = perPartition.map((n) => new Uint8Array(n));
  const offsets = new Array<number>(EVENT_PARTITIONS).fill(0);
  const states = new Map<number, PlayerState>();
  let triggers = 0;
  let capped_ = 0;
  for (let i = 0; i < plan.events; i++) {
    const p = partitionOf[i]!;
    const o = offsets[p]!++;
    const mask = masks[i]!;
    if (mask === 0) continue;
    const candidates: Campaign[] = [];
    for (const [cid, c] of cappedById) if (mask & (1 << cid)) candidates.push(c);
    const player = players[i]!;
    let state = states.get(player);
    if (!state) states.set(player, (state = emptyState()));
    const { deliveries } = decide(
      {
        playerId: String(player),
        nowMs: now,
        createdMs: EVENTS_BASE_MS + i * 10,
        candidates,
        globalCap: null,
      },
      state,
    );
    let n = 0;
    for (const [k, d] of deliveries.entries()) {
      const counts = perCampaign.get(candidates[k]!.campaignId)!;
      counts.matches++;
      if (d.kind === "trigger") {
        counts.triggers++;
        n++;
      } else if (d.kind === "capped") counts.capped++;
      else throw new Error(`delivery-rules reference: unexpected delivery ${d.kind}`);
    }
    triggers += n;
    capped_ += deliveries.length - n;
    keyedPerEvent[p]![o] = n;
  }

  const dir = mkdtempSync(join(tmpdir(), `${id}-`));
  const workload: Workload = {
    id,
    topics,
    events: plan.events,
    campaigns: CAMPAIGNS,
    records: plain,
    expectedTriggers: matches,
    countsPath: "",
    bytes,
    dir,
  };
  return {
    id,
    topics,
    keyedEvents,
    cappedCampaigns,
    cappedStatus,
    holdouts,
    workload,
    matches,
    matchedPlayers: states.size,
    reference: { perCampaign, triggers, capped: capped_, keyedPerEvent },
  };
}

function popcount(n: number): number {
  let c = 0;
  for (; n !== 0; n &= n - 1) c++;
  return c;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Per campaign: matches, triggers and capped matches (both caps) from the engine's /metrics. */
async function scrape(port: number): Promise<Map<number, CampaignCounts>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<number, CampaignCounts>();
  const fields: [string, keyof CampaignCounts][] = [
    [METRIC_NAMES.campaignMatches, "matches"],
    [METRIC_NAMES.campaignTriggers, "triggers"],
    [METRIC_NAMES.campaignCapped, "capped"],
  ];
  for (const line of text.split("\n")) {
    const m = /^(\w+)\{campaign_id="(\d+)"[^}]*\} (\S+)$/.exec(line);
    if (!m) continue;
    const field = fields.find(([name]) => name === m[1])?.[1];
    if (!field) continue;
    const id = Number(m[2]);
    const counts = out.get(id) ?? { matches: 0, triggers: 0, capped: 0 };
    counts[field] += Number(m[3]);
    out.set(id, counts);
  }
  return out;
}

/** Blocks allocated (as du counts them) and the files' sizes, under `dir`. */
function diskUsage(dir: string): { allocated: number; apparent: number } {
  let allocated = 0;
  let apparent = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const d = diskUsage(path);
      allocated += d.allocated;
      apparent += d.apparent;
    } else if (entry.isFile()) {
      const s = statSync(path);
      allocated += s.blocks * 512;
      apparent += s.size;
    }
  }
  return { allocated, apparent };
}

let clockTicks: number | undefined;

/** CPU seconds (user + system) of a process, or of one of its threads (`tid`); null when not readable. */
function cpuSeconds(pid: number | undefined, tid?: number): number | null {
  if (pid === undefined) return null;
  try {
    clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"]).toString()) || 100;
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    const text = readFileSync(path, "utf8");
    // The fields after "(comm)": state is the first, utime the 12th, stime the 13th.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return null;
  }
}

interface CpuMark {
  readonly all: number | null;
  readonly main: number | null;
}

const cpuMark = (pid: number | undefined): CpuMark => ({ all: cpuSeconds(pid), main: cpuSeconds(pid, pid) });
const cpuSince = (from: CpuMark, to: CpuMark, field: keyof CpuMark): number | null => {
  const a = from[field];
  const b = to[field];
  return a === null || b === null ? null : b - a;
};

const logTime = (line: string): number => Date.parse((JSON.parse(line) as { time: string }).time);

/** Every engine here: its own HTTP port on loopback (for /metrics), and a stop that finishes its work. */
async function engineExtra(): Promise<Record<string, unknown>> {
  return { http_host: "127.0.0.1", http_port: await freePort(), shutdown_timeout_ms: 120_000 };
}

async function started(engine: EngineProcess): Promise<string> {
  return Promise.race([
    engine.waitForLog(/"msg":"engine started"/, 600_000),
    engine.exited.then((code): never => {
      throw new Error(`engine exited with ${code} during its start: ${engine.lines.slice(-5).join(" | ")}`);
    }),
  ]);
}

async function stopClean(engine: EngineProcess, label: string): Promise<void> {
  const code = await engine.stop("SIGTERM", 180_000).catch(() => engine.stop("SIGKILL"));
  if (code !== 0) throw new Error(`${label}: the engine did not stop cleanly (exit ${code})`);
}

async function throughputRun(
  w: Prepared,
  run: ThroughputRun["run"],
  rules: boolean,
  keyed: boolean,
): Promise<ThroughputRun> {
  const name = `${rules ? "a cap on every campaign" : "no rules"}, ${keyed ? "events keyed by player_id (events_keyed_by_player)" : "unkeyed events"}${rules && !keyed ? " (repartition topic)" : ""}`;
  const label = `delivery-rules (${run}): ${name}`;
  const group = `${w.id}-${run === "a'" ? "a2" : run}-${randomUUID().slice(0, 6)}`;
  const triggerTopic = `${w.topics.triggers}-${run === "a'" ? "a2" : run}`;
  const repartition = `${group}-rules-repartition`;
  const changelog = `${group}-rules-changelog`;
  await createTopic(triggerTopic, EVENT_PARTITIONS, { "message.timestamp.type": "LogAppendTime" });
  const eventsTopic = keyed ? w.keyedEvents : w.topics.events;
  const stateDir = join(w.workload.dir, `state-${group}`);
  const extra = await engineExtra();
  const config = engineConfig(w.workload, group, triggerTopic, {
    ...extra,
    event_topic: eventsTopic,
    campaign_topic: rules ? w.cappedCampaigns : w.topics.campaigns,
    campaign_status_topic: rules ? w.cappedStatus : w.topics.status,
    holdout_topic: w.holdouts,
    events_keyed_by_player: keyed,
    state_dir: stateDir,
  });
  progress(`${label}: ${w.workload.events.toLocaleString("en-US")} events`);
  const spawned = Date.now();
  const engine = new EngineProcess(config);
  let stopped = false;
  try {
    const startedAt = logTime(await started(engine));
    const assigned = logTime(await engine.waitForLog(/"msg":"partitions assigned"/, 60_000));
    const t0 = Math.max(startedAt, assigned);
    const cpu0 = cpuMark(engine.child.pid);
    const timeout = 1_800_000;
    let done = await waitCommitted(group, eventsTopic, await endOffsets(eventsTopic), timeout);
    // Unkeyed: an event is committed once its matches are written to the repartition topic; they are decided
    // when the engine reads them back, so the run ends when the repartition topic is committed to its end.
    let repartitioned: number | null = null;
    if (!keyed) {
      const ends = await endOffsets(repartition);
      repartitioned = [...ends.values()].reduce((a, b) => a + b, 0);
      done = Math.max(done, await waitCommitted(group, repartition, ends, timeout));
    }
    const cpu1 = cpuMark(engine.child.pid);
    const peakRssMiB = peakRss(engine.child.pid);
    const metrics = await scrape(extra.http_port as number);
    stopped = true;
    await stopClean(engine, label);
    const triggers = await recordCount(triggerTopic);
    const changelogRecords = rules ? await recordCount(changelog) : null;
    const changelogBytes = rules ? topicBytesOnDisk(changelog) : null;
    const state = rules ? diskUsage(stateDir) : null;
    const seconds = (done - t0) / 1000;

    let perEventMismatches: string[] | null = null;
    if (rules && keyed) {
      progress(`${label}: checking each event's triggers`);
      const got = new Map<string, number>();
      await scanToEnd(
        triggerTopic,
        (r) => {
          const source = r.headers[HEADER_SOURCE] ?? "";
          got.set(source, (got.get(source) ?? 0) + 1);
        },
        600_000,
        bootstrap,
      );
      perEventMismatches = [];
      for (const [p, expected] of w.reference.keyedPerEvent.entries())
        for (const [o, n] of expected.entries()) {
          const g = got.get(`${eventsTopic}/${p}/${o}`) ?? 0;
          if (g !== n) perEventMismatches.push(`${p}/${o}: ${g} of ${n}`);
        }
    }
    const perCampaign: Record<string, CampaignCounts> = {};
    let capped = 0;
    for (const [id, c] of [...metrics].sort(([a], [b]) => a - b)) {
      perCampaign[id] = c;
      capped += c.capped;
    }
    return {
      run,
      name,
      events: keyed ? "keyed by player_id" : "unkeyed",
      rules,
      seconds,
      eventsPerSec: w.workload.events / seconds,
      ratio: NaN,
      cpuSeconds: cpuSince(cpu0, cpu1, "all"),
      mainThreadCpuSeconds: cpuSince(cpu0, cpu1, "main"),
      cpuRatio: NaN,
      triggers,
      expectedTriggers: rules ? w.reference.triggers : w.matches,
      capped,
      expectedCapped: rules ? w.reference.capped : 0,
      perCampaign,
      repartitioned,
      changelogRecords,
      changelogBytesPerRecord:
        changelogBytes === null || !changelogRecords ? null : changelogBytes / changelogRecords,
      stateBytes: state?.allocated ?? null,
      statePlayers: rules ? w.matchedPlayers : null,
      peakRssMiB,
      startSeconds: (startedAt - spawned) / 1000,
      perEventMismatches,
    };
  } finally {
    if (!stopped) await engine.stop("SIGKILL");
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Player ids of the restore: distinct (i * an odd constant prime to 10^9, mod 10^9), nine or ten digits. */
const restorePlayer = (i: number): number => 1 + ((i * 2_654_435_761) % 1_000_000_000);

async function restoreRun(w: Prepared, players: number, plan: DeliveryRulesPlan): Promise<RestoreRun> {
  const label = `delivery-rules: restore of ${players.toLocaleString("en-US")} players`;
  const group = `${w.id}-restore-${randomUUID().slice(0, 6)}`;
  const changelog = `${group}-rules-changelog`;
  const repartition = `${group}-rules-repartition`;
  const idle = `${group}-idle-events`;
  await createTopic(idle, EVENT_PARTITIONS);
  await createTopic(repartition, EVENT_PARTITIONS);
  await createTopic(changelog, EVENT_PARTITIONS, { "cleanup.policy": "compact" });

  // States as the engine writes them: one to three of the capped campaigns per player (60 %, 30 %, 10 %), one to
  // cap.max trigger times each within the last 12 hours (inside the cap's period: nothing to expire).
  progress(`${label}: writing the changelog`);
  const random = rng(23);
  const now = Date.now();
  let playerCampaigns = 0;
  let keyBytes = 0;
  let valueBytes = 0;
  function* records(): Generator<KeyedValue> {
    for (let i = 0; i < players; i++) {
      const key = String(restorePlayer(i));
      const r = random();
      const n = r < 0.6 ? 1 : r < 0.9 ? 2 : 3;
      const state = emptyState();
      while (state.campaigns.size < n) {
        const id = 1 + Math.floor(random() * CAMPAIGNS);
        if (state.campaigns.has(id)) continue;
        const times = Array.from(
          { length: 1 + Math.floor(random() * plan.cap.max) },
          () => now - Math.floor(random() * 12 * 3_600_000),
        ).sort((a, b) => a - b);
        state.campaigns.set(id, { count: 0, times });
      }
      playerCampaigns += n;
      const value = encodeState(state);
      keyBytes += key.length;
      valueBytes += value.length;
      yield { key, value, partition: playerPartition(key, EVENT_PARTITIONS) };
    }
  }
  await produceBulk(changelog, EVENT_PARTITIONS, records());
  const changelogBytes = topicBytesOnDisk(changelog);

  const stateDir = join(w.workload.dir, `state-${group}`);
  const config = engineConfig(w.workload, group, `${w.topics.triggers}-restore`, {
    ...(await engineExtra()),
    event_topic: idle,
    campaign_topic: w.cappedCampaigns,
    campaign_status_topic: w.cappedStatus,
    holdout_topic: w.holdouts,
    state_dir: stateDir,
  });
  progress(`${label}: the engine restores it`);
  const engine = new EngineProcess(config);
  let stopped = false;
  try {
    await started(engine);
    const assigned = logTime(await engine.waitForLog(/"msg":"partitions assigned"/, 120_000));
    const cpu0 = cpuMark(engine.child.pid);
    const deadline = Date.now() + 1_800_000;
    let lines: string[] = [];
    for (;;) {
      lines = engine.lines.filter((l) => l.includes('"msg":"delivery-rule state restored"'));
      if (lines.length >= EVENT_PARTITIONS) break;
      const failed = engine.lines.find((l) => l.includes('"msg":"delivery-rule state not restored"'));
      if (failed) throw new Error(`${label}: ${failed}`);
      if (engine.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`${label}: no restore (${engine.lines.slice(-5).join(" | ")})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const cpu1 = cpuMark(engine.child.pid);
    const rssAfterRestoreMiB = rssNow(engine.child.pid);
    const partitions = lines.map((l) => {
      const { partition, records, ms } = JSON.parse(l) as { partition: number; records: number; ms: number };
      return { partition, records, ms };
    });
    const wallMs = Math.max(...lines.map(logTime)) - assigned;
    stopped = true;
    await stopClean(engine, label);
    const records = partitions.reduce((n, p) => n + p.records, 0);
    const ms = partitions.reduce((n, p) => n + p.ms, 0);
    const lmdb = diskUsage(stateDir);
    const playersPerSec = records / (ms / 1000);
    const mainThreadCpuSeconds = cpuSince(cpu0, cpu1, "main");
    return {
      players,
      playerCampaigns,
      keyBytes: keyBytes / players,
      valueBytes: valueBytes / players,
      partitions,
      records,
      ms,
      playersPerSec,
      wallMs,
      mainThreadCpuSeconds,
      playersPerCpuSecond: mainThreadCpuSeconds === null ? null : records / mainThreadCpuSeconds,
      tenMillionSeconds: 10_000_000 / playersPerSec,
      lmdbBytes: lmdb.allocated,
      lmdbApparentBytes: lmdb.apparent,
      bytesPerPlayer: lmdb.allocated / players,
      bytesPerPlayerCampaign: lmdb.allocated / playerCampaigns,
      changelogBytes,
      changelogBytesPerRecord: changelogBytes === null ? null : changelogBytes / players,
      rssAfterRestoreMiB,
    };
  } finally {
    if (!stopped) await engine.stop("SIGKILL");
    rmSync(stateDir, { recursive: true, force: true });
    await deleteTopicsNamed(group);
  }
}

function rssNow(pid: number | undefined): number | null {
  return peakRss(pid, "VmRSS");
}

const whole = (n: number): string => Math.round(n).toLocaleString("en-US");

export async function runDeliveryRules(plan: DeliveryRulesPlan): Promise<DeliveryRulesResult> {
  const w = await prepare(plan);
  try {
    // a, b, c, a': the baseline at both ends of the series, so that a' / a shows the drift between runs.
    const a = await throughputRun(w, "a", false, false);
    const b = await throughputRun(w, "b", true, false);
    const c = await throughputRun(w, "c", true, true);
    const a2 = await throughputRun(w, "a'", false, true);
    const runs = [a, b, c, a2];
    const mainCpu = (r: ThroughputRun): number => r.mainThreadCpuSeconds ?? NaN;
    for (const r of runs) {
      r.ratio = r.eventsPerSec / a.eventsPerSec;
      r.cpuRatio = mainCpu(a) / mainCpu(r);
    }
    const cpuRatios = {
      bOverA: mainCpu(a) / mainCpu(b),
      cOverA: mainCpu(a) / mainCpu(c),
      cOverAPrime: mainCpu(a2) / mainCpu(c),
      aPrimeOverA: mainCpu(a) / mainCpu(a2),
    };
    const ratios = {
      bOverA: b.eventsPerSec / a.eventsPerSec,
      cOverA: c.eventsPerSec / a.eventsPerSec,
      cOverAPrime: c.eventsPerSec / a2.eventsPerSec,
      aPrimeOverA: a2.eventsPerSec / a.eventsPerSec,
    };
    const restores: RestoreRun[] = [];
    for (const n of plan.restorePlayers) restores.push(await restoreRun(w, n, plan));

    const checks: Check[] = [];
    const pass = (ok: boolean): "PASS" | "FAIL" => (ok ? "PASS" : "FAIL");
    for (const r of runs) {
      checks.push({
        check: `(${r.run}) triggers = ${r.rules ? "the pure rules' (decide.ts)" : "the pure evaluation's matches"}`,
        measured: `${whole(r.triggers)} = ${whole(r.expectedTriggers)}`,
        status: pass(r.triggers === r.expectedTriggers),
      });
      if (!r.rules) continue;
      const wrong = [...w.reference.perCampaign].filter(([id, e]) => {
        const got = r.perCampaign[String(id)];
        return !got || got.triggers !== e.triggers || got.capped !== e.capped || got.matches !== e.matches;
      });
      checks.push({
        check: `(${r.run}) per campaign: matches, triggers and capped in /metrics = the pure rules'`,
        measured:
          wrong.length === 0
            ? `${CAMPAIGNS} of ${CAMPAIGNS} campaigns; capped ${whole(r.capped)} = ${whole(r.expectedCapped)}`
            : `campaigns ${wrong.map(([id]) => id).join(", ")} differ (got ${JSON.stringify(wrong.map(([id]) => r.perCampaign[String(id)]))}, expected ${JSON.stringify(wrong.map(([, e]) => e))})`,
        status: pass(wrong.length === 0),
      });
      if (r.perEventMismatches !== null)
        checks.push({
          check: `(${r.run}) each event's triggers = the pure rules' (keyed: a player's events in order)`,
          measured:
            r.perEventMismatches.length === 0
              ? `${whole(w.workload.events)} events`
              : `${r.perEventMismatches.length} events differ (partition/offset: got of expected): ${r.perEventMismatches.slice(0, 5).join(", ")}`,
          status: pass(r.perEventMismatches.length === 0),
        });
    }
    for (const x of restores)
      checks.push({
        check: `restore of ${whole(x.players)} players: records restored = records written`,
        measured: `${whole(x.records)} = ${whole(x.players)}`,
        status: pass(x.records === x.players),
      });
    const failed = checks.some((c) => c.status === "FAIL");
    const target = (ok: boolean): "PASS" | "MISS" => (ok ? "PASS" : "MISS");
    checks.push(
      {
        check: `(b) / (a): caps, unkeyed events, over no rules >= ${TARGETS.ratio}`,
        measured: `${ratios.bOverA.toFixed(3)} (${whole(b.eventsPerSec)} / ${whole(a.eventsPerSec)} events/s); by main-thread CPU per event ${cpuRatios.bOverA.toFixed(3)}`,
        status: target(ratios.bOverA >= TARGETS.ratio),
      },
      {
        check: `(c) / (a): caps, keyed events, over no rules >= ${TARGETS.ratio}`,
        measured: `${ratios.cOverA.toFixed(3)} (${whole(c.eventsPerSec)} / ${whole(a.eventsPerSec)} events/s); by main-thread CPU per event ${cpuRatios.cOverA.toFixed(3)}`,
        status: target(ratios.cOverA >= TARGETS.ratio),
      },
    );
    const big = restores[restores.length - 1];
    if (big)
      checks.push(
        {
          check: `LMDB bytes per player and campaign <= ${TARGETS.bytesPerPlayerCampaign}`,
          measured: `${big.bytesPerPlayerCampaign.toFixed(1)} (${big.bytesPerPlayer.toFixed(1)} per player, ${(big.playerCampaigns / big.players).toFixed(2)} campaigns each; ${whole(big.players)} players)`,
          status: target(big.bytesPerPlayerCampaign <= TARGETS.bytesPerPlayerCampaign),
        },
        {
          check: `10 million players restored in < ${TARGETS.restore10MSeconds} s (extrapolated linearly)`,
          measured: `${big.tenMillionSeconds.toFixed(1)} s at ${whole(big.playersPerSec)} players/s (${whole(big.players)} restored in ${(big.ms / 1000).toFixed(1)} s)`,
          status: target(big.tenMillionSeconds < TARGETS.restore10MSeconds),
        },
      );
    return {
      plan,
      workload: {
        events: w.workload.events,
        bytes: w.workload.bytes,
        players: plan.players,
        campaigns: CAMPAIGNS,
        matches: w.matches,
        matchedPlayers: w.matchedPlayers,
      },
      runs,
      ratios,
      cpuRatios,
      restores,
      checks,
      failed,
    };
  } finally {
    rmSync(w.workload.dir, { recursive: true, force: true });
    // Every topic of the run, those its engines created included (trigger and internal topics).
    await deleteTopicsNamed(w.id);
  }
}

export function throughputRows(r: DeliveryRulesResult): Row[] {
  const cpuPerEvent = (s: number | null): number | string =>
    s === null ? "n/a" : (s * 1e6) / r.workload.events;
  const rows: Row[] = r.runs.map((x) => ({
    run: `(${x.run}) ${x.name}`,
    "events/s": x.eventsPerSec,
    "x (a)": x.ratio,
    seconds: x.seconds,
    "main-thread CPU µs/event": cpuPerEvent(x.mainThreadCpuSeconds),
    "x (a) by CPU": x.cpuRatio,
    "engine CPU s": x.cpuSeconds ?? "n/a",
    triggers: whole(x.triggers),
    "expected (pure)": whole(x.expectedTriggers),
    capped: whole(x.capped),
    repartitioned: x.repartitioned === null ? "" : whole(x.repartitioned),
    "changelog records": x.changelogRecords === null ? "" : whole(x.changelogRecords),
    "changelog B/record": x.changelogBytesPerRecord ?? "",
    "peak RSS MiB": x.peakRssMiB === null ? "n/a" : whole(x.peakRssMiB),
  }));
  const ratio = (name: string, v: number, cpu: number): Row => ({
    run: name,
    "events/s": "",
    "x (a)": v,
    seconds: "",
    "main-thread CPU µs/event": "",
    "x (a) by CPU": cpu,
    "engine CPU s": "",
    triggers: "",
    "expected (pure)": "",
    capped: "",
    repartitioned: "",
    "changelog records": "",
    "changelog B/record": "",
    "peak RSS MiB": "",
  });
  rows.push(
    ratio(
      `(b) / (a): caps through the repartition topic (target >= ${TARGETS.ratio})`,
      r.ratios.bOverA,
      r.cpuRatios.bOverA,
    ),
    ratio(
      `(c) / (a): caps, events keyed by player (target >= ${TARGETS.ratio})`,
      r.ratios.cOverA,
      r.cpuRatios.cOverA,
    ),
    ratio(
      "(c) / (a'): the same against no rules on the keyed events",
      r.ratios.cOverAPrime,
      r.cpuRatios.cOverAPrime,
    ),
    ratio("(a') / (a): no rules both, the drift between runs", r.ratios.aPrimeOverA, r.cpuRatios.aPrimeOverA),
  );
  return rows;
}

export function restoreRows(r: DeliveryRulesResult): Row[] {
  return r.restores.map((x) => ({
    players: whole(x.players),
    "campaigns/player": x.playerCampaigns / x.players,
    "key+value B": x.keyBytes + x.valueBytes,
    "restore s": x.ms / 1000,
    "players/s": x.playersPerSec,
    "players/main-thread CPU s": x.playersPerCpuSecond ?? "n/a",
    "10M players s": x.tenMillionSeconds,
    "LMDB B/player": x.bytesPerPlayer,
    "B/player-campaign": x.bytesPerPlayerCampaign,
    "changelog B/record": x.changelogBytesPerRecord ?? "n/a",
    "RSS after MiB": x.rssAfterRestoreMiB === null ? "n/a" : whole(x.rssAfterRestoreMiB),
  }));
}

export function checkRows(r: DeliveryRulesResult): Row[] {
  return r.checks.map((c) => ({ ...c }));
}
