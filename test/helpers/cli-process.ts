// `rtcrm` (dist/src/cli/main.js) as a child process for the tests: run to its end, bounded, with stdin piped in
// and the shell's RTCRM_* variables left out (the test's configuration decides).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { within } from "./kafka.js";

export const CLI_MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without RTCRM_* variables, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("RTCRM_"))),
    ...extra,
  };
}

/** Runs `rtcrm args...` to its end (bounded by `timeoutMs`), with `stdin` piped in and `env` added. */
export function rtcrm(
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: cleanEnv(options.env),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.stdin ?? "");
  const exited = new Promise<Run>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return within(options.timeoutMs ?? 120_000, `rtcrm ${args.join(" ")}`, exited).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
}
