// Exactly-once commits: the records an event caused and the event's offset become visible together, in one
// Kafka transaction (records into the transaction, offsets sent to it, then commit). Transaction steps run
// one at a time, in order; anything that leaves a transaction unusable aborts it, and its events are then
// processed again from the last committed offsets (the pipeline re-joins the group to re-read them).
import type rdkafka from "@confluentinc/kafka-javascript";
import { errorMessage } from "../errors.js";
import type { AckingProducer } from "../kafka/acking-producer.js";
import type { Logger } from "../logging/logger.js";

/** Retriable errors of sendOffsetsToTransaction/commitTransaction are tried this many times in all. */
const ATTEMPTS = 5;

export interface TransactionalCommitsOptions {
  /** Bound of each transaction step (and of waiting for the transaction's records to be written). */
  readonly timeoutMs: number;
  /** The producer can never be used again (fenced by another instance with the same transactional id). */
  readonly onFatal: (error: Error) => void;
}

type TxnError = Error & { isFatal?: boolean; isRetriable?: boolean; isTxnRequiresAbort?: boolean };

export class TransactionalCommits {
  readonly #producer: AckingProducer;
  readonly #consumer: rdkafka.KafkaConsumer;
  readonly #log: Logger;
  readonly #options: TransactionalCommitsOptions;
  #queue: Promise<unknown> = Promise.resolve();
  /** A transaction is open (begun and neither committed nor aborted). */
  #open = true;
  #failed = false;

  /** `producer` has run initTransactions() (which begins the first transaction). */
  constructor(
    producer: AckingProducer,
    consumer: rdkafka.KafkaConsumer,
    log: Logger,
    options: TransactionalCommitsOptions,
  ) {
    this.#producer = producer;
    this.#consumer = consumer;
    this.#log = log;
    this.#options = options;
  }

  /** Runs `step` after every step enqueued before it (e.g. an assignment after an abort). */
  after<T>(step: () => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(step, step);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Commits the open transaction with the offsets `offsets()` gives once every record sent so far is
   * written, then begins the next one. Sends made meanwhile are held for the next transaction. Resolves
   * with the committed offsets, null when there was nothing to commit, or "aborted" when the transaction
   * had to be aborted: every record not yet committed is then forgotten, and the caller must process all
   * its unfinished events again from the committed offsets.
   */
  commit(
    offsets: () => rdkafka.TopicPartitionOffset[],
  ): Promise<rdkafka.TopicPartitionOffset[] | null | "aborted"> {
    return this.after(async () => {
      if (this.#failed) return null;
      this.#producer.hold();
      try {
        await this.#producer.drain(this.#options.timeoutMs);
        const committed = offsets();
        if (committed.length === 0) return null;
        await this.#retrying(() =>
          this.#producer.sendOffsetsToTransaction(committed, this.#consumer, this.#options.timeoutMs),
        );
        await this.#retrying(() => this.#producer.commitTransaction(this.#options.timeoutMs));
        this.#open = false;
        await this.#begin();
        return committed;
      } catch (error) {
        await this.#abandon(error as TxnError);
        return "aborted";
      } finally {
        this.#producer.release();
      }
    });
  }

  /** Aborts the open transaction (partitions were revoked): what it held is processed again by their next owner. */
  abort(reason: string): Promise<void> {
    return this.after(async () => {
      if (this.#failed) return;
      this.#log.info("transaction aborted; its events are processed again from the committed offsets", {
        reason,
      });
      await this.#abandon(null);
    });
  }

  async #abandon(error: TxnError | null): Promise<void> {
    if (error?.isFatal) return this.#fatal(error);
    if (error)
      this.#log.warn("transaction failed and is aborted; its events are processed again", {
        error: errorMessage(error),
      });
    try {
      if (this.#open) await this.#producer.abortTransaction(this.#options.timeoutMs);
      else this.#producer.discard();
      this.#open = false;
      await this.#begin();
    } catch (abortError) {
      this.#fatal(abortError as Error);
    }
  }

  async #begin(): Promise<void> {
    await this.#producer.beginTransaction();
    this.#open = true;
  }

  async #retrying(step: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        const e = error as TxnError;
        if (!e.isRetriable || e.isTxnRequiresAbort || e.isFatal || attempt >= ATTEMPTS) throw e;
        this.#log.warn("transaction step failed; trying again", { error: errorMessage(e), attempt });
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  #fatal(error: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#producer.discard();
    this.#log.error("transactional producer failed for good (fenced by another instance?)", {
      error: errorMessage(error),
    });
    this.#options.onFatal(error);
  }
}
