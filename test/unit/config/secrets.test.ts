// Secrets stay secret: settings holding one are recognised by key, and neither configuration problems nor log
// lines show their values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/config.js";
import { isSecretSetting, REDACTED, redactSettings } from "../../../src/config/secrets.js";
import { ConfigError } from "../../../src/errors.js";
import { createLogger } from "../../../src/logging/logger.js";

const SECRET = "s3cr3t-value-that-must-not-show";

function problemsOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail("the configuration was accepted");
}

test("librdkafka's secret settings are recognised by key, others are not", () => {
  for (const key of [
    "sasl.password",
    "ssl.key.password",
    "ssl.keystore.password",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.config",
    "ssl.key.pem",
    "sasl.jaas.config",
    "ui_session_secret",
  ])
    assert.ok(isSecretSetting(key), key);
  for (const key of [
    "sasl.username",
    "security.protocol",
    "sasl.mechanisms",
    "bootstrap.servers",
    "ssl.ca.location",
  ])
    assert.ok(!isSecretSetting(key), key);
});

test("redactSettings hides exactly the secret values and leaves the input alone", () => {
  const settings = {
    "bootstrap.servers": "broker:9092",
    "sasl.username": "engine",
    "sasl.password": SECRET,
    "ssl.key.password": SECRET,
    "ssl.keystore.password": SECRET,
    "sasl.oauthbearer.client.secret": SECRET,
  };
  const redacted = redactSettings(settings);
  assert.deepEqual(redacted, {
    "bootstrap.servers": "broker:9092",
    "sasl.username": "engine",
    "sasl.password": REDACTED,
    "ssl.key.password": REDACTED,
    "ssl.keystore.password": REDACTED,
    "sasl.oauthbearer.client.secret": REDACTED,
  });
  assert.equal(settings["sasl.password"], SECRET);
});

test("a wrongly typed secret in the kafka map is reported without its value", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtcrm-secrets-"));
  const path = join(dir, "config.json");
  writeFileSync(
    path,
    JSON.stringify({ kafka: { "sasl.password": { value: SECRET }, "client.rack": { a: "rack-1" } } }),
  );
  const message = problemsOf(() => loadConfig({ file: path, env: {} }));
  assert.match(
    message,
    /kafka\.sasl\.password: expected a string, number or boolean, got an object \(\[redacted\]\)/,
  );
  assert.ok(!message.includes(SECRET), message);
  // Settings that are not secret are still shown, so the problem can be found.
  assert.match(message, /kafka\.client\.rack: .*rack-1/);
});

test("RTCRM_KAFKA that is not a JSON object is reported without echoing it", () => {
  const env = { RTCRM_KAFKA: `{"sasl.password": "${SECRET}"` };
  const message = problemsOf(() => loadConfig({ env }));
  assert.match(message, /environment: kafka: expected an object, got a string \(\[redacted\]\)/);
  assert.ok(!message.includes(SECRET), message);
});

test("the secret itself passes through to the client settings unchanged", () => {
  const { config } = loadConfig({ env: { RTCRM_KAFKA__SASL_PASSWORD: SECRET } });
  assert.equal(config.kafka["sasl.password"], SECRET);
});

test("log fields named like secrets are written redacted", () => {
  const lines: string[] = [];
  const log = createLogger("info", { component: "test" }, (line) => lines.push(line));
  log.info("settings", {
    "sasl.password": SECRET,
    ui_session_secret: SECRET,
    user: "engine",
    kafka: { "sasl.username": "engine", "sasl.password": SECRET },
  });
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
  assert.equal(entry["sasl.password"], REDACTED);
  assert.equal(entry.ui_session_secret, REDACTED);
  assert.equal(entry.user, "engine");
  assert.deepEqual(entry.kafka, { "sasl.username": "engine", "sasl.password": REDACTED });
  assert.ok(!(lines[0] ?? "").includes(SECRET));
});
