// Reading librdkafka's consumer statistics: lag of assigned partitions, reachability from broker states.
import { test } from "node:test";
import assert from "node:assert/strict";
import { anyBrokerUp, parseConsumerStats } from "../../../src/metrics/kafka-stats.js";

/** Trimmed from a real document of librdkafka 2.15.1 against the local broker (two assigned partitions). */
function sample(over: { lag0?: number; brokerState?: string } = {}): string {
  return JSON.stringify({
    name: "rdkafka#consumer-3",
    type: "consumer",
    brokers: {
      "127.0.0.1:9093/1": {
        name: "127.0.0.1:9093/1",
        nodeid: 1,
        nodename: "127.0.0.1:9093",
        source: "learned",
        state: over.brokerState ?? "UP",
      },
      GroupCoordinator: {
        name: "GroupCoordinator",
        nodeid: -1,
        nodename: "127.0.0.1:9093",
        source: "logical",
        state: "UP",
      },
    },
    topics: {
      events: {
        topic: "events",
        partitions: {
          "0": {
            partition: 0,
            desired: true,
            fetch_state: "active",
            hi_offset: 7,
            consumer_lag: over.lag0 ?? 5,
          },
          "1": { partition: 1, desired: true, fetch_state: "active", hi_offset: 1, consumer_lag: -1 },
          "-1": { partition: -1, desired: false, fetch_state: "none", hi_offset: -1001, consumer_lag: -1 },
        },
      },
    },
    cgrp: { state: "up", join_state: "steady", assignment_size: 2 },
  });
}

test("lag is reported for assigned partitions whose lag is known; the -1 placeholder partition is left out", () => {
  const stats = parseConsumerStats(sample());
  assert.deepEqual(stats.lags, [{ topic: "events", partition: 0, lag: 5 }]);
  assert.deepEqual(parseConsumerStats(sample({ lag0: 0 })).lags, [{ topic: "events", partition: 0, lag: 0 }]);
});

test("only real brokers count for reachability, not librdkafka's logical GroupCoordinator", () => {
  const up = parseConsumerStats(sample());
  assert.deepEqual(up.brokers, [{ name: "127.0.0.1:9093/1", state: "UP" }]);
  assert.equal(anyBrokerUp(up), true);
  // The logical GroupCoordinator entry says UP in this document; it is not a connection of its own.
  const down = parseConsumerStats(sample({ brokerState: "TRY_CONNECT" }));
  assert.equal(anyBrokerUp(down), false);
});

test("a document without brokers or topics gives nothing; text that is not JSON throws", () => {
  assert.deepEqual(parseConsumerStats("{}"), { lags: [], brokers: [] });
  assert.equal(anyBrokerUp(parseConsumerStats("{}")), false);
  assert.throws(() => parseConsumerStats("{not json"), SyntaxError);
});
