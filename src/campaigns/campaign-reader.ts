// Reads the campaign topic from the beginning on every start (no shared group offsets: every instance holds
// every campaign), resolves start() once it has read up to the end, then follows live updates.
import { randomUUID } from "node:crypto";
import rdkafka from "@confluentinc/kafka-javascript";
import type { Config } from "../config/config.js";
import { errorMessage } from "../errors.js";
import type { AckingProducer } from "../kafka/acking-producer.js";
import {
  connectConsumer,
  consumeBatch,
  disconnectConsumer,
  highWatermark,
  partitionsOf,
  returnReadyRecords,
} from "../kafka/consumer-util.js";
import { clientSettings } from "../kafka/settings.js";
import type { Logger } from "../logging/logger.js";
import type { CampaignSet } from "./campaign-set.js";
import type { CampaignStatus } from "./status.js";

/** librdkafka's logical offset "beginning of the partition". */
const OFFSET_BEGINNING = -2;

export class CampaignReader {
  readonly #config: Config;
  readonly #campaigns: CampaignSet;
  readonly #producer: AckingProducer;
  readonly #log: Logger;
  readonly #consumer: rdkafka.KafkaConsumer;
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #listeners: ((status: CampaignStatus) => void)[] = [];

  constructor(config: Config, campaigns: CampaignSet, producer: AckingProducer, log: Logger) {
    this.#config = config;
    this.#campaigns = campaigns;
    this.#producer = producer;
    this.#log = log.child({ component: "campaigns" });
    this.#consumer = new rdkafka.KafkaConsumer(
      {
        ...clientSettings(config, "campaigns"),
        "group.id": `rtcrm-campaigns-${randomUUID()}`,
        "enable.auto.commit": false,
        "enable.auto.offset.store": false,
      },
      { "auto.offset.reset": "earliest" },
    );
    returnReadyRecords(this.#consumer, 100);
  }

  /** Called for every status written (accepted, rejected, deleted, quarantined). */
  onStatus(listener: (status: CampaignStatus) => void): void {
    this.#listeners.push(listener);
  }

  /** Connects, reads the topic up to its current end, and keeps following it in the background. */
  async start(connectTimeoutMs = 30_000): Promise<void> {
    const topic = this.#config.campaign_topic;
    await connectConsumer(this.#consumer, connectTimeoutMs);
    const partitions = await partitionsOf(this.#consumer, topic, connectTimeoutMs);
    const ends = new Map<number, number>();
    for (const p of partitions) ends.set(p, await highWatermark(this.#consumer, topic, p, connectTimeoutMs));
    this.#consumer.assign(partitions.map((partition) => ({ topic, partition, offset: OFFSET_BEGINNING })));
    const behind = new Set([...ends].filter(([, end]) => end > 0).map(([p]) => p));
    let applied = 0;
    while (behind.size > 0 && !this.#stopped) {
      for (const message of await consumeBatch(this.#consumer, 500)) {
        await this.#apply(message);
        applied++;
        if (message.offset + 1 >= (ends.get(message.partition) ?? 0)) behind.delete(message.partition);
      }
      // The position also moves past offsets that hold no record (compaction, transaction markers).
      for (const { partition, offset } of this.#consumer.position()) {
        if (offset >= (ends.get(partition) ?? 0)) behind.delete(partition);
      }
    }
    this.#log.info("campaign topic read to its end", { records: applied, campaigns: this.#campaigns.size });
    this.#loop = this.#follow();
  }

  async #follow(): Promise<void> {
    while (!this.#stopped) {
      try {
        for (const message of await consumeBatch(this.#consumer, 500)) await this.#apply(message);
      } catch (error) {
        this.#log.warn("campaign topic read failed; retrying", { error: errorMessage(error) });
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  async #apply(message: rdkafka.Message): Promise<void> {
    const source = `${message.topic}/${message.partition}/${message.offset}`;
    const key = message.key === undefined || message.key === null ? null : message.key.toString();
    const status = await this.#campaigns.apply({ key, value: message.value ?? null, source });
    this.publish(status);
  }

  /** Writes a status record (keyed by campaign id) and tells the listeners. */
  publish(status: CampaignStatus): void {
    const fields = { campaign_id: status.campaign_id, status: status.status, source: status.source };
    if (status.status === "rejected" || status.status === "quarantined")
      this.#log.warn(`campaign ${status.status}`, { ...fields, reasons: status.reasons });
    else this.#log.info(`campaign ${status.status}`, fields);
    this.#producer.send(
      {
        topic: this.#config.campaign_status_topic,
        // The status topic is compacted, so every record needs a key: a record without a readable
        // campaign id is keyed by where it came from.
        key: status.campaign_id === null ? status.source : String(status.campaign_id),
        value: Buffer.from(JSON.stringify(status)),
        headers: [],
      },
      (error) => {
        if (error)
          this.#log.error("status record refused by Kafka; the campaign itself is applied", {
            ...fields,
            error: errorMessage(error),
          });
      },
    );
    for (const l of this.#listeners) l(status);
  }

  /** Idempotent. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#loop;
    await disconnectConsumer(this.#consumer, timeoutMs);
  }
}
