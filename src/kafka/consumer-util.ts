// Promise forms of the consumer calls the engine uses.
import type rdkafka from "@confluentinc/kafka-javascript";
import { ErrorCodes, RtcrmError } from "../errors.js";

export function connectConsumer(consumer: rdkafka.KafkaConsumer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) =>
    consumer.connect({ timeout: timeoutMs }, (err) =>
      err
        ? reject(
            new RtcrmError(ErrorCodes.KAFKA, `consumer cannot connect: ${err.message}`, {
              cause: err,
              canRetry: true,
            }),
          )
        : resolve(),
    ),
  );
}

export function consumeBatch(consumer: rdkafka.KafkaConsumer, max: number): Promise<rdkafka.Message[]> {
  return new Promise((resolve, reject) =>
    consumer.consume(max, (err, messages) => (err ? reject(err) : resolve(messages))),
  );
}

export function partitionsOf(
  consumer: rdkafka.KafkaConsumer,
  topic: string,
  timeoutMs: number,
): Promise<number[]> {
  return new Promise((resolve, reject) =>
    consumer.getMetadata({ topic, timeout: timeoutMs }, (err, metadata) => {
      if (err) return reject(err);
      const t = metadata.topics.find((x) => x.name === topic);
      if (!t || t.partitions.length === 0) {
        return reject(
          new RtcrmError(ErrorCodes.TOPIC_MISSING, `topic ${topic} has no partitions (does it exist?)`),
        );
      }
      resolve(t.partitions.map((p) => p.id).sort((a, b) => a - b));
    }),
  );
}

export function highWatermark(
  consumer: rdkafka.KafkaConsumer,
  topic: string,
  partition: number,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) =>
    consumer.queryWatermarkOffsets(topic, partition, timeoutMs, (err, offsets) =>
      err ? reject(err) : resolve(offsets.highOffset),
    ),
  );
}

/** Disconnects a consumer, waiting at most `timeoutMs` (the consumer's disconnect takes no timeout of its own). */
export function disconnectConsumer(consumer: rdkafka.KafkaConsumer, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    consumer.disconnect(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * consume(n) returns what is ready once the first record is there, instead of waiting up to the timeout for
 * each further record (which holds a batch back for as long as records keep trickling in).
 */
export function returnReadyRecords(consumer: rdkafka.KafkaConsumer, firstRecordTimeoutMs: number): void {
  consumer.setDefaultConsumeTimeout(firstRecordTimeoutMs);
  // Public in the library (its KafkaJS layer uses it), missing from its type declarations.
  (
    consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(on: boolean): void }
  ).setDefaultIsTimeoutOnlyForFirstMessage(true);
}
