#!/usr/bin/env node
// Process entry of `rtcrm` (package.json "bin"): see `rtcrm --help`.
import { splitCommand } from "./args.js";
import { runCli } from "./cli.js";
import { isCommandWord } from "./commands.js";

const controller = new AbortController();
const argv = process.argv.slice(2);
// `rtcrm run` installs the engine's own signal handling; every other command ends on the first signal.
const engine = splitCommand(argv, isCommandWord).words[0] === "run";
if (!engine) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => controller.abort(signal));
  }
}

runCli(argv, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: process.stdin,
  signal: controller.signal,
  env: process.env,
}).then(
  (code) => {
    // -1: the engine runs until a signal stops it.
    if (code < 0) return;
    process.exitCode = code;
    // Every client is closed by now; should a librdkafka handle still hold the loop, it may not hold the exit.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (error: unknown) => {
    process.stderr.write(
      `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
