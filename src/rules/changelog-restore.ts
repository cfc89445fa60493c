// Restores a state partition from the changelog topic: the partition's local data is cleared, then the changelog
// partition is read from its beginning to its end, committed records only (an aborted transaction's state never
// comes back), each record the player's latest state (an empty value: none). One consumer outside any group does
// it, one partition after another.
import { randomUUID } from "node:crypto";
import rdkafka from "@confluentinc/kafka-javascript";
import type { Config } from "../config/config.js";
import { ErrorCodes, RtcrmError } from "../errors.js";
import {
  connectConsumer,
  consumeBatch,
  disconnectConsumer,
  highWatermark,
  partitionsOf,
  returnReadyRecords,
} from "../kafka/consumer-util.js";
import { clientSettings } from "../kafka/settings.js";
import type { PartitionStore } from "./state-store.js";

const OFFSET_BEGINNING = -2;
/** Records asked per consume call while restoring. */
const RESTORE_BATCH = 10_000;
/** Times the end of a changelog partition the client does not know yet is asked for, 100 ms apart. */
const UNKNOWN_PARTITION_ATTEMPTS = 50;

export interface RestoreResult {
  readonly records: number;
  readonly ms: number;
}

export class ChangelogRestorer {
  readonly #topic: string;
  readonly #consumer: rdkafka.KafkaConsumer;
  #connected: Promise<void> | undefined;
  /** Restores run one at a time, in the order they were asked for. */
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(config: Config) {
    this.#topic = config.rules_changelog_topic;
    this.#consumer = new rdkafka.KafkaConsumer(
      {
        ...clientSettings(config, "state-restore"),
        "group.id": `rtcrm-restore-${randomUUID()}`,
        "enable.auto.commit": false,
        "enable.auto.offset.store": false,
        "isolation.level": "read_committed",
        "fetch.queue.backoff.ms": 10,
        "fetch.wait.max.ms": 50,
        "queued.max.messages.kbytes": 65_536,
      },
      { "auto.offset.reset": "earliest" },
    );
    returnReadyRecords(this.#consumer, 100);
  }

  /** Partitions of `topic`; null when the topic does not exist. */
  async partitionCount(topic: string): Promise<number | null> {
    this.#connected ??= connectConsumer(this.#consumer, 30_000);
    await this.#connected;
    try {
      return (await partitionsOf(this.#consumer, topic, 30_000)).length;
    } catch (error) {
      if (error instanceof RtcrmError && error.code === ErrorCodes.TOPIC_MISSING) return null;
      throw error;
    }
  }

  /**
   * Clears `store` and fills it from changelog partition `partition`; `cancelled()` is asked between batches
   * (a revoked partition stops restoring). Resolves null when cancelled.
   */
  restore(partition: number, store: PartitionStore, cancelled: () => boolean): Promise<RestoreResult | null> {
    const run = this.#queue.then(() => this.#restore(partition, store, cancelled));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #restore(
    partition: number,
    store: PartitionStore,
    cancelled: () => boolean,
  ): Promise<RestoreResult | null> {
    if (cancelled() || this.#stopped) return null;
    const started = performance.now();
    this.#connected ??= connectConsumer(this.#consumer, 30_000);
    await this.#connected;
    store.clear();
    const end = await this.#end(partition);
    let records = 0;
    if (end > 0) {
      this.#consumer.assign([{ topic: this.#topic, partition, offset: OFFSET_BEGINNING }]);
      try {
        for (;;) {
          if (cancelled() || this.#stopped) return null;
          const states: [string, Buffer | null][] = [];
          // One LMDB transaction per batch; records of a batch are not sorted by key (it did not help: 87k
          // against 90k players/s at 10 million, bench/probes/player-store.ts).
          for (const m of await consumeBatch(this.#consumer, RESTORE_BATCH)) {
            if (m.key === null || m.key === undefined) continue;
            states.push([m.key.toString(), m.value && m.value.length > 0 ? m.value : null]);
          }
          store.load(states);
          records += states.length;
          const position = this.#consumer.position().find((p) => p.partition === partition);
          if (position !== undefined && position.offset >= end) break;
        }
      } finally {
        this.#consumer.unassign();
      }
    }
    return { records, ms: Math.round(performance.now() - started) };
  }

  /**
   * The end of changelog partition `partition`. The engine may have created the topic moments ago: until the client's
   * metadata holds it (about 100 ms), the query fails with "Local: Unknown partition", and is asked again.
   */
  async #end(partition: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await highWatermark(this.#consumer, this.#topic, partition, 30_000);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code !== rdkafka.CODES.ERRORS.ERR__UNKNOWN_PARTITION || attempt >= UNKNOWN_PARTITION_ATTEMPTS)
          throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#queue;
    if (this.#connected) await disconnectConsumer(this.#consumer, 5_000);
  }
}
