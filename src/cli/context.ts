// What a command handler gets: its parsed arguments, the process's streams, and the configuration (loaded
// on first use, the same way the engine loads it, so that commands without Kafka need no configuration).
import { loadConfig, type Config } from "../config/config.js";
import { clientSettings, type RdSettings } from "../kafka/settings.js";
import { integerArg } from "./args.js";
import type { Io } from "./io.js";

export interface Context {
  readonly command: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly io: Io;
  /** Throws ConfigError (exit code 2) listing every problem. */
  config(): Config;
  /** librdkafka settings of the configuration, for the `role` named in client.id. */
  settings(role: string): RdSettings;
  /** --timeout in milliseconds: how long a Kafka command waits for the broker. */
  readonly timeoutMs: number;
}

export const DEFAULT_TIMEOUT_S = 30;

export function makeContext(
  command: readonly string[],
  values: Record<string, string | boolean | undefined>,
  positionals: readonly string[],
  io: Io,
): Context {
  let loaded: Config | undefined;
  const config = (): Config => {
    if (!loaded) {
      const file = typeof values.config === "string" ? values.config : undefined;
      const result = loadConfig({ ...(file === undefined ? {} : { file }), env: io.env });
      for (const w of result.warnings) io.stderr(`rtcrm: warning: ${w}\n`);
      loaded = result.config;
    }
    return loaded;
  };
  const timeout = values.timeout;
  const timeoutMs =
    typeof timeout === "string"
      ? integerArg(command, "--timeout", timeout, 1) * 1000
      : DEFAULT_TIMEOUT_S * 1000;
  return {
    command,
    values,
    positionals,
    io,
    config,
    settings: (role) => ({
      ...clientSettings(config(), `cli-${role}`),
      // librdkafka's own log lines would interleave with the output; its errors reach the caller anyway.
      log_level: 0,
    }),
    timeoutMs,
  };
}
