// Kafka's refusals turned into KafkaAuthorizationError by librdkafka's error codes: the resource, the operation,
// the principal and the ACL to add; anything else is left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import rdkafka from "@confluentinc/kafka-javascript";
import { ErrorCodes, KafkaAuthorizationError, RtcrmError } from "../../../src/errors.js";
import {
  aclCommand,
  authorizationError,
  isAuthorizationFailure,
  isProducerFailure,
  principalOf,
} from "../../../src/kafka/authorization.js";

const { ERRORS } = rdkafka.CODES;
const SETTINGS = {
  "bootstrap.servers": "broker:9092",
  "sasl.username": "crm-viewer",
  "sasl.password": "never-shown",
};

function kafkaError(code: number): Error & { code: number } {
  return Object.assign(new Error("Broker: something"), { code });
}

test("a refused topic names the principal, the operation, the topic and the ACL", () => {
  const error = authorizationError(
    kafkaError(ERRORS.ERR_TOPIC_AUTHORIZATION_FAILED),
    SETTINGS,
    "crm-campaigns",
    "Write",
  );
  assert.ok(error instanceof KafkaAuthorizationError);
  assert.equal(error.code, ErrorCodes.KAFKA_NOT_AUTHORIZED);
  assert.equal(error.canRetry, false);
  assert.deepEqual(
    [error.resourceType, error.resourceName, error.operation],
    ["topic", "crm-campaigns", "Write"],
  );
  assert.match(error.message, /^User:crm-viewer is not authorized to write topic crm-campaigns: /);
  assert.ok(
    error.message.endsWith(
      "kafka-acls.sh --bootstrap-server broker:9092 --add --allow-principal User:crm-viewer --operation Write --topic crm-campaigns",
    ),
    error.message,
  );
  assert.ok(!error.message.includes("never-shown"));
});

test("a refused group or transactional id keeps its own kind", () => {
  const group = authorizationError(
    kafkaError(ERRORS.ERR_GROUP_AUTHORIZATION_FAILED),
    SETTINGS,
    "events",
    "Read",
    {
      group: "rtcrm",
    },
  );
  assert.deepEqual([group?.resourceType, group?.resourceName, group?.operation], ["group", "rtcrm", "Read"]);
  const txn = authorizationError(
    kafkaError(ERRORS.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
    SETTINGS,
    "events",
    "Write",
    { transactionalId: "rtcrm-rtcrm-host" },
  );
  assert.deepEqual([txn?.resourceType, txn?.resourceName], ["transactional-id", "rtcrm-rtcrm-host"]);
  assert.match(txn?.message ?? "", /--transactional-id rtcrm-rtcrm-host$/);
});

test("creating a topic refused on the cluster asks for Create on the topic", () => {
  const error = authorizationError(
    kafkaError(ERRORS.ERR_CLUSTER_AUTHORIZATION_FAILED),
    SETTINGS,
    "crm-holdouts",
    "Create",
  );
  assert.deepEqual(
    [error?.resourceType, error?.resourceName, error?.operation],
    ["topic", "crm-holdouts", "Create"],
  );
});

test("the code is read from the error or its cause; other failures are not refusals", () => {
  const wrapped = new RtcrmError(ErrorCodes.KAFKA, "wrapped", {
    cause: kafkaError(ERRORS.ERR_TOPIC_AUTHORIZATION_FAILED),
  });
  assert.ok(isAuthorizationFailure(wrapped));
  for (const code of [ERRORS.ERR__TRANSPORT, ERRORS.ERR__TIMED_OUT, ERRORS.ERR_UNKNOWN_TOPIC_OR_PART]) {
    assert.ok(!isAuthorizationFailure(kafkaError(code)), String(code));
    assert.equal(authorizationError(kafkaError(code), SETTINGS, "t", "Read"), null);
  }
  // A message that reads like a refusal is not one: only codes decide.
  assert.ok(!isAuthorizationFailure(new Error("Broker: Topic authorization failed")));
  assert.ok(isProducerFailure(kafkaError(ERRORS.ERR__FATAL)));
  assert.ok(!isProducerFailure(kafkaError(ERRORS.ERR__MSG_TIMED_OUT)));
});

test("without a user name the principal is described, and the command leaves a placeholder", () => {
  const settings = { "bootstrap.servers": "b:9092" };
  assert.equal(principalOf(settings), "this client's principal");
  assert.equal(
    aclCommand(settings, "group", "rtcrm-cli-", "Describe", true),
    "kafka-acls.sh --bootstrap-server b:9092 --add --allow-principal User:<principal> --operation Describe --group rtcrm-cli- --resource-pattern-type prefixed",
  );
});
