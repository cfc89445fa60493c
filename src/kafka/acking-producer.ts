// A producer whose every record is acknowledged back to its sender: the engine commits an event's offset
// only after all records it caused are acknowledged by the broker. In transactional mode (exactly-once) the
// records go into the open Kafka transaction, whose steps src/offsets/transactional-committer.ts takes.
import rdkafka from "@confluentinc/kafka-javascript";
import { ErrorCodes, RtcrmError, errorMessage } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { RdSettings } from "./settings.js";

export interface OutRecord {
  readonly topic: string;
  /** The partition; librdkafka's partitioner picks one by key when it is missing. */
  readonly partition?: number;
  /** null: a tombstone (a compacted topic drops the key). */
  readonly value: Buffer | null;
  readonly key: string | Buffer | null;
  readonly headers: rdkafka.MessageHeader[];
}

export type Ack = (error: Error | null) => void;
interface InFlight {
  readonly record: OutRecord;
  readonly ack: Ack;
  /** The transaction epoch it was sent in (see discard()): reports of an earlier epoch are ignored. */
  readonly epoch: number;
}

export interface AckingProducerOptions {
  /** Makes the producer transactional (exactly-once); unique per instance, stable across its restarts. */
  readonly transactionalId?: string;
}

const QUEUE_FULL = rdkafka.CODES.ERRORS.ERR__QUEUE_FULL;

/** Refusals that sending again cannot cure: the sender is told (ack with the error) instead. */
const PERMANENT = new Set<number>([
  rdkafka.CODES.ERRORS.ERR_MSG_SIZE_TOO_LARGE,
  rdkafka.CODES.ERRORS.ERR_RECORD_LIST_TOO_LARGE,
  rdkafka.CODES.ERRORS.ERR_INVALID_RECORD,
]);

function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" && PERMANENT.has(code);
}

export class AckingProducer {
  readonly #producer: rdkafka.Producer;
  readonly #log: Logger;
  /** Records librdkafka refused for a full queue; sent again as acknowledgements free room. */
  readonly #overflow: InFlight[] = [];
  #pending = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #flushWaiters: (() => void)[] = [];
  readonly #transactional: boolean;
  #epoch = 0;
  /** Records handed to librdkafka whose delivery report has not come back yet, of any epoch. */
  #unreported = 0;
  readonly #reportWaiters: (() => void)[] = [];
  /** A delivery failed inside the open transaction: it can only be aborted. */
  #transactionFailure: rdkafka.LibrdKafkaError | null = null;

