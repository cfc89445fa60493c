// Short-lived Kafka clients for the command line and the web UI: a producer that resolves each send with its
// partition and offset once the broker acknowledged it, and a reader of a whole topic up to its current end.
import { randomUUID } from "node:crypto";
import rdkafka from "@confluentinc/kafka-javascript";
import { ErrorCodes, RtcrmError } from "../errors.js";
import {
  connectConsumer,
  consumeBatch,
  disconnectConsumer,
  highWatermark,
  partitionsOf,
  returnReadyRecords,
} from "../kafka/consumer-util.js";
import {
  GROUP_REFUSED_CODE,
  isAuthorizationFailure,
  isProducerFailure,
  kafkaCode,
  notAuthorized,
  refusedBeforehand,
  topicRefusal,
} from "../kafka/authorization.js";
import type { RdSettings } from "../kafka/settings.js";

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface Delivered {
  readonly partition: number;
  readonly offset: number;
}

export interface ClientRecord {
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

export interface OneShotProducer {
  send(
    topic: string,
    value: Buffer | null,
    key: string | null,
    headers?: Record<string, string>,
  ): Promise<Delivered>;
  /** Idempotent; waits for what was sent, at most `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
}

/** A Kafka failure that says which setting to check. */
export function kafkaError(what: string | null, settings: RdSettings, err: { message: string }): RtcrmError {
  return new RtcrmError(
    ErrorCodes.KAFKA,
    `${what === null ? "" : `${what}: `}${err.message}; is Kafka reachable at ${String(settings["bootstrap.servers"])}? ` +
      "Set kafka_bootstrap_servers in the --config file or RTCRM_KAFKA_BOOTSTRAP_SERVERS",
    { cause: err, canRetry: true },
  );
}

/** How long a failed command may spend asking the broker what the principal may do. */
const REFUSAL_CHECK_MS = 10_000;

/**
 * Why `operation` on `topic` failed: a KafkaAuthorizationError when Kafka's ACLs refuse it (by the error's code,
 * or asked of the broker when the producer failed for good, as an idempotent producer does when its principal
 * may write no topic at all); otherwise the failure that `fallback` makes of it.
 */
async function topicFailure(
  settings: RdSettings,
  topic: string,
  operation: "Read" | "Write",
  err: unknown,
  fallback: () => RtcrmError,
): Promise<RtcrmError> {
  if (isAuthorizationFailure(err) || isProducerFailure(err)) {
    const refusal = await topicRefusal(settings, topic, operation, err, REFUSAL_CHECK_MS);
    if (refusal) return refusal;
  }
  return fallback();
}

/** A connected producer (acks=all, idempotent); every send resolves on the broker's acknowledgement. */
export async function openProducer(
  settings: RdSettings,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<OneShotProducer> {
  const producer = new rdkafka.Producer({
    ...settings,
    dr_cb: true,
    acks: "all",
    "enable.idempotence": true,
    "linger.ms": 5,
    // A record that cannot be delivered in this time fails its send instead of waiting for ever.
    "message.timeout.ms": timeoutMs,
  } as rdkafka.ProducerGlobalConfig);
  const waiting = new Map<number, { resolve: (d: Delivered) => void; reject: (e: Error) => void }>();
  let next = 0;
  producer.setPollInterval(10);
  producer.on("delivery-report", (err, report) => {
    const id = report.opaque as number;
    const w = waiting.get(id);
    if (!w) return;
    waiting.delete(id);
    if (err)
      void topicFailure(settings, report.topic, "Write", err, () =>
        kafkaError(`record to ${report.topic} not delivered`, settings, err),
      ).then(w.reject);
    else w.resolve({ partition: report.partition, offset: report.offset });
  });
  await new Promise<void>((resolve, reject) =>
    producer.connect({ timeout: timeoutMs }, (err) =>
      err ? reject(kafkaError("cannot connect the producer", settings, err)) : resolve(),
    ),
  );
  let closed = false;
  // Asked once per topic before its first record: a principal Kafka's ACLs do not allow to write it gets a
  // clear refusal at once (an idempotent producer of a principal that may write no topic at all would otherwise
  // fail in one of several ways, some only after message.timeout.ms).
  const writable = new Map<string, Promise<void>>();
  const mayWrite = (topic: string): Promise<void> => {
    let check = writable.get(topic);
    if (!check) {
      check = refusedBeforehand(settings, topic, "Write", Math.min(timeoutMs, REFUSAL_CHECK_MS)).then(
        (refusal) => {
          if (refusal) throw refusal;
        },
      );
      writable.set(topic, check);
    }
    return check;
  };
  return {
    async send(topic, value, key, headers = {}) {
      await mayWrite(topic);
      return new Promise<Delivered>((resolve, reject) => {
        if (closed) return reject(new RtcrmError(ErrorCodes.KAFKA, "producer closed"));
        const id = next++;
        waiting.set(id, { resolve, reject });
        try {
          producer.produce(
            topic,
            null,
            value,
            key ?? undefined,
            Date.now(),
            id,
            Object.entries(headers).map(([k, v]) => ({ [k]: v })),
          );
        } catch (error) {
          waiting.delete(id);
          void topicFailure(settings, topic, "Write", error, () =>
            kafkaError(`cannot send to ${topic}`, settings, error as Error),
          ).then(reject);
        }
      });
    },
    async close(closeTimeoutMs = 10_000) {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, closeTimeoutMs);
        producer.disconnect(closeTimeoutMs, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** Sends with a producer opened for the purpose and closed afterwards, even when `use` fails. */
export async function withProducer<T>(
  settings: RdSettings,
  use: (producer: OneShotProducer) => Promise<T>,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<T> {
  const producer = await openProducer(settings, timeoutMs);
  try {
    return await use(producer);
  } finally {
    await producer.close();
  }
}

export function headersOf(message: rdkafka.Message): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of message.headers ?? []) for (const [k, v] of Object.entries(h)) out[k] = v.toString();
  return out;
}

export function toRecord(message: rdkafka.Message): ClientRecord {
  const key = message.key === undefined || message.key === null ? null : message.key.toString();
  return {
    key,
    value: message.value ?? null,
    headers: headersOf(message),
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp ?? 0,
  };
}

/** The group of every private consumer starts with this (followed by a random id). */
export const PRIVATE_GROUP_PREFIX = "rtcrm-cli-";

/**
 * What a failed read of `topic` by a private consumer means: a KafkaAuthorizationError when Kafka's ACLs refuse
 * the topic or the consumer's group, else a Kafka failure naming the setting to check.
 */
export async function readFailure(settings: RdSettings, topic: string, err: unknown): Promise<RtcrmError> {
  if (err instanceof RtcrmError && !(err.code === ErrorCodes.TOPIC_MISSING || err.code === ErrorCodes.KAFKA))
    return err;
  if (kafkaCode(err) === GROUP_REFUSED_CODE)
    return notAuthorized(settings, "group", PRIVATE_GROUP_PREFIX, "Describe", {
      cause: err,
      prefixed: true,
      detail: `the groups ${PRIVATE_GROUP_PREFIX}<random id> in which this client reads without committing`,
    });
  const missing = err instanceof RtcrmError && err.code === ErrorCodes.TOPIC_MISSING;
  if (missing || isAuthorizationFailure(err)) {
    const refusal = await topicRefusal(settings, topic, "Read", err, REFUSAL_CHECK_MS);
    if (refusal) return refusal;
  }
  return err instanceof RtcrmError ? err : kafkaError(`cannot read ${topic}`, settings, err as Error);
}

/** A consumer of its own (random group, never committing): readers here never move an engine's offsets. */
export function privateConsumer(settings: RdSettings, readCommitted = true): rdkafka.KafkaConsumer {
  const consumer = new rdkafka.KafkaConsumer(
    {
      ...settings,
      "group.id": `${PRIVATE_GROUP_PREFIX}${randomUUID()}`,
      "enable.auto.commit": false,
      "enable.auto.offset.store": false,
      "isolation.level": readCommitted ? "read_committed" : "read_uncommitted",
    },
    { "auto.offset.reset": "earliest" },
  );
  returnReadyRecords(consumer, 200);
  return consumer;
}

/** librdkafka's logical offset "beginning of the partition". */
const OFFSET_BEGINNING = -2;

/** Every record of `topic` from the beginning up to its end as it was when the read started, in offset order per partition. */
export async function readToEnd(
  settings: RdSettings,
  topic: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<ClientRecord[]> {
  const consumer = privateConsumer(settings);
  const deadline = Date.now() + timeoutMs;
  try {
    await connectConsumer(consumer, timeoutMs).catch((e: Error) => {
      throw kafkaError(null, settings, e);
    });
    return await readAll(consumer, topic, deadline, timeoutMs);
  } catch (error) {
    throw await readFailure(settings, topic, error);
  } finally {
    await disconnectConsumer(consumer, 5_000);
  }
}

async function readAll(
  consumer: rdkafka.KafkaConsumer,
  topic: string,
  deadline: number,
  timeoutMs: number,
): Promise<ClientRecord[]> {
  const partitions = await partitionsOf(consumer, topic, timeoutMs);
  const ends = new Map<number, number>();
  for (const p of partitions) ends.set(p, await highWatermark(consumer, topic, p, timeoutMs));
  const behind = new Set([...ends].filter(([, end]) => end > 0).map(([p]) => p));
  if (behind.size === 0) return [];
  consumer.assign([...behind].map((partition) => ({ topic, partition, offset: OFFSET_BEGINNING })));
  const records: ClientRecord[] = [];
  while (behind.size > 0) {
    if (Date.now() > deadline) {
      throw new RtcrmError(
        ErrorCodes.KAFKA,
        `${topic} was not read to its end within ${timeoutMs} ms (${records.length} records so far)`,
        { canRetry: true },
      );
    }
    for (const message of await consumeBatch(consumer, 500)) {
      const end = ends.get(message.partition) ?? 0;
      if (message.offset < end) records.push(toRecord(message));
      if (message.offset + 1 >= end) behind.delete(message.partition);
    }
    // The position also moves past offsets that hold no record (compaction, transaction markers).
    for (const { partition, offset } of consumer.position()) {
      if (offset >= (ends.get(partition) ?? 0)) behind.delete(partition);
    }
  }
  return records;
}
