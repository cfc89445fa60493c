// The engine as a process: arguments, configuration, HTTP endpoints, engine, signals. Used by `rtcrm run` and
// src/main.ts.
import { parseArgs } from "node:util";
import { loadConfigOrReport, type Config } from "./config/config.js";
import { Engine } from "./engine.js";
import { ConfigError, errorMessage } from "./errors.js";
import { createLogger, type Logger } from "./logging/logger.js";
import { EngineMetrics, STATS_INTERVAL_MS } from "./metrics/engine-metrics.js";
import { ENDPOINT_PATHS, HttpEndpoints } from "./metrics/http-server.js";
import { Telemetry } from "./telemetry.js";

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
  const loaded = loadConfigOrReport(args.values.config);
  if (!loaded) return 2;
  const { config, warnings } = loaded;
  const log = createLogger(config.log_level, { service: "rtcrm" });
  for (const w of warnings) log.warn(w);

  // Metrics exist only when they can be read: with the endpoints off, nothing subscribes to the outcomes.
  const telemetry = new Telemetry(STATS_INTERVAL_MS);
  const metrics = config.http_port === 0 ? undefined : new EngineMetrics({ log });
  metrics?.subscribe(telemetry);
  let endpoints: HttpEndpoints | undefined;
  if (metrics) {
    try {
      endpoints = await listen(config, metrics, log);
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(`${error.message}\n`);
        return 2;
      }
      throw error;
    }
  }

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
    metrics?.readiness.markStopping();
    const clean = engine ? await engine.stop() : true;
    // Closed last: /metrics and /readyz ("stopping") answer while in-flight events drain.
    await endpoints?.close(HTTP_CLOSE_TIMEOUT_MS);
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
  telemetry.on("fatal", (error) => {
    log.error("engine cannot go on; stopping (exit 1)", {
      error: errorMessage(error),
      code: (error as { code?: unknown }).code,
    });
    void (engine?.stop() ?? Promise.resolve(false)).finally(() => process.exit(1));
  });

  try {
    engine = await Engine.start(config, log, telemetry);
  } catch (error) {
    log.error("engine failed to start", {
      error: errorMessage(error),
      code: (error as { code?: string }).code,
    });
    await endpoints?.close(HTTP_CLOSE_TIMEOUT_MS);
    return 1;
  }
  if (metrics) {
    metrics.attach(engine.parts);
    metrics.readiness.markStarted();
  }
  return -1; // keep running until a signal
}

/** How long a stop waits for HTTP requests still running before it cuts their connections. */
const HTTP_CLOSE_TIMEOUT_MS = 2_000;

async function listen(config: Config, metrics: EngineMetrics, log: Logger): Promise<HttpEndpoints> {
  const endpoints = await HttpEndpoints.listen(
    config.http_host,
    config.http_port,
    {
      metrics: () => metrics.text(),
      metricsContentType: metrics.contentType,
      readiness: () => metrics.readiness.report(),
    },
    log.child({ component: "http" }),
  );
  log.info("http endpoints listening", {
    host: config.http_host,
    port: endpoints.port,
    paths: ENDPOINT_PATHS,
  });
  return endpoints;
}
