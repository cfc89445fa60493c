import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaults, fuelFor, loadConfig } from "../../../src/config/config.js";
import { ConfigError } from "../../../src/errors.js";

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "rtcrm-config-")), "config.json");
  writeFileSync(path, content);
  return path;
}

test("defaults keep the seed's topics and broker", () => {
  const { config } = loadConfig({ env: {} });
  assert.equal(config.kafka_bootstrap_servers, "localhost:9093");
  assert.equal(config.event_topic, "events-valid");
  assert.equal(config.campaign_topic, "crm-campaigns");
  assert.equal(config.trigger_topic, "crm-triggers");
  assert.deepEqual(config, defaults());
});

test("a file overrides defaults and the environment overrides the file", () => {
  const path = file(JSON.stringify({ workers: 3, event_topic: "ev", fuel_overrides: { "4711": 5 } }));
  const { config } = loadConfig({ file: path, env: { RTCRM_WORKERS: "5", RTCRM_KAFKA__SASL_USERNAME: "u" } });
  assert.equal(config.workers, 5);
  assert.equal(config.event_topic, "ev");
  assert.equal(config.kafka["sasl.username"], "u");
  assert.equal(fuelFor(config, 4711), 5);
  assert.equal(fuelFor(config, 1), config.fuel_per_evaluation);
});

test("every problem is listed at once", () => {
  const path = file(
    JSON.stringify({
      workers: "many",
      colour: "red",
      delivery: "maybe",
      batch_size: 0,
      fuel_overrides: { x: -1 },
    }),
  );
  try {
    loadConfig({ file: path, env: { RTCRM_CREATE_TOPICS: "perhaps" } });
    assert.fail("expected a ConfigError");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    const text = error.problems.join("\n");
    for (const needle of ["workers", "colour", "delivery", "batch_size", "fuel_overrides", "create_topics"]) {
      assert.match(text, new RegExp(needle));
    }
    assert.ok(error.problems.length >= 6, text);
  }
});

test("a missing or malformed file is a configuration problem", () => {
  assert.throws(() => loadConfig({ file: "/nonexistent/rtcrm.json", env: {} }), /cannot be read/);
  assert.throws(() => loadConfig({ file: file("{nope"), env: {} }), /not valid JSON/);
});

test("the seed's config.json keys are understood", () => {
  const path = file(
    JSON.stringify({
      kafka_bootstrap_servers: "localhost:9093",
      kafka_group_id: "flink-real-time-crm",
      event_topic: "events-valid",
      campaign_topic: "crm-campaigns",
      trigger_topic: "crm-triggers",
      default_parallelism: 2,
      checkpoint_interval: 10000,
      checkpoint_dir: "file:///tmp/checkpoints",
    }),
  );
  const { config, warnings } = loadConfig({ file: path, env: {} });
  assert.equal(config.workers, 2);
  assert.equal(config.commit_interval_ms, 10000);
  assert.equal(warnings.length, 3);
});
