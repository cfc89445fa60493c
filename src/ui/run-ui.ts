// The web UI as a process: options, configuration, server, signals. Kafka and the topics come from the
// engine's configuration, so one config file serves both.
import { parseArgs } from "node:util";
import { loadConfigOrReport, type Config } from "../config/config.js";
import { errorMessage } from "../errors.js";
import { createLogger, type Logger } from "../logging/logger.js";
import { hostNameOf, isLoopbackName } from "./auth/served-hosts.js";
import { startUiServer } from "./ui-server.js";

export const UI_USAGE = `usage: rtcrm-ui [--config path/to/config.json] [--port 8080] [--host 127.0.0.1]
                [--metrics-url http://127.0.0.1:9464/metrics ...] [--insecure-no-auth]

Serves the web UI. Kafka and the topics come from the engine's configuration (defaults, then the
--config file, then RTCRM_* environment variables). The UI's own settings, as options or environment:
  --port         RTCRM_UI_PORT          HTTP port (default 8080; 0 picks a free one)
  --host         RTCRM_UI_HOST          address to listen on (default 127.0.0.1). Any other address needs
                                        a log-in (ui_auth password or proxy in the configuration; see
                                        README, Security), or the UI refuses to start
  --insecure-no-auth                    listen on a non-loopback address without log-in: anyone who
                                        reaches the port can write campaigns (the log says so)
  --metrics-url  RTCRM_UI_METRICS_URL   the engine's /metrics, for the per-campaign counters; repeat the
                                        option (or separate by commas) for several instances. Default:
                                        http://127.0.0.1:<http_port>/metrics from the configuration`;

export interface UiOptions {
  readonly configFile: string | undefined;
  readonly port: number;
  readonly host: string;
  readonly metricsUrls: string[] | undefined;
  readonly insecureNoAuth: boolean;
}

/** The UI's options from argv and the environment; throws with a message to show next to the usage. */
export function parseUiArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): UiOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "metrics-url": { type: "string", multiple: true },
      "insecure-no-auth": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const portText = values.port ?? env.RTCRM_UI_PORT ?? "8080";
  if (!/^\d+$/.test(portText) || Number(portText) > 65_535) {
    throw new Error(`port: expected an integer between 0 and 65535, got ${JSON.stringify(portText)}`);
  }
  const urls = (
    values["metrics-url"] ?? (env.RTCRM_UI_METRICS_URL === undefined ? [] : [env.RTCRM_UI_METRICS_URL])
  )
    .flatMap((u) => u.split(","))
    .map((u) => u.trim())
    .filter((u) => u !== "");
  for (const u of urls) {
    if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol)) {
      throw new Error(
        `metrics-url: not an http(s) URL: ${JSON.stringify(u)}; e.g. http://127.0.0.1:9464/metrics`,
      );
    }
  }
  return {
    configFile: values.config,
    port: Number(portText),
    host: values.host ?? env.RTCRM_UI_HOST ?? "127.0.0.1",
    metricsUrls:
      values["metrics-url"] === undefined && env.RTCRM_UI_METRICS_URL === undefined ? undefined : urls,
    insecureNoAuth: values["insecure-no-auth"] === true,
  };
}

/** The engine's metrics endpoint as its configuration places it; none when the engine serves no HTTP. */
export function defaultMetricsUrls(config: Config): string[] {
  if (config.http_port === 0) return [];
  const host = ["0.0.0.0", "::", ""].includes(config.http_host) ? "127.0.0.1" : config.http_host;
  return [`http://${host.includes(":") ? `[${host}]` : host}:${config.http_port}/metrics`];
}

/** Said at start and every 10 minutes while it lasts: nobody should forget the door is open. */
function warnInsecure(log: Logger, host: string): void {
  const say = (): void =>
    log.warn(
      "insecure: no log-in on a non-loopback address (--insecure-no-auth); anyone who reaches it can write campaigns",
      {
        host,
      },
    );
  say();
  setInterval(say, 10 * 60_000).unref();
}

export async function runUi(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseUiArgs(argv);
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n${UI_USAGE}\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(UI_USAGE + "\n");
    return 0;
  }
  const loaded = loadConfigOrReport(options.configFile);
  if (!loaded) return 2;
  const { config, warnings } = loaded;
  const log = createLogger(config.log_level, { service: "rtcrm-ui" });
  for (const w of warnings) log.warn(w);
  const exposed = !isLoopbackName(hostNameOf(options.host) ?? options.host);
  if (exposed && config.ui_auth === "none") {
    if (!options.insecureNoAuth) {
      process.stderr.write(
        `the UI would listen on ${options.host} without log-in: anyone who reaches it could write campaigns.\n` +
          "Set ui_auth to password or proxy (README, Security), listen on 127.0.0.1, or pass --insecure-no-auth.\n",
      );
      return 2;
    }
    warnInsecure(log, options.host);
  }

  const ui = await startUiServer({
    config,
    log,
    port: options.port,
    host: options.host,
    metricsUrls: options.metricsUrls ?? defaultMetricsUrls(config),
  });
  log.info("ui listening", {
    url: ui.url,
    auth: config.ui_auth,
    bootstrapServers: config.kafka_bootstrap_servers,
    campaignTopic: config.campaign_topic,
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    setTimeout(() => process.exit(1), 15_000).unref();
    ui.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  return -1;
}
