// The web UI's HTTP server: the page, a JSON API over the client library (src/client/), and one
// Server-Sent Events stream that pushes campaign, status, trigger and counter changes to every open page.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { deleteCampaign, putCampaign } from "../client/campaign-client.js";
import { readCampaignHistory } from "../client/campaign-history.js";
import { CampaignCheckError, checkCampaign, type CheckProblem } from "../client/check-campaign.js";
import { sendEvent } from "../client/event-client.js";
import type { Config } from "../config/config.js";
import { decodeEvent } from "../events/decode.js";
import { RtcrmError, errorMessage } from "../errors.js";
import { clientSettings, type RdSettings } from "../kafka/settings.js";
import type { Logger } from "../logging/logger.js";
import { compactJson } from "./compact-json.js";
import { exampleCampaign, exampleEvent } from "../client/examples.js";
import { LiveState, type LiveChange } from "./live-state.js";
import { MetricsPoller } from "./metrics-poller.js";
import { SseHub } from "./sse.js";
import { StaticFiles } from "./static-files.js";
import { uiAccess } from "./auth/access-config.js";
import { AccessGate, mayWrite } from "./auth/access-gate.js";
import type { Identity } from "./auth/request-identity.js";

export interface UiServerOptions {
  readonly config: Config;
  readonly log: Logger;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host: string;
  /** The engines' /metrics URLs; counters of several instances are added up. */
  readonly metricsUrls: readonly string[];
  readonly metricsIntervalMs?: number;
}

export interface UiServer {
  readonly url: string;
  /** Idempotent: closes the streams, stops following the topics and the HTTP server, bounded in time. */
  close(): Promise<void>;
}

/** A campaign or an event is a few KB; anything far bigger is a mistake. */
const MAX_BODY_BYTES = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): true {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
  return true;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the request is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Writes come only from the page itself: another site open in the same browser must not be able to write
 * campaigns through a UI on localhost. A foreign Origin is refused; a body must be sent as JSON, which makes
 * a cross-site request need a CORS preflight that this server never grants (so does DELETE by its method).
 */
function checkWriteRequest(req: IncomingMessage, withBody = true): void {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== req.headers.host) throw new HttpError(403, `requests from ${origin} are not accepted`);
  }
  if (withBody && !(req.headers["content-type"] ?? "").startsWith("application/json")) {
    throw new HttpError(415, "send the body as application/json");
  }
}

function campaignIdFrom(path: string): number | null {
  const m = /^\/api\/campaigns\/(-?\d+)$/.exec(path);
  if (!m) return null;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) ? id : null;
}

