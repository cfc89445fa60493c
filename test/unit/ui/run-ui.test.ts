import { test } from "node:test";
import assert from "node:assert/strict";
import { defaults } from "../../../src/config/config.js";
import { defaultMetricsUrls, parseUiArgs } from "../../../src/ui/run-ui.js";

test("UI options: defaults, then environment, then command line", () => {
  assert.deepEqual(parseUiArgs([], {}), {
    configFile: undefined,
    port: 8080,
    host: "127.0.0.1",
    metricsUrls: undefined,
    insecureNoAuth: false,
  });
  assert.deepEqual(
    parseUiArgs([], {
      RTCRM_UI_PORT: "9000",
      RTCRM_UI_HOST: "0.0.0.0",
      RTCRM_UI_METRICS_URL: "http://a:1/metrics, http://b:2/metrics",
    }),
    {
      configFile: undefined,
      port: 9000,
      host: "0.0.0.0",
      metricsUrls: ["http://a:1/metrics", "http://b:2/metrics"],
      insecureNoAuth: false,
    },
  );
  assert.deepEqual(
    parseUiArgs(
      [
        "--config",
        "c.json",
        "--port",
        "0",
        "--metrics-url",
        "http://x:9/metrics",
        "--metrics-url",
        "http://y:9/metrics",
        "--insecure-no-auth",
      ],
      {
        RTCRM_UI_PORT: "9000",
        RTCRM_UI_METRICS_URL: "http://ignored/metrics",
      },
    ),
    {
      configFile: "c.json",
      port: 0,
      host: "127.0.0.1",
      metricsUrls: ["http://x:9/metrics", "http://y:9/metrics"],
      insecureNoAuth: true,
    },
  );
  assert.equal(parseUiArgs(["--help"], {}), "help");
});

test("UI options: a bad port, URL or option says what is wrong", () => {
  assert.throws(
    () => parseUiArgs(["--port", "http"], {}),
    /port: expected an integer between 0 and 65535, got "http"/,
  );
  assert.throws(() => parseUiArgs([], { RTCRM_UI_PORT: "70000" }), /port: expected an integer/);
  assert.throws(
    () => parseUiArgs(["--metrics-url", "localhost:9464"], {}),
    /metrics-url: not an http\(s\) URL: "localhost:9464"/,
  );
  assert.throws(() => parseUiArgs(["--bogus"], {}), /bogus/);
});

test("the engine's metrics URL follows its http_port and http_host; none when the engine serves no HTTP", () => {
  assert.deepEqual(defaultMetricsUrls(defaults()), ["http://127.0.0.1:9464/metrics"]);
  assert.deepEqual(defaultMetricsUrls({ ...defaults(), http_port: 9500, http_host: "10.1.2.3" }), [
    "http://10.1.2.3:9500/metrics",
  ]);
  assert.deepEqual(defaultMetricsUrls({ ...defaults(), http_host: "::1" }), ["http://[::1]:9464/metrics"]);
  assert.deepEqual(defaultMetricsUrls({ ...defaults(), http_port: 0 }), []);
});
