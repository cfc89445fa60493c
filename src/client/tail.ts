// Follows a topic (triggers, campaign status) and hands every record to a callback until stopped.
// A private consumer that never commits: tailing never moves the offsets of anybody else.
import rdkafka from "@confluentinc/kafka-javascript";
import { errorMessage } from "../errors.js";
import {
  connectConsumer,
  consumeBatch,
  disconnectConsumer,
  highWatermark,
  partitionsOf,
} from "../kafka/consumer-util.js";
import { isAuthorizationFailure } from "../kafka/authorization.js";
import type { RdSettings } from "../kafka/settings.js";
import {
  DEFAULT_TIMEOUT_MS,
  kafkaError,
  privateConsumer,
  readFailure,
  toRecord,
  type ClientRecord,
} from "./kafka-io.js";

export type TailRecord = ClientRecord;

export interface TailOptions {
  /** Every record already on the topic first; otherwise only records written after tail() resolved. */
  readonly fromBeginning?: boolean;
  /** Hide records of aborted transactions (exactly-once delivery); default true. */
  readonly readCommitted?: boolean;
  readonly timeoutMs?: number;
  /** Read errors are retried; this hears about them. */
  readonly onError?: (error: Error) => void;
}

export interface Tail {
  /** Idempotent; resolves once the consumer is closed. */
  stop(): Promise<void>;
}

const OFFSET_BEGINNING = -2;

/**
 * Resolves once the consumer is positioned: with fromBeginning false, every record written after that is
 * delivered (the ends are looked up and assigned explicitly, so none written in between is skipped).
 */
export async function tail(
  settings: RdSettings,
  topic: string,
  onRecord: (record: TailRecord) => void,
  options: TailOptions = {},
): Promise<Tail> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const consumer = privateConsumer(settings, options.readCommitted ?? true);
  try {
    await connectConsumer(consumer, timeoutMs).catch((e: Error) => {
      throw kafkaError(null, settings, e);
    });
    const partitions = await partitionsOf(consumer, topic, timeoutMs);
    const assignments: rdkafka.Assignment[] = [];
    for (const partition of partitions) {
      const offset = options.fromBeginning
        ? OFFSET_BEGINNING
        : await highWatermark(consumer, topic, partition, timeoutMs);
      assignments.push({ topic, partition, offset });
    }
    consumer.assign(assignments);
  } catch (error) {
    await disconnectConsumer(consumer, 5_000);
    throw await readFailure(settings, topic, error);
  }

  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const message of await consumeBatch(consumer, 500)) {
          if (stopped) break;
          onRecord(toRecord(message));
        }
      } catch (error) {
        // A refusal by Kafka's ACLs is said as such (and keeps being retried: an admin may grant it meanwhile).
        const failure = isAuthorizationFailure(error) ? await readFailure(settings, topic, error) : error;
        options.onError?.(failure instanceof Error ? failure : new Error(errorMessage(failure)));
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  })();

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        stopped = true;
        await loop;
        await disconnectConsumer(consumer, 5_000);
      })();
      return stopping;
    },
  };
}