function kafkaFailure(error: unknown): HttpError {
  return new HttpError(502, errorMessage(error), { canRetry: error instanceof RtcrmError && error.canRetry });
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const { config, log } = options;
  const settings: RdSettings = clientSettings(config, "ui");
  const files = new StaticFiles();
  const hub = new SseHub();

  const live = new LiveState(settings, config, log, (change: LiveChange) => {
    switch (change.type) {
      case "campaign":
        return hub.broadcast("campaign", { campaignId: change.campaignId, entry: change.entry });
      case "status":
        return hub.broadcast("status", { key: change.key, status: change.status });
      case "trigger":
        return hub.broadcast("trigger", change.trigger);
      case "kafka":
        return hub.broadcast("kafka", change.kafka);
    }
  });
  const metrics = new MetricsPoller({
    urls: options.metricsUrls,
    ...(options.metricsIntervalMs === undefined ? {} : { intervalMs: options.metricsIntervalMs }),
    onChange: (state) => hub.broadcast("metrics", state),
  });

  const snapshot = () => ({
    topics: {
      campaign_topic: config.campaign_topic,
      event_topic: config.event_topic,
      trigger_topic: config.trigger_topic,
      campaign_status_topic: config.campaign_status_topic,
    },
    bootstrapServers: config.kafka_bootstrap_servers,
    ...live.snapshot(),
    metrics: metrics.state,
  });

  const checkText = (text: string): { ok: boolean; problems: readonly CheckProblem[] } => {
    const checked = checkCampaign(text, { limits: config });
    return checked.ok ? { ok: true, problems: [] } : { ok: false, problems: checked.problems };
  };

  const gate = new AccessGate(uiAccess(config), log, { sendJson, readBody, checkWriteRequest });
  /** Writes need the editor role; the records they make carry the writer's name (audit headers). */
  const writer = (identity: Identity, what: string): { author: string; via: "ui" } => {
    if (!mayWrite(identity)) {
      throw new HttpError(403, `${identity.name} is a ${identity.role}: ${what} needs the editor role`);
    }
    return { author: identity.via === "none" ? "anonymous (ui without log-in)" : identity.name, via: "ui" };
  };

  const api = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    identity: Identity,
  ): Promise<boolean> => {
    const method = req.method ?? "GET";
    if (method === "GET" && path === "/api/state") return sendJson(res, 200, snapshot());
    if (method === "GET" && path === "/api/live") {
      hub.open(req, res, snapshot());
      // The stream ends with the session: the page then finds itself logged out.
      const expiresAt = identity.session?.expiresAt;
      if (expiresAt !== undefined) {
        const timer = setTimeout(() => res.destroy(), Math.max(0, expiresAt - Date.now()));
        res.once("close", () => clearTimeout(timer));
      }
      return true;
    }
    if (method === "GET" && path === "/api/examples/campaign") {
      return sendJson(res, 200, exampleCampaign(Date.now(), new Set(live.campaigns.keys())));
    }
    if (method === "GET" && path === "/api/examples/event")
      return sendJson(res, 200, exampleEvent(Date.now()));

    if (method === "POST" && path === "/api/check") {
      checkWriteRequest(req);
      return sendJson(res, 200, checkText(await readBody(req)));
    }

    const historyId = /^\/api\/campaigns\/(-?\d+)\/history$/.exec(path)?.[1];
    if (method === "GET" && historyId !== undefined && Number.isSafeInteger(Number(historyId))) {
      try {
        return sendJson(res, 200, await readCampaignHistory(settings, config, Number(historyId)));
      } catch (error) {
        throw kafkaFailure(error);
      }
    }

    const id = campaignIdFrom(path);
    if (id !== null && method === "PUT") {
      checkWriteRequest(req);
      const audit = writer(identity, "writing a campaign");
      const text = await readBody(req);
      const checked = checkText(text);
      if (!checked.ok) throw new HttpError(422, "the campaign was not sent", { problems: checked.problems });
      const record = JSON.parse(text) as { campaign_id: unknown };
      if (record.campaign_id !== id) {
        throw new HttpError(400, `campaign_id ${String(record.campaign_id)} does not match the URL's ${id}`);
      }
      try {
        await putCampaign(settings, config.campaign_topic, text, {
          limits: config,
          audit,
          onDelivered: (d) =>
            log.info("campaign sent", {
              campaignId: id,
              partition: d.partition,
              offset: d.offset,
              user: audit.author,
            }),
        });
      } catch (error) {
        // Checked just above; a second check that disagrees would be a compiler that changed in between.
        if (error instanceof CampaignCheckError) {
          throw new HttpError(422, "the campaign was not sent", { problems: error.problems });
        }
        throw kafkaFailure(error);
      }
      return sendJson(res, 200, { ok: true, campaignId: id });
    }
    if (id !== null && method === "DELETE") {
      checkWriteRequest(req, false);
      const audit = writer(identity, "deleting a campaign");
      try {
        await deleteCampaign(settings, config.campaign_topic, id, { audit });
      } catch (error) {
        throw kafkaFailure(error);
      }
      log.info("campaign deleted", { campaignId: id, user: audit.author });
      return sendJson(res, 200, { ok: true, campaignId: id });
    }

    if (method === "POST" && path === "/api/events") {
      checkWriteRequest(req);
      const { author } = writer(identity, "sending an event");
      const text = await readBody(req);
      // The engine's own rules for what it dead-letters: an event the page sends must not be one of those.
      const decoded = decodeEvent(Buffer.from(text));
      if (!decoded.ok) {
        throw new HttpError(422, "the event was not sent", { problems: [{ message: decoded.reason }] });
      }
      try {
        const delivered = await sendEvent(settings, config.event_topic, compactJson(text));
        log.info("event sent", { ...delivered, user: author });
        return sendJson(res, 200, { ok: true, ...delivered });
      } catch (error) {
        throw kafkaFailure(error);
      }
    }
    if (path.startsWith("/api/")) throw new HttpError(404, `no such endpoint: ${method} ${path}`);
    return false;
  };

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://ui").pathname;
    void (async () => {
      try {
        const { identity, answered } = await gate.admit(req, res, path);
        if (answered) return;
        if (identity !== null && (await api(req, res, path, identity))) return;
        if (req.method === "GET" && (await files.serve(path, res))) return;
        throw new HttpError(404, `not found: ${path}`);
      } catch (error) {
        if (res.headersSent) return void res.destroy();
        if (error instanceof HttpError) {
          sendJson(res, error.status, { ok: false, error: error.message, ...error.body });
        } else {
          log.error("request failed", { path, error: errorMessage(error) });
          sendJson(res, 500, { ok: false, error: errorMessage(error) });
        }
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${address.port}`;

  metrics.start();
  // The page is served at once; the topics are followed as soon as Kafka answers.
  void live.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        metrics.stop();
        hub.close();
        server.closeAllConnections();
        await Promise.all([
          new Promise<void>((resolve) => server.close(() => resolve())),
          live
            .stop()
            .catch((error: unknown) =>
              log.warn("stopping the topic readers failed", { error: errorMessage(error) }),
            ),
        ]);
      })();
      return closing;
    },
  };
}
