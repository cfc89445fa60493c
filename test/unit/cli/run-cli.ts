// Runs `rtcrm` in-process with captured output, for tests of commands that need no broker.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { runCli } from "../../../src/cli/cli.js";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly stdin?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Stands for the process's SIGINT/SIGTERM (cli/main.ts aborts it with the signal's name). */
  readonly signal?: AbortSignal;
  /** Sees each write to stdout as it happens (e.g. to send a "signal" after the first output). */
  readonly onStdout?: (text: string) => void;
}

export async function cli(argv: string[], options: CliOptions = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (t) => {
      stdout += t;
      options.onStdout?.(t);
    },
    stderr: (t) => (stderr += t),
    stdin: Readable.from([Buffer.from(options.stdin ?? "")]),
    signal: options.signal ?? new AbortController().signal,
    // Only what a test sets: RTCRM_* variables of the environment running the tests must not leak in.
    env: options.env ?? {},
  });
  return { code, stdout, stderr };
}

/** Writes `content` to a fresh file and returns its path. */
export function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "rtcrm-cli-")), name);
  writeFileSync(path, content);
  return path;
}
