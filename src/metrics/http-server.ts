// The engine's HTTP endpoints: GET /metrics (Prometheus text), /healthz (the process and its event loop answer)
// and /readyz (campaigns read and Kafka reachable). It listens before the engine starts, so that a long start
// answers /healthz and reports "starting" on /readyz.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, errorMessage } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { ReadinessReport } from "./readiness.js";

export interface EndpointSources {
  /** The Prometheus text of every metric. */
  metrics(): Promise<string>;
  readonly metricsContentType: string;
  readiness(): ReadinessReport;
}

export const ENDPOINT_PATHS = ["/metrics", "/healthz", "/readyz"] as const;

export class HttpEndpoints {
  /** The port listened on (the one picked by the system when asked for 0). */
  readonly port: number;
  readonly #server: Server;
  readonly #log: Logger;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, log: Logger) {
    this.#server = server;
    this.#log = log;
    this.port = (server.address() as AddressInfo).port;
  }

  /**
   * Listens on `host`:`port` (port 0: any free port, for tests). A port in use or an address not of this machine
   * is a configuration problem: it rejects with a ConfigError saying which setting to change.
   */
  static async listen(
    host: string,
    port: number,
    sources: EndpointSources,
    log: Logger,
  ): Promise<HttpEndpoints> {
    const server = createServer((req, res) => handle(req, res, sources, log));
    // A scraper that keeps its connection open must not hold a stop up: idle connections close after 5 s.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        server.off("listening", onListening);
        reject(listenProblem(error, host, port));
      };
      const onListening = (): void => {
        server.off("error", onError);
        resolve();
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen(port, host);
    });
    server.on("error", (error) => log.warn("http endpoints error", { error: errorMessage(error) }));
    return new HttpEndpoints(server, log);
  }

  /**
   * Stops listening and closes idle connections; requests still running get until `timeoutMs`, then their
   * connections are cut. Idempotent.
   */
  close(timeoutMs = 2_000): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#log.warn("http endpoints: open connections cut at stop");
        this.#server.closeAllConnections();
      }, timeoutMs);
      this.#server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
    return this.#closing;
  }
}

function handle(req: IncomingMessage, res: ServerResponse, sources: EndpointSources, log: Logger): void {
  const path = (req.url ?? "/").split("?", 1)[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, "text/plain; charset=utf-8", "only GET and HEAD are served\n", { allow: "GET, HEAD" });
    return;
  }
  switch (path) {
    case "/metrics":
      sources.metrics().then(
        (text) => send(res, 200, sources.metricsContentType, text),
        (error: unknown) => {
          log.warn("metrics could not be collected", { error: errorMessage(error) });
          send(
            res,
            500,
            "text/plain; charset=utf-8",
            `metrics could not be collected: ${errorMessage(error)}\n`,
          );
        },
      );
      return;
    case "/healthz":
      // Answering at all is the check: the event loop that serves this request runs the engine's main thread.
      sendJson(res, 200, { status: "ok" });
      return;
    case "/readyz": {
      const report = sources.readiness();
      sendJson(res, report.ready ? 200 : 503, report);
      return;
    }
    default:
      send(
        res,
        404,
        "text/plain; charset=utf-8",
        `not found; the endpoints are ${ENDPOINT_PATHS.join(", ")}\n`,
      );
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, "application/json", JSON.stringify(body) + "\n");
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(body);
}

function listenProblem(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  switch (error.code) {
    case "EADDRINUSE":
      return new ConfigError([
        `http_port: ${where} is already in use; set http_port to a free port, or to 0 to turn the HTTP endpoints off`,
      ]);
    case "EACCES":
      return new ConfigError([
        `http_port: listening on ${where} is not permitted; use a port above 1023, or 0 to turn the HTTP endpoints off`,
      ]);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigError([
        `http_host: ${host} is not an address of this machine; use one of its addresses, or 0.0.0.0 for all`,
      ]);
    default:
      return error;
  }
}
