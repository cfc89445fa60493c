// The engine as a process: arguments, configuration, engine, signals. Used by `rtcrm run` and src/main.ts.
import { parseArgs } from "node:util";
import { loadConfig } from "./config/config.js";
import { Engine } from "./engine.js";
import { ConfigError, errorMessage } from "./errors.js";
import { createLogger } from "./logging/logger.js";

export const ENGINE_USAGE = `usage: rtcrm-engine [--config path/to/config.json]

Starts the engine. Defaults, then the --config file, then RTCRM_* environment variables
(e.g. RTCRM_WORKERS=4, RTCRM_KAFKA_BOOTSTRAP_SERVERS=broker:9092) make the configuration.`;

/**
 * Runs the engine with command-line `argv` (without node and script). Resolves with an exit code when it
 * cannot start (2: configuration, 1: start failure) or for --help; resolves -1 while the engine runs (a
 * signal then stops it and exits the process).
 */
export async function runEngine(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { config: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n${ENGINE_USAGE}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(ENGINE_USAGE + "\n");
    return 0;
  }
  let loaded;
  try {
    loaded = loadConfig(args.values.config === undefined ? {} : { file: args.values.config });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const { config, warnings } = loaded;
  const log = createLogger(config.log_level, { service: "rtcrm" });
  for (const w of warnings) log.warn(w);

  let engine: Engine | undefined;
  let stopRequested = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopRequested) return;
    stopRequested = true;
    log.info("stopping", { signal, deadlineMs: config.shutdown_timeout_ms });
    // The last line of defence if a stop step hangs: exit non-zero, duplicates possible.
    setTimeout(() => {
      log.error(
        "shutdown deadline passed; exiting now: events in flight will be processed again (duplicates possible)",
      );
      process.exit(1);
    }, config.shutdown_timeout_ms + 5_000).unref();
    const clean = engine ? await engine.stop() : true;
    if (clean) {
      log.info("stopped cleanly");
      process.exit(0);
    }
    log.error(
      "stopped before everything in flight finished: those events will be processed again (duplicates possible)",
    );
    process.exit(1);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  try {
    engine = await Engine.start(config, log);
  } catch (error) {
    log.error("engine failed to start", {
      error: errorMessage(error),
      code: (error as { code?: string }).code,
    });
    return 1;
  }
  return -1; // keep running until a signal
}
