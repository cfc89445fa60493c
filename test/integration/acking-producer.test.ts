// The acknowledging producer against the real broker (at-least-once mode): every record acknowledged exactly
// once, what Kafka refuses for good acknowledged with the error instead of sent again for ever.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import rdkafka from "@confluentinc/kafka-javascript";
import { ErrorCodes, RtcrmError } from "../../src/errors.js";
import { AckingProducer, type OutRecord } from "../../src/kafka/acking-producer.js";
import { createLogger } from "../../src/logging/logger.js";
import type { RdSettings } from "../../src/kafka/settings.js";
import {
  bootstrapServers,
  createTopics,
  deleteTopics,
  readToEnd,
  uniqueTopic,
  within,
  type Received,
} from "../helpers/kafka.js";

const TOO_LARGE = rdkafka.CODES.ERRORS.ERR_MSG_SIZE_TOO_LARGE;

interface Started {
  readonly producer: AckingProducer;
  /** Log lines the producer wrote (warn and above), parsed. */
  readonly logged: { level: string; msg: string }[];
}

async function started(t: TestContext, settings: RdSettings = {}): Promise<Started> {
  const logged: { level: string; msg: string }[] = [];
  const log = createLogger("warn", {}, (line) =>
    logged.push(JSON.parse(line) as { level: string; msg: string }),
  );
  const producer = new AckingProducer(
    { "bootstrap.servers": bootstrapServers, log_level: 3, ...settings },
    log,
  );
  t.after(() => producer.disconnect());
  await within(30_000, "producer connect", producer.connect(20_000));
  return { producer, logged };
}

async function topicOf(t: TestContext, prefix: string, partitions = 1, config: Record<string, string> = {}) {
  const topic = uniqueTopic(prefix);
  await createTopics([{ topic, partitions, config }]);
  t.after(() => deleteTopics([topic]));
  return topic;
}

/** Sends every record; resolves with the acknowledgements of each, once all came (rejects on a second one). */
function sendAll(producer: AckingProducer, records: OutRecord[]): Promise<(Error | null)[]> {
  const acks: (Error | null | undefined)[] = records.map(() => undefined);
  const counts = records.map(() => 0);
  let outstanding = records.length;
  return new Promise((resolve, reject) => {
    for (const [i, record] of records.entries()) {
      producer.send(record, (error) => {
        counts[i]!++;
        if (counts[i]! > 1) return reject(new Error(`record ${i} acknowledged ${counts[i]} times`));
        acks[i] = error;
        if (--outstanding === 0) resolve(acks as (Error | null)[]);
      });
    }
  });
}

const record = (topic: string, i: number, over: Partial<OutRecord> = {}): OutRecord => ({
  topic,
  value: Buffer.from(JSON.stringify({ i, pad: "x".repeat(40) })),
  key: `player-${i % 7}`,
  headers: [{ "rtcrm-seq": String(i) }, { "rtcrm-campaign-id": String(4711 + (i % 3)) }],
  ...over,
});

const seq = (r: Received): number => Number(r.headers["rtcrm-seq"]);

test("every record is acknowledged exactly once and arrives with its key, value and headers", async (t) => {
  const topic = await topicOf(t, "acking", 3);
  const { producer, logged } = await started(t);
  const records = Array.from({ length: 300 }, (_, i) => record(topic, i));
  const acks = sendAll(producer, records);
  assert.equal(producer.pending, records.length, "nothing is acknowledged before the broker answers");
  assert.deepEqual(
    await within(60_000, "acknowledgements", acks),
    records.map(() => null),
  );
  assert.equal(producer.pending, 0);
  await within(5_000, "flush with nothing pending", producer.flush(1_000));

  const received = await readToEnd(topic);
  assert.equal(received.length, records.length, "each record once in the topic");
  for (const r of received) {
    const i = seq(r);
    const sent = records[i];
    assert.ok(sent, `unknown record ${JSON.stringify(r)}`);
    assert.equal(r.key, sent.key);
    assert.equal(r.value, String(sent.value));
    assert.deepEqual(r.headers, { "rtcrm-seq": String(i), "rtcrm-campaign-id": String(4711 + (i % 3)) });
  }
  // One key, one partition, in the order sent (idempotent producer: no reordering on retries).
  for (let k = 0; k < 7; k++) {
    const ofKey = received.filter((r) => r.key === `player-${k}`);
    assert.equal(new Set(ofKey.map((r) => r.partition)).size, 1, `player-${k} in one partition`);
    const order = ofKey.sort((a, b) => a.offset - b.offset).map(seq);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `player-${k} in send order`,
    );
  }
  assert.deepEqual(logged, [], "no delivery failed");
});

