// A producer whose every record is acknowledged back to its sender: the engine commits an event's offset
// only after all records it caused are acknowledged by the broker.
import rdkafka from "@confluentinc/kafka-javascript";
import { ErrorCodes, RtcrmError, errorMessage } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { RdSettings } from "./settings.js";

export interface OutRecord {
  readonly topic: string;
  readonly value: Buffer;
  readonly key: string | Buffer | null;
  readonly headers: rdkafka.MessageHeader[];
}

type Ack = (error: Error | null) => void;
interface InFlight {
  readonly record: OutRecord;
  readonly ack: Ack;
}

const QUEUE_FULL = rdkafka.CODES.ERRORS.ERR__QUEUE_FULL;

export class AckingProducer {
  readonly #producer: rdkafka.Producer;
  readonly #log: Logger;
  /** Records librdkafka refused for a full queue; sent again as acknowledgements free room. */
  readonly #overflow: InFlight[] = [];
  #pending = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #flushWaiters: (() => void)[] = [];

  constructor(settings: RdSettings, log: Logger) {
    this.#log = log;
    this.#producer = new rdkafka.Producer({
      ...settings,
      dr_cb: true,
      "enable.idempotence": true,
      acks: "all",
      "linger.ms": 5,
      "batch.num.messages": 10_000,
      "queue.buffering.max.messages": 200_000,
    } as rdkafka.ProducerGlobalConfig);
    this.#producer.setPollInterval(20);
    this.#producer.on("delivery-report", (err, report) => this.#onReport(err, report));
    this.#producer.on("event.error", (err) =>
      this.#log.warn("producer error", { error: err.message, code: err.code }),
    );
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

  /** Records sent and not yet acknowledged. */
  get pending(): number {
    return this.#pending;
  }

  /** Sends `record`; `ack` is called once, when the broker acknowledged it (it is re-sent until then). */
  send(record: OutRecord, ack: Ack): void {
    this.#pending++;
    this.#produce({ record, ack });
  }

  #produce(item: InFlight): void {
    if (this.#closed) return;
    if (this.#overflow.length > 0) {
      this.#overflow.push(item);
      return;
    }
    try {
      this.#producer.produce(
        item.record.topic,
        null,
        item.record.value,
        item.record.key ?? undefined,
        Date.now(),
        item,
        item.record.headers,
      );
    } catch (error) {
      if ((error as { code?: number }).code === QUEUE_FULL) {
        this.#overflow.push(item);
        this.#scheduleRetry();
        return;
      }
      // A record librdkafka refuses outright (e.g. larger than message.max.bytes) is not acknowledged:
      // the event stays uncommitted and the operator is told.
      this.#log.error("record refused by the producer; retrying", {
        topic: item.record.topic,
        error: errorMessage(error),
      });
      this.#retryLater(item);
    }
  }

  #onReport(err: rdkafka.LibrdKafkaError | null | undefined, report: rdkafka.DeliveryReport): void {
    const item = report.opaque as InFlight | undefined;
    if (!item) return;
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
