// Exactly-once: the records an event caused and the event's offset become visible together, in one Kafka
// transaction per commit interval (records into the transaction, offsets sent to it, then commit). Transaction
// steps run one at a time, in order. While one commits, new records are held back for the next. Anything that
// leaves a transaction unusable aborts it, and every unfinished event is then processed again from the committed
// offsets (the member re-joins the group to re-read them).
import type rdkafka from "@confluentinc/kafka-javascript";
import { ErrorCodes, RtcrmError, errorMessage } from "../errors.js";
import type { Ack, AckingProducer, OutRecord } from "../kafka/acking-producer.js";
import type { EventConsumer } from "../kafka/event-consumer.js";
import type { Logger } from "../logging/logger.js";
import type { Telemetry } from "../telemetry.js";
import type { Assignments, PartitionOffset } from "./assignments.js";
import type { Committer, RecordOutput } from "./committer.js";

/** Retriable errors of sendOffsetsToTransaction/commitTransaction are tried this many times in all. */
const ATTEMPTS = 5;

export interface TransactionalCommitterOptions {
  readonly intervalMs: number;
  /** Bound of each transaction step (and of waiting for the transaction's records to be written). */
  readonly timeoutMs: number;
  readonly telemetry: Telemetry;
  readonly log: Logger;
}

type TxnError = Error & { isFatal?: boolean; isRetriable?: boolean; isTxnRequiresAbort?: boolean };

export class TransactionalCommitter implements Committer {
  readonly output: RecordOutput = { send: (record, ack) => this.#send(record, ack) };
  readonly #producer: AckingProducer;
  readonly #consumer: EventConsumer;
  readonly #assignments: Assignments;
  readonly #options: TransactionalCommitterOptions;
  #queue: Promise<unknown> = Promise.resolve();
  /** Sends held back while a transaction commits; produced into the next one. */
  #held: { record: OutRecord; ack: Ack }[] | null = null;
  /** A transaction is open (begun and neither committed nor aborted). */
  #open = false;
  #failed = false;
  #committing = false;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    producer: AckingProducer,
    consumer: EventConsumer,
    assignments: Assignments,
    options: TransactionalCommitterOptions,
  ) {
    this.#producer = producer;
    this.#consumer = consumer;
    this.#assignments = assignments;
    this.#options = options;
  }