test("flush() resolves once every record sent so far is acknowledged", async (t) => {
  const topic = await topicOf(t, "acking-flush");
  const { producer } = await started(t);
  let acknowledged = 0;
  const n = 1_000;
  for (let i = 0; i < n; i++) producer.send(record(topic, i), () => acknowledged++);
  assert.equal(producer.pending, n);
  await within(60_000, "flush", producer.flush(55_000));
  assert.equal(acknowledged, n, "flush resolved before every acknowledgement came");
  assert.equal(producer.pending, 0);
  assert.equal((await readToEnd(topic)).length, n);
});

test("a record key may be a Buffer or absent, and a record may have no headers", async (t) => {
  const topic = await topicOf(t, "acking-keys");
  const { producer } = await started(t);
  const records = [
    record(topic, 0, { key: Buffer.from("binary-key"), headers: [] }),
    record(topic, 1, { key: null, headers: [{ "rtcrm-seq": "1" }] }),
  ];
  assert.deepEqual(await within(60_000, "acknowledgements", sendAll(producer, records)), [null, null]);
  const received = (await readToEnd(topic)).sort((a, b) => a.offset - b.offset);
  assert.deepEqual(
    received.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    [
      { key: "binary-key", value: String(records[0]!.value), headers: {} },
      { key: null, value: String(records[1]!.value), headers: { "rtcrm-seq": "1" } },
    ],
  );
});

test("a record over the topic's max.message.bytes is acknowledged with the broker's refusal, not sent again", async (t) => {
  const topic = await topicOf(t, "acking-toolarge", 1, { "max.message.bytes": "1000" });
  const { producer, logged } = await started(t);
  const big = record(topic, 0, { value: Buffer.alloc(5_000, "a") });
  const [ack] = await within(60_000, "acknowledgement of the oversized record", sendAll(producer, [big]));
  assert.ok(ack instanceof Error, "acknowledged with an error");
  assert.equal((ack.cause as { code?: unknown } | undefined)?.code, TOO_LARGE);
  assert.equal(producer.pending, 0);
  await within(5_000, "flush", producer.flush(1_000));
  assert.deepEqual(
    logged.filter((l) => /sending again|retrying/.test(l.msg)),
    [],
    "a permanent refusal is not retried",
  );

  // The producer goes on: a record that fits is delivered, and only it is in the topic.
  const small = record(topic, 1);
  assert.deepEqual(await within(60_000, "small record", sendAll(producer, [small])), [null]);
  assert.deepEqual((await readToEnd(topic)).map(seq), [1]);
});

test("a record over the producer's own message.max.bytes is refused at once with the error", async (t) => {
  const topic = await topicOf(t, "acking-clientlimit");
  const { producer } = await started(t, { "message.max.bytes": 10_000 });
  let ack: Error | null | undefined;
  let calls = 0;
  producer.send(record(topic, 0, { value: Buffer.alloc(20_000, "b") }), (error) => {
    calls++;
    ack = error;
  });
  assert.equal(calls, 1, "refused before anything is sent");
  assert.ok(ack instanceof Error);
  assert.equal((ack as { code?: unknown }).code, TOO_LARGE);
  assert.equal(producer.pending, 0);
  await within(5_000, "flush", producer.flush(1_000));
});

test("records refused for a full local queue are sent later, each acknowledged once and in order", async (t) => {
  const topic = await topicOf(t, "acking-queuefull");
  // A queue of 1 KiB holds a handful of these records: most sends first meet a full queue.
  const { producer } = await started(t, { "queue.buffering.max.kbytes": 1 });
  const records = Array.from({ length: 500 }, (_, i) =>
    record(topic, i, { key: "one-key", value: Buffer.alloc(200, String(i % 10)) }),
  );
  assert.deepEqual(
    await within(120_000, "acknowledgements", sendAll(producer, records)),
    records.map(() => null),
  );
  assert.equal(producer.pending, 0);
  const received = (await readToEnd(topic)).sort((a, b) => a.offset - b.offset);
  assert.deepEqual(
    received.map(seq),
    records.map((_, i) => i),
    "each once, in the order sent",
  );
});

test("flush() rejects with a shutdown timeout while records are unacknowledged", async (t) => {
  const topic = await topicOf(t, "acking-flushtimeout");
  const { producer } = await started(t);
  let acknowledged = 0;
  // 20k records cannot all be acknowledged within 1 ms of being sent.
  for (let i = 0; i < 20_000; i++) producer.send(record(topic, i), () => acknowledged++);
  await assert.rejects(
    producer.flush(1),
    (e: unknown) => e instanceof RtcrmError && e.code === ErrorCodes.SHUTDOWN_TIMEOUT,
  );
  assert.ok(acknowledged < 20_000);
  await within(60_000, "flush", producer.flush(55_000));
  assert.equal(acknowledged, 20_000);
});

test("disconnect() is idempotent", async (t) => {
  const { producer } = await started(t);
  await within(10_000, "disconnect", producer.disconnect(5_000));
  await within(10_000, "disconnect again", producer.disconnect(5_000));
});
