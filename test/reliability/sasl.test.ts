// Authentication: the engine's Kafka security settings pass through config. A broker of this test's own has
// a SASL/PLAIN listener: with the right credentials the engine connects and works; with wrong ones it stops
// with a clear error and a non-zero exit instead of retrying for ever.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TestBroker } from "../helpers/broker.js";
import { EngineProcess, engineFixture } from "../helpers/engine-process.js";
import { useBootstrap, within } from "../helpers/kafka.js";
import { checkTriggers, makeStream, putCampaigns, waitForAll } from "./scenario.js";
import { produce } from "../helpers/kafka.js";

const PORT = 9293; // plaintext (the tests' own clients); the controller takes PORT + 1
const SASL_PORT = 9295;

function saslSettings(password: string) {
  return {
    kafka_bootstrap_servers: `127.0.0.1:${SASL_PORT}`,
    kafka: {
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanisms": "PLAIN",
      "sasl.username": "rtcrm",
      "sasl.password": password,
    },
  };
}

test("SASL/PLAIN: right credentials work, wrong ones stop the engine with a clear error", async (t) => {
  const broker = new TestBroker(
    PORT,
    [
      `listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${PORT + 1},SASL_PLAINTEXT://127.0.0.1:${SASL_PORT}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${PORT},SASL_PLAINTEXT://127.0.0.1:${SASL_PORT}`,
      "sasl.enabled.mechanisms=PLAIN",
      'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_rtcrm="rtcrm-secret";',
      "",
    ].join("\n"),
  );
  await broker.startFresh();
  t.after(() => broker.remove());
  useBootstrap(broker.bootstrap);

  await t.test("right credentials: connects, evaluates, triggers", async (t) => {
    const { topics, start } = await engineFixture(t, "sasl-ok", saslSettings("rtcrm-secret"), 1);
    const stream = makeStream(300, 1);
    await putCampaigns(topics.campaign_topic, stream.campaigns);
    const engine = await start();
    await produce(topics.event_topic, stream.events);
    await waitForAll(topics.trigger_topic, stream.expected);
    assert.equal(await engine.stop(), 0);
    await checkTriggers(t, "SASL/PLAIN with the right credentials", topics.trigger_topic, stream);
  });

  await t.test("wrong password: exits non-zero with an error naming the login", async (t) => {
    const { configPath } = await engineFixture(t, "sasl-wrong", saslSettings("not-the-password"), 1);
    const engine = new EngineProcess(configPath);
    const code = await within(90_000, "engine exit on refused login", engine.exited);
    const line = engine.lines.find((l) => l.includes('"msg":"engine failed to start"')) ?? "";
    t.diagnostic(line);
    assert.notEqual(code, 0);
    assert.match(line, /RTCRM_KAFKA_AUTH/);
    assert.match(line, /refused the engine's login.*Authentication failed/);
    assert.match(line, /sasl\.username, sasl\.password/);
  });
});
