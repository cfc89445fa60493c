import { test } from "node:test";
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { defaults, loadConfig } from "../../../src/config/config.js";
import { ConfigError, ErrorCodes } from "../../../src/errors.js";
import {
  groupInstanceId,
  heartbeatIntervalMs,
  memberGoneError,
  membershipSettings,
} from "../../../src/kafka/group-membership.js";
import { KafkaErrors } from "../../../src/kafka/settings.js";

test("static membership by default: rtcrm-<group>-<hostname>, or the transactional id when one is set", () => {
  const config = { ...defaults(), kafka_group_id: "g" };
  assert.equal(groupInstanceId(config), `rtcrm-g-${hostname()}`);
  assert.equal(groupInstanceId({ ...config, transactional_id: "tx-1" }), "tx-1");
  assert.equal(groupInstanceId({ ...config, transactional_id: "tx-1", group_instance_id: "gi-1" }), "gi-1");
  assert.equal(groupInstanceId({ ...config, group_instance_id: "none" }), null);
});

test("the session timeout is set explicitly, with a heartbeat of a tenth of it, at most 3 s", () => {
  const config = defaults();
  assert.equal(config.session_timeout_ms, 30_000);
  assert.deepEqual(membershipSettings({ ...config, group_instance_id: "a" }), {
    "group.instance.id": "a",
    "session.timeout.ms": 30_000,
    "heartbeat.interval.ms": 3_000,
  });
  assert.deepEqual(membershipSettings({ ...config, group_instance_id: "none", session_timeout_ms: 6_000 }), {
    "session.timeout.ms": 6_000,
    "heartbeat.interval.ms": 600,
  });
  assert.equal(heartbeatIntervalMs(1_800_000), 3_000);
});

test("membership settings in the kafka map are refused, with the key to use, along with other problems", () => {
  const env = {
    RTCRM_KAFKA: JSON.stringify({
      "session.timeout.ms": 6000,
      "group.instance.id": "x",
      "fetch.min.bytes": 1,
    }),
    RTCRM_SESSION_TIMEOUT_MS: "1000",
    RTCRM_GROUP_INSTANCE_ID: "",
  };
  assert.throws(
    () => loadConfig({ env }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [
        "environment: session_timeout_ms: must be between 6000 and 1800000, got 1000",
        'environment: group_instance_id: expected a non-empty string, got string ""',
        "kafka.group.instance.id: set group_instance_id instead",
        "kafka.session.timeout.ms: set session_timeout_ms instead",
      ]);
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ env: { RTCRM_SESSION_TIMEOUT_MS: "600000" } }),
    /session_timeout_ms \(600000\) must not exceed kafka.max.poll.interval.ms \(300000/,
  );
  const longer = { RTCRM_SESSION_TIMEOUT_MS: "600000", RTCRM_KAFKA__MAX_POLL_INTERVAL_MS: "600000" };
  assert.equal(loadConfig({ env: longer }).config.session_timeout_ms, 600_000);
  const { config } = loadConfig({
    env: { RTCRM_GROUP_INSTANCE_ID: "none", RTCRM_SESSION_TIMEOUT_MS: "6000" },
  });
  assert.equal(groupInstanceId(config), null);
  assert.equal(config.session_timeout_ms, 6000);
});

test("a fatal consumer error of a static member is RTCRM_KAFKA_FENCED_INSTANCE, naming the id to change", () => {
  const config = { ...defaults(), kafka_group_id: "g", group_instance_id: "host-a" };
  const fatal = Object.assign(new Error("Local: Fatal error"), { code: KafkaErrors.FATAL });
  const gone = memberGoneError(fatal, config);
  assert.equal(gone?.code, ErrorCodes.KAFKA_FENCED_INSTANCE);
  assert.match(gone?.message ?? "", /"host-a".*own group_instance_id/);
  const fenced = Object.assign(new Error("Broker: fenced"), { code: KafkaErrors.FENCED_INSTANCE_ID });
  assert.equal(memberGoneError(fenced, config)?.code, ErrorCodes.KAFKA_FENCED_INSTANCE);
  assert.equal(memberGoneError(fatal, { ...config, group_instance_id: "none" })?.code, ErrorCodes.KAFKA);
  const transport = Object.assign(new Error("Local: Broker transport failure"), {
    code: KafkaErrors.TRANSPORT,
  });
  assert.equal(memberGoneError(transport, config), null);
});
