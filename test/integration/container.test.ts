// The container's start command outside Docker (no Docker engine runs here): the Dockerfile's ENTRYPOINT/CMD,
// ENV and HEALTHCHECK are read from the file and run from the repository's build output, which the runtime
// stage copies at the same places below its WORKDIR (test/unit/container/image-files.test.ts checks that).
// Configured as docker-compose.yml configures the engine: RTCRM_* variables, plus a config file passed the
// way a mounted /etc/rtcrm/config.json is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { once } from "node:events";
import { within } from "../helpers/kafka.js";
import { bootstrapServers } from "../helpers/kafka.js";
import { createEngineTopics, deleteEngineTopics, engineSetup } from "../helpers/engine-process.js";
import {
  REPO_ROOT,
  dockerfileStages,
  last,
  type DockerfileLinter,
  type Stage,
} from "../unit/container/dockerfile.js";

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

/** The variables the final stage's ENV instructions set (`ENV A=1 B=2` and the old `ENV A 1`). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.instructions.filter((i) => i.keyword === "ENV")) {
    const pairs = [...ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)];
    if (pairs.length === 0) {
      const [name, ...value] = ins.args.split(/\s+/);
      if (name) env[name] = value.join(" ");
    }
    for (const [, name, value] of pairs) {
      if (name) env[name] = value?.startsWith('"') ? (JSON.parse(value) as string) : (value ?? "");
    }
  }
  return env;
}

/** The HEALTHCHECK's command in exec form (CMD-SHELL would need a shell the check must not rely on). */
function healthcheckCommand(linter: DockerfileLinter, stage: Stage): string[] {
  const ins = last(stage, "HEALTHCHECK");
  assert.ok(ins, "the final stage has no HEALTHCHECK");
  const { rest } = linter.splitFlags(ins.args);
  const m = /^CMD\s+(.*)$/s.exec(rest);
  assert.ok(m?.[1], `HEALTHCHECK is not of the form CMD [...]: ${rest}`);
  const command = linter.execForm(m[1]);
  assert.ok(command, `HEALTHCHECK CMD is not in exec form: ${m[1]}`);
  return command;
}

/** `node` in the image is the image's Node.js 20; here it is the Node.js running the tests. */
function resolveNode(command: string[]): [string, string[]] {
  const [program, ...args] = command;
  assert.ok(program, "empty command");
  return [program === "node" ? process.execPath : program, args];
}

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  const [program, args] = resolveNode(command);
  const child = spawn(program, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<Run>((resolve) => child.on("exit", (code) => resolve({ code, output })));
  return within(timeoutMs, `${command.join(" ")}`, exited).finally(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
}

test("the image's ENTRYPOINT starts the engine, its HEALTHCHECK passes, and SIGTERM stops it with exit 0", async (t) => {
  const { linter, stages } = await dockerfileStages();
  const final = stages.at(-1) as Stage;
  const entrypoint = linter.execForm(last(final, "ENTRYPOINT")?.args ?? "");
  assert.ok(entrypoint, "ENTRYPOINT is missing or not in exec form");
  const cmd = last(final, "CMD");
  const cmdArgs = cmd === undefined ? [] : linter.execForm(cmd.args);
  assert.ok(cmdArgs, "CMD is not in exec form");
  const healthcheck = healthcheckCommand(linter, final);

  // The topics, group and compiled-filter directory of this test go in the file (like a mounted
  // config.json); its http_port is 0 so that only the environment can turn the endpoints on.
  const setup = engineSetup("container");
  await createEngineTopics(setup.topics);
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    await deleteEngineTopics(setup.topics);
    rmSync(setup.dir, { recursive: true, force: true });
  });

  const port = await freePort();
  // A container starts with the image's ENV and what compose passes, not with this process's environment.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...envOf(final),
    RTCRM_KAFKA_BOOTSTRAP_SERVERS: bootstrapServers,
    RTCRM_WORKERS: "1",
    RTCRM_HTTP_PORT: String(port),
  };

  // Nothing listens yet: the check must fail, or its passing below would prove nothing.
  const before = await run(healthcheck, env, 60_000);
  assert.notEqual(before.code, 0, `the health check passed with no engine running: ${before.output}`);

  const command = [...entrypoint, ...cmdArgs, "--config", setup.configPath];
  const [program, args] = resolveNode(command);
  const engine = spawn(program, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(engine);
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => engine.on("exit", (code) => resolve(code)));
  const started = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString().split("\n")) {
        if (line.trim() === "") continue;
        lines.push(line);
        if (line.includes('"msg":"engine started"')) resolve();
      }
    };
    engine.stdout.on("data", onData);
    engine.stderr.on("data", onData);
  });
  await within(
    120_000,
    `"engine started" from ${command.join(" ")} (last lines: ${lines.slice(-5).join(" | ")})`,
    Promise.race([
      started,
      exited.then((code) => {
        throw new Error(`the engine exited with ${code} during start:\n${lines.slice(-10).join("\n")}`);
      }),
    ]),
  );

  const health = await run(healthcheck, env, 60_000);
  assert.equal(health.code, 0, `the health check failed: ${health.output}`);

  engine.kill("SIGTERM");
  const code = await within(60_000, "the engine's exit after SIGTERM", exited);
  assert.equal(code, 0, `exit code after SIGTERM (last lines: ${lines.slice(-5).join(" | ")})`);
  assert.ok(lines.some((l) => l.includes('"msg":"stopped cleanly"')));
});
