// The first build's client pattern without the engine: consume the events topic and produce one record per
// expected trigger, a delivery report per record into JavaScript, without decoding or evaluation; commit after
// acks. It measured that pattern, not the machine (the engine now passes it); kcat is the reference.
// Usage: node dist/bench/passthrough.js CONFIG.json COUNTS.bin PARTITIONS
import { readFileSync } from "node:fs";
import { loadConfig } from "../src/config/config.js";
import { AckingProducer } from "../src/kafka/acking-producer.js";
import { consumeBatch, connectConsumer, returnReadyRecords } from "../src/kafka/consumer-util.js";
import { clientSettings, KafkaErrors } from "../src/kafka/settings.js";
import { createLogger } from "../src/logging/logger.js";
import { PartitionOffsets } from "../src/offsets/partition-offsets.js";
import rdkafka from "@confluentinc/kafka-javascript";

const [configPath, countsPath, partitionsText] = process.argv.slice(2);
const { config } = loadConfig({ file: configPath as string });
const counts = readFileSync(countsPath as string);
const partitions = Number(partitionsText);
const log = createLogger("warn");
const producer = new AckingProducer(clientSettings(config, "producer"), log);
const offsets = new Map<number, PartitionOffsets>();
const consumer = new rdkafka.KafkaConsumer(
  {
    ...clientSettings(config, "events"),
    "group.id": config.kafka_group_id,
    "enable.auto.commit": false,
    "enable.auto.offset.store": false,
    "queued.max.messages.kbytes": 16_384,
    rebalance_cb: (err: rdkafka.LibrdKafkaError, assignment: rdkafka.Assignment[]) => {
      if (err.code === KafkaErrors.ASSIGN_PARTITIONS) {
        for (const tp of assignment) offsets.set(tp.partition, new PartitionOffsets());
        consumer.assign(assignment);
      } else {
        consumer.unassign();
      }
    },
  },
  { "auto.offset.reset": "earliest" },
);
returnReadyRecords(consumer, 50);

await producer.connect(30_000);
await connectConsumer(consumer, 30_000);
consumer.subscribe([config.event_topic]);
setInterval(() => {
  const list: rdkafka.TopicPartitionOffset[] = [];
  for (const [partition, o] of offsets) {
    const offset = o.toCommit();
    if (offset !== null) list.push({ topic: config.event_topic, partition, offset });
  }
  if (list.length === 0) return;
  consumer.commitSync(list);
  for (const l of list) offsets.get(l.partition)?.markCommitted(l.offset);
}, config.commit_interval_ms);
process.stdout.write("passthrough started\n");
process.on("SIGTERM", () => process.exit(0));

for (;;) {
  const messages = await consumeBatch(consumer, config.batch_size * 4);
  for (const m of messages) {
    const o = offsets.get(m.partition);
    if (!o || !o.track(m.offset)) continue;
    const n = counts[m.offset * partitions + m.partition] ?? 0;
    if (n === 0) {
      o.done(m.offset);
      continue;
    }
    let waiting = n;
    for (let k = 0; k < n; k++) {
      producer.send({ topic: config.trigger_topic, key: null, value: m.value as Buffer, headers: [] }, () => {
        if (--waiting === 0) o.done(m.offset);
      });
    }
  }
}
