// Runs the real engine (dist/src/main.js) as a child process with its own topics, for integration tests.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bootstrapServers, createTopics, deleteTopics, within } from "./kafka.js";

const MAIN = fileURLToPath(new URL("../../src/main.js", import.meta.url));

export interface EngineTopics {
  readonly event_topic: string;
  readonly campaign_topic: string;
  readonly trigger_topic: string;
  readonly dead_letter_topic: string;
  readonly campaign_status_topic: string;
  readonly holdout_topic: string;
}

/** Fresh topic names, a group and a compiled-filter directory for one test. */
export function engineSetup(name: string, overrides: Record<string, unknown> = {}) {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const topics: EngineTopics = {
    event_topic: `test-${id}-events`,
    campaign_topic: `test-${id}-campaigns`,
    trigger_topic: `test-${id}-triggers`,
    dead_letter_topic: `test-${id}-dlq`,
    campaign_status_topic: `test-${id}-status`,
    holdout_topic: `test-${id}-holdouts`,
  };
  const dir = mkdtempSync(join(tmpdir(), "rtcrm-engine-"));
  const config = {
    kafka_bootstrap_servers: bootstrapServers,
    kafka_group_id: `test-${id}-group`,
    ...topics,
    filters_compiled_dir: join(dir, "filters-compiled"),
    state_dir: join(dir, "state"),
    workers: 1,
    commit_interval_ms: 100,
    log_level: "info",
    // Many engines share this host in the tests: no HTTP endpoints unless a test asks for a port.
    http_port: 0,
    ...overrides,
  };
  const configPath = join(dir, "config.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return { topics, config, configPath, dir };
}

export async function createEngineTopics(topics: EngineTopics, eventPartitions = 1): Promise<void> {
  await createTopics([
    { topic: topics.campaign_topic, config: { "cleanup.policy": "compact" } },
    { topic: topics.campaign_status_topic, config: { "cleanup.policy": "compact" } },
    { topic: topics.event_topic, partitions: eventPartitions },
    { topic: topics.trigger_topic, partitions: 3 },
    { topic: topics.dead_letter_topic },
  ]);
}

export async function deleteEngineTopics(topics: EngineTopics, group?: string): Promise<void> {
  const internal = group === undefined ? [] : [`${group}-rules-repartition`, `${group}-rules-changelog`];
  await deleteTopics([...Object.values(topics), ...internal]).catch(() => undefined);
}

export class EngineProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  constructor(configPath: string, env: Record<string, string> = {}) {
    // RTCRM_ENGINE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the engines a run starts.
    const nodeArgs = (process.env.RTCRM_ENGINE_NODE_ARGS ?? "").split(" ").filter(Boolean);
    this.child = spawn(process.execPath, [...nodeArgs, MAIN, "--config", configPath], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString().split("\n")) {
        if (line.trim() === "") continue;
        this.lines.push(line);
        if (process.env.RTCRM_TEST_ENGINE_LOG) process.stderr.write(`[engine] ${line}\n`);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.re.test(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    };
    this.child.stdout?.on("data", onData);
    this.child.stderr?.on("data", onData);
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  /** Resolves with the first log line (past, from line `from` on, or future) matching `re`. */
  waitForLog(re: RegExp, timeoutMs = 60_000, from = 0): Promise<string> {
    const seen = this.lines.slice(from).find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return within(
      timeoutMs,
      `engine log ${re} (last lines: ${this.lines.slice(-5).join(" | ")})`,
      new Promise<string>((resolve) => this.#waiters.push({ re, resolve })),
    );
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 60_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    return within(timeoutMs, "engine exit", this.exited);
  }
}

/** Starts the engine and waits until it consumes events. */
export async function startEngine(
  configPath: string,
  env: Record<string, string> = {},
): Promise<EngineProcess> {
  const engine = new EngineProcess(configPath, env);
  await Promise.race([
    engine.waitForLog(/"msg":"engine started"/),
    engine.exited.then((code) => {
      throw new Error(`engine exited with ${code} during start: ${engine.lines.slice(-10).join("\n")}`);
    }),
  ]);
  return engine;
}

/**
 * One test's engine: its own topics (deleted after the test) and a start() whose engines are all stopped
 * after the test, even when it fails.
 */
export async function engineFixture(
  t: { after(fn: () => Promise<void>): void },
  name: string,
  overrides: Record<string, unknown> = {},
  eventPartitions = 1,
) {
  const setup = engineSetup(name, overrides);
  await createEngineTopics(setup.topics, eventPartitions);
  const started: EngineProcess[] = [];
  t.after(async () => {
    for (const e of started)
      if (e.child.exitCode === null && e.child.signalCode === null) await e.stop("SIGKILL");
    await deleteEngineTopics(setup.topics, setup.config.kafka_group_id);
  });
  return {
    ...setup,
    start: async (env: Record<string, string> = {}): Promise<EngineProcess> => {
      const engine = await startEngine(setup.configPath, env);
      started.push(engine);
      return engine;
    },
  };
}
