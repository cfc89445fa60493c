// The foundation's proof that the real broker and the Kafka client work together:
// produce records, consume them back through a consumer group, every client closed even on failure.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  bootstrapServers,
  createTopics,
  deleteTopics,
  kafka,
  uniqueTopic,
  within,
} from "../helpers/kafka.js";

test("a record produced to the real broker is consumed back with key, value and headers", async (t) => {
  const topic = uniqueTopic("roundtrip");
  await createTopics([{ topic, partitions: 2 }]);
  t.after(() => deleteTopics([topic]));

  const producer = kafka().producer({ "bootstrap.servers": bootstrapServers, "linger.ms": 0 });
  await producer.connect();
  t.after(() => producer.disconnect());
  const records = Array.from({ length: 10 }, (_, i) => ({
    key: `player-${i}`,
    value: JSON.stringify({ game: "foe", event_name: "fight", player_id: i }),
    headers: { "rtcrm-test": `h${i}` },
  }));
  const reports = await within(
    30_000,
    "produce",
    producer.send({ topic, messages: records.map((r) => ({ ...r, headers: { ...r.headers } })) }),
  );
  assert.equal(reports.length > 0, true);

  const consumer = kafka().consumer({
    "bootstrap.servers": bootstrapServers,
    "group.id": `${topic}-group`,
    "auto.offset.reset": "earliest",
  });
  await consumer.connect();
  t.after(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topic] });

  const received: { key: string; value: string; header: string }[] = [];
  await within(
    60_000,
    "consume",
    new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push({
              key: message.key?.toString() ?? "",
              value: message.value?.toString() ?? "",
              header: String(message.headers?.["rtcrm-test"] ?? ""),
            });
            if (received.length === records.length) resolve();
          },
        })
        .catch(reject);
    }),
  );

  const byKey = new Map(received.map((r) => [r.key, r]));
  assert.equal(byKey.size, records.length);
  for (const [i, r] of records.entries()) {
    assert.deepEqual(byKey.get(r.key), { key: r.key, value: r.value, header: `h${i}` });
  }
});