  /** Registers the transactional id (fencing an earlier run with the same id) and begins the first transaction. */
  async initTransactions(timeoutMs: number): Promise<void> {
    await this.#call(
      (cb) => this.#producer.client.initTransactions(timeoutMs, cb),
      "initialise transactions",
    );
    await this.#begin();
  }

  start(): void {
    this.#timer = setInterval(() => {
      // A commit slower than the interval is not queued up behind itself.
      if (!this.#committing) void this.#commitInterval();
    }, this.#options.intervalMs);
  }

  whenAssigning(assign: () => void): void {
    void this.#after(assign);
  }

  revoking(): void {
    if (this.#stopping) return;
    void this.#after(async () => {
      if (this.#failed) return;
      this.#options.log.info(
        "transaction aborted; its events are processed again from the committed offsets",
        {
          reason: "partitions revoked",
        },
      );
      await this.#abandon(null);
    });
  }

  async stop(): Promise<boolean> {
    if (this.#stopping) return true;
    this.#stopping = true;
    clearInterval(this.#timer);
    const result = await this.#commitInterval();
    return result !== "aborted" && !this.#failed;
  }

  #send(record: OutRecord, ack: Ack): void {
    if (this.#held) this.#held.push({ record, ack });
    else this.#producer.send(record, ack);
  }

  /** Runs `step` after every step enqueued before it (e.g. an assignment after an abort). */
  #after<T>(step: () => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(step, step);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #commitInterval(): Promise<PartitionOffset[] | null | "aborted"> {
    this.#committing = true;
    let started = 0;
    try {
      const result = await this.#commit(() => {
        started = Date.now();
        return this.#assignments.committable();
      });
      if (result === "aborted") {
        // Aborted records are forgotten with the events behind them: read every partition again. A fenced
        // producer reads nothing again: another instance owns the work now, and this one is stopping.
        if (!this.#stopping && !this.#failed) {
          this.#assignments.revokeAll();
          this.#options.log.warn("re-reading every partition from its committed offset");
          this.#consumer.rejoin();
        }
      } else if (result) {
        this.#assignments.markCommitted(result);
        this.#options.telemetry.publish("committed", Date.now() - started, result);
      }
      return result;
    } finally {
      this.#committing = false;
    }
  }

  /**
   * Commits the open transaction with the offsets `offsets()` gives once every record sent so far is written,
   * then begins the next one. Sends made meanwhile are held for the next transaction.
   */
  #commit(offsets: () => PartitionOffset[]): Promise<PartitionOffset[] | null | "aborted"> {
    return this.#after(async () => {
      if (this.#failed) return null;
      this.#held ??= [];
      try {
        await this.#drain();
        const committed = offsets();
        if (committed.length === 0) return null;
        const timeoutMs = this.#options.timeoutMs;
        await this.#retrying(() =>
          this.#call(
            (cb) =>
              this.#producer.client.sendOffsetsToTransaction(
                committed as rdkafka.TopicPartitionOffset[],
                this.#consumer.client,
                timeoutMs,
                cb,
              ),
            "send offsets to the transaction",
          ),
        );
        await this.#retrying(() =>
          this.#call(
            (cb) => this.#producer.client.commitTransaction(timeoutMs, cb),
            "commit the transaction",
          ),
        );
        this.#open = false;
        await this.#begin();
        return committed;
      } catch (error) {
        await this.#abandon(error as TxnError);
        return "aborted";
      } finally {
        this.#release();
      }
    });
  }

  /** Produces what was held back during the commit. */
  #release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const { record, ack } of held) this.#send(record, ack);
  }

  /** Resolves when every record sent before the hold is written; rejects when one failed, or after the timeout. */
  async #drain(): Promise<void> {
    const deadline = Date.now() + this.#options.timeoutMs;
    while (this.#producer.pending > 0 && this.#producer.lostInTransaction === null) {
      if (Date.now() > deadline)
        throw new RtcrmError(
          ErrorCodes.KAFKA,
          `${this.#producer.pending} record(s) not acknowledged in ${this.#options.timeoutMs} ms`,
          { canRetry: true },
        );
      await new Promise((r) => setTimeout(r, 2));
    }
    const lost = this.#producer.lostInTransaction;
    if (lost) throw lost;
  }

  async #abandon(error: TxnError | null): Promise<void> {
    if (error?.isFatal) return this.#fatal(error);
    if (error)
      this.#options.log.warn("transaction failed and is aborted; its events are processed again", {
        error: errorMessage(error),
      });
    try {
      // Everything sent into it or held is forgotten: none of it is acknowledged.
      this.#producer.discard();
      if (this.#held) this.#held = [];
      if (this.#open) {
        const timeoutMs = this.#options.timeoutMs;
        await this.#producer.settled(timeoutMs);
        await this.#call(
          (cb) => this.#producer.client.abortTransaction(timeoutMs, cb),
          "abort the transaction",
        );
      }
      this.#open = false;
      await this.#begin();
    } catch (abortError) {
      this.#fatal(abortError as Error);
    }
  }

  async #begin(): Promise<void> {
    await this.#call((cb) => this.#producer.client.beginTransaction(cb), "begin a transaction");
    this.#open = true;
  }

  async #retrying(step: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        const e = error as TxnError;
        if (!e.isRetriable || e.isTxnRequiresAbort || e.isFatal || attempt >= ATTEMPTS) throw e;
        this.#options.log.warn("transaction step failed; trying again", { error: errorMessage(e), attempt });
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  #call(run: (cb: (err: rdkafka.LibrdKafkaError | null) => void) => void, what: string): Promise<void> {
    return new Promise((resolve, reject) =>
      run((err) =>
        err ? reject(Object.assign(err, { message: `cannot ${what}: ${err.message}` })) : resolve(),
      ),
    );
  }

  #fatal(error: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#producer.discard();
    this.#options.log.error("transactional producer failed for good (fenced by another instance?)", {
      error: errorMessage(error),
    });
    this.#options.telemetry.publish("fatal", error);
  }
}
