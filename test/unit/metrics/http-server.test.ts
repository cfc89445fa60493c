// The HTTP endpoints on a real socket: routes, status codes, a port in use, and a bounded, idempotent close.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { ConfigError } from "../../../src/errors.js";
import { createLogger } from "../../../src/logging/logger.js";
import { HttpEndpoints, type EndpointSources } from "../../../src/metrics/http-server.js";
import type { ReadinessReport } from "../../../src/metrics/readiness.js";

const log = createLogger("error", {}, () => undefined);
const HOST = "127.0.0.1";

function sources(over: Partial<EndpointSources> = {}): EndpointSources & { report: ReadinessReport } {
  const s: EndpointSources & { report: ReadinessReport } = {
    report: {
      ready: false,
      status: "starting",
      campaigns_read: false,
      kafka_reachable: false,
      missing: ["campaigns: starting"],
    } as ReadinessReport,
    metrics: () => Promise.resolve("rtcrm_x 1\n"),
    metricsContentType: "text/plain; version=0.0.4; charset=utf-8",
    readiness: () => s.report,
    ...over,
  };
  return s;
}

async function get(port: number, path: string, method = "GET") {
  const res = await fetch(`http://${HOST}:${port}${path}`, { method });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    body: await res.text(),
    headers: res.headers,
  };
}

test("/metrics, /healthz and /readyz answer; readiness decides 200 or 503 with the report as JSON", async (t) => {
  const src = sources();
  const http = await HttpEndpoints.listen(HOST, 0, src, log);
  t.after(() => http.close());

  const metrics = await get(http.port, "/metrics");
  assert.equal(metrics.status, 200);
  assert.equal(metrics.type, "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(metrics.body, "rtcrm_x 1\n");

  const health = await get(http.port, "/healthz");
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body), { status: "ok" });

  let ready = await get(http.port, "/readyz?verbose=1");
  assert.equal(ready.status, 503);
  assert.equal(ready.type, "application/json");
  assert.deepEqual(JSON.parse(ready.body), src.report);

  src.report = { ready: true, status: "ready", campaigns_read: true, kafka_reachable: true, missing: [] };
  ready = await get(http.port, "/readyz");
  assert.equal(ready.status, 200);
  assert.equal(JSON.parse(ready.body).status, "ready");

  const head = await get(http.port, "/healthz", "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
  const post = await get(http.port, "/metrics", "POST");
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  const missing = await get(http.port, "/");
  assert.equal(missing.status, 404);
  assert.match(missing.body, /\/metrics, \/healthz, \/readyz/);
});

test("a failing collection gives 500 with the reason", async (t) => {
  const http = await HttpEndpoints.listen(
    HOST,
    0,
    sources({ metrics: () => Promise.reject(new Error("collector broke")) }),
    log,
  );
  t.after(() => http.close());
  const res = await get(http.port, "/metrics");
  assert.equal(res.status, 500);
  assert.match(res.body, /collector broke/);
});

test("a port in use is a configuration error that names http_port and what to do", async (t) => {
  const first = await HttpEndpoints.listen(HOST, 0, sources(), log);
  t.after(() => first.close());
  await assert.rejects(HttpEndpoints.listen(HOST, first.port, sources(), log), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(
      error.message,
      /http_port: 127\.0\.0\.1:\d+ is already in use; set http_port to a free port, or to 0/,
    );
    return true;
  });
});

test("close cuts a request that never finishes after its timeout, and is idempotent", async (t) => {
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const http = await HttpEndpoints.listen(
    HOST,
    0,
    sources({
      metrics: () => {
        entered();
        return new Promise<string>(() => undefined); // a collector that hangs
      },
    }),
    log,
  );
  t.after(() => http.close());
  const hanging = new Promise<string>((resolve) => {
    const req = request({ host: HOST, port: http.port, path: "/metrics" }, () => resolve("answered"));
    req.on("error", (error) => resolve(`cut: ${(error as NodeJS.ErrnoException).code}`));
    req.end();
  });
  await inside;
  const closing = http.close(200);
  assert.equal(http.close(50), closing, "a second close returns the same promise");
  await closing;
  assert.equal(await hanging, "cut: ECONNRESET");
  await assert.rejects(fetch(`http://${HOST}:${http.port}/healthz`), "no longer listening");
});
