// Server-Sent Events to the open pages: each new page gets a snapshot, then every change as it happens.
import type { IncomingMessage, ServerResponse } from "node:http";

/** A page that stops reading is dropped once this much is queued for it, rather than buffered for ever. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const MAX_CLIENTS = 100;
/** Proxies and browsers close idle streams; a comment line keeps the stream open. */
const HEARTBEAT_MS = 15_000;

export class SseHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor() {
    this.#heartbeat = setInterval(() => {
      for (const res of this.#clients) this.#write(res, ": keep-alive\n\n");
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Takes over the response as an event stream; `snapshot` is sent first so the page starts complete. */
  open(req: IncomingMessage, res: ServerResponse, snapshot: unknown): void {
    if (this.#clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "10" });
      res.end(`too many open pages (${MAX_CLIENTS}); close one and reload\n`);
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    // A reconnecting browser waits this long, then gets a fresh snapshot.
    res.write("retry: 2000\n\n");
    this.#clients.add(res);
    const drop = (): void => {
      this.#clients.delete(res);
    };
    req.on("close", drop);
    res.on("error", drop);
    this.#write(res, frame("snapshot", snapshot));
  }

  broadcast(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const text = frame(event, data);
    for (const res of this.#clients) this.#write(res, text);
  }

  #write(res: ServerResponse, text: string): void {
    if (res.writableLength > MAX_QUEUED_BYTES) {
      this.#clients.delete(res);
      res.destroy();
      return;
    }
    res.write(text);
  }

  close(): void {
    clearInterval(this.#heartbeat);
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }
}

function frame(event: string, data: unknown): string {
  // JSON never holds a raw newline, so one data line carries the whole payload.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