  constructor(settings: RdSettings, log: Logger, options: AckingProducerOptions = {}) {
    this.#log = log;
    this.#transactional = options.transactionalId !== undefined;
    this.#producer = new rdkafka.Producer({
      "transaction.timeout.ms": 10_000,
      ...settings,
      dr_cb: true,
      "enable.idempotence": true,
      acks: "all",
      "linger.ms": 5,
      "batch.num.messages": 10_000,
      "queue.buffering.max.messages": 200_000,
      ...(options.transactionalId === undefined ? {} : { "transactional.id": options.transactionalId }),
    } as rdkafka.ProducerGlobalConfig);
    this.#producer.setPollInterval(20);
    this.#producer.on("delivery-report", (err, report) => this.#onReport(err, report));
    // Reported at most every 10 s: an outage repeats its errors every second until the broker is back.
    let lastReported = 0;
    this.#producer.on("event.error", (err) => {
      if (Date.now() - lastReported < 10_000) return;
      lastReported = Date.now();
      this.#log.warn("producer error (retrying)", { error: err.message, code: err.code });
    });
  }

  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#producer.connect({ timeout: timeoutMs }, (err) =>
        err
          ? reject(
              new RtcrmError(ErrorCodes.KAFKA, `producer cannot connect: ${err.message}`, {
                cause: err,
                canRetry: true,
              }),
            )
          : resolve(),
      ),
    );
  }

  /** Records sent and not yet acknowledged (held ones not counted). */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Sends `record`; `ack` is called once, when the broker acknowledged it (at-least-once: it is re-sent
   * until then; transactional: acknowledged means written into the open transaction), or with the error
   * when Kafka refuses it for good (too large, invalid for the topic): sending it again could not help.
   */
  send(record: OutRecord, ack: Ack): void {
    this.#pending++;
    this.#produce({ record, ack, epoch: this.#epoch });
  }

  #produce(item: InFlight): void {
    if (this.#closed || item.epoch !== this.#epoch) return;
    if (this.#overflow.length > 0) {
      this.#overflow.push(item);
      return;
    }
    try {
      this.#producer.produce(
        item.record.topic,
        item.record.partition ?? null,
        item.record.value,
        item.record.key ?? undefined,
        Date.now(),
        item,
        item.record.headers,
      );
      this.#unreported++;
    } catch (error) {
      if ((error as { code?: number }).code === QUEUE_FULL) {
        this.#overflow.push(item);
        this.#scheduleRetry();
        return;
      }
      if (isPermanent(error)) {
        this.#refused(item, error as Error);
        return;
      }
      this.#log.error("record refused by the producer; retrying", {
        topic: item.record.topic,
        error: errorMessage(error),
      });
      this.#retryLater(item);
    }
  }

  #onReport(err: rdkafka.LibrdKafkaError | null | undefined, report: rdkafka.DeliveryReport): void {
    const item = report.opaque as InFlight | undefined;
    if (item && --this.#unreported === 0) for (const w of this.#reportWaiters.splice(0)) w();
    if (!item || item.epoch !== this.#epoch) return;
    if (err && isPermanent(err) && !this.#transactional) {
      this.#refused(item, new Error(err.message, { cause: err }));
      return;
    }
    if (err && this.#transactional) {
      // Inside a transaction a lost record cannot be sent again: the transaction must be aborted.
      this.#transactionFailure ??= err;
      return;
    }
    if (err) {
      this.#log.warn("delivery failed; sending again", {
        topic: item.record.topic,
        error: err.message,
        code: err.code,
      });
      this.#retryLater(item);
      return;
    }
    this.#pending--;
    item.ack(null);
    if (this.#overflow.length > 0) this.#scheduleRetry();
    if (this.#pending === 0) for (const w of this.#flushWaiters.splice(0)) w();
  }

  #refused(item: InFlight, error: Error): void {
    this.#pending--;
    item.ack(error);
    if (this.#pending === 0) for (const w of this.#flushWaiters.splice(0)) w();
  }

  #retryLater(item: InFlight): void {
    setTimeout(() => this.#produce(item), 1_000).unref();
  }

  #scheduleRetry(): void {
    if (this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      const items = this.#overflow.splice(0);
      for (const item of items) this.#produce(item);
    }, 5);
  }

  /** Transactional mode: the librdkafka producer, whose transaction calls the transactional committer makes. */
  get client(): rdkafka.Producer {
    return this.#producer;
  }

  /** Transactional mode: a delivery failed inside the open transaction (it can only be aborted), or null. */
  get lostInTransaction(): rdkafka.LibrdKafkaError | null {
    return this.#transactionFailure;
  }

  /** Forgets every record not yet acknowledged; late reports of them are ignored. */
  discard(): void {
    this.#epoch++;
    this.#pending = 0;
    this.#overflow.length = 0;
    this.#transactionFailure = null;
    for (const w of this.#flushWaiters.splice(0)) w();
  }

  /**
   * Resolves when librdkafka has reported on every record handed to it (discarded ones included), or after
   * `timeoutMs`. A transaction aborted while a record's partition is still being added to it fails for good on
   * the broker with INVALID_TXN_STATE (librdkafka issue 4849), so an abort waits for this first.
   */
  async settled(timeoutMs: number): Promise<void> {
    if (this.#unreported === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#reportWaiters.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]).finally(() => clearTimeout(timer));
  }

  /** Resolves when every record sent so far is acknowledged, or rejects after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    if (this.#pending === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => this.#flushWaiters.push(resolve)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new RtcrmError(
                  ErrorCodes.SHUTDOWN_TIMEOUT,
                  `${this.#pending} record(s) not acknowledged within ${timeoutMs} ms`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Idempotent. */
  disconnect(timeoutMs = 5_000): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#producer.disconnect(timeoutMs, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
