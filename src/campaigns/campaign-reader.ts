// Reads the campaign topic from the beginning on every start (no shared group offsets: every instance holds
// every campaign), resolves start() once it has read up to the end, then follows live updates. Before the
// campaigns it reads the status topic to its end, and it follows it too: a "quarantined" record (written by this
// or another instance) keeps that campaign version out of evaluation everywhere and across restarts.
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
import { auditFromHeaders } from "./audit-headers.js";
import type { CampaignSet } from "./campaign-set.js";
import { parseStatusRecord, type CampaignStatus } from "./status.js";

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
  /**
   * Accepted and deleted campaigns counted while the topic is read to its end at start, logged as one line then: a
   * line each took a second of the start with 10,000 campaigns (written to a pipe). Rejections are logged each.
   */
  #loading: Map<string, number> | null = null;
  readonly #listeners: ((status: CampaignStatus) => void)[] = [];
  readonly #onQuarantined: (status: QuarantinedStatus) => void;

  /** `onQuarantined` is called for every "quarantined" record of the status topic, the engine's own included. */
  constructor(
    config: Config,
    campaigns: CampaignSet,
    producer: AckingProducer,
    log: Logger,
    onQuarantined: (status: QuarantinedStatus) => void = () => {},
  ) {
    this.#config = config;
    this.#campaigns = campaigns;
    this.#producer = producer;
    this.#onQuarantined = onQuarantined;
    this.#log = log.child({ component: "campaigns" });
    this.#consumer = new rdkafka.KafkaConsumer(
      {
        ...clientSettings(config, "campaigns"),
        "group.id": `rtcrm-campaigns-${randomUUID()}`,
        "enable.auto.commit": false,
        "enable.auto.offset.store": false,
        // The start waits for this consumer to read both topics to their ends: librdkafka's default back-off
        // after a filled fetch queue (1 s) and its fetch wait (500 ms) each held the start of an engine with
        // 20 campaigns for 1.6-2.1 s in all.
        "fetch.queue.backoff.ms": 10,
        "fetch.wait.max.ms": 50,
      },
      { "auto.offset.reset": "earliest" },
    );
    returnReadyRecords(this.#consumer, 100);
  }

  /** Called for every status written (accepted, rejected, deleted, quarantined). */
  onStatus(listener: (status: CampaignStatus) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Connects, reads the status topic and then the campaign topic up to their current ends, and keeps following
   * both in the background.
   */
  async start(connectTimeoutMs = 30_000): Promise<void> {
    const statusTopic = this.#config.campaign_status_topic;
    await connectConsumer(this.#consumer, connectTimeoutMs);
    const status = await this.#partitionsFrom(statusTopic, connectTimeoutMs);
    const statusRead = await this.#readToEnd(statusTopic, status, [], connectTimeoutMs);
    const campaigns = await this.#partitionsFrom(this.#config.campaign_topic, connectTimeoutMs);
    // The status topic goes on from where it was read to; the campaign topic is read from its beginning.
    const after = status.map((a) => ({ ...a, offset: statusRead.get(a.partition) ?? OFFSET_BEGINNING }));
    this.#loading = new Map();
    const ends = await this.#readToEnd(this.#config.campaign_topic, campaigns, after, connectTimeoutMs);
    this.#log.info("campaign topic read to its end", {
      offsets: [...ends.values()].reduce((n, o) => n + o, 0),
      campaigns: this.#campaigns.size,
      statuses: Object.fromEntries(this.#loading),
    });
    this.#loading = null;
    this.#loop = this.#follow();
  }

  async #partitionsFrom(topic: string, timeoutMs: number): Promise<rdkafka.TopicPartitionOffset[]> {
    const partitions = await partitionsOf(this.#consumer, topic, timeoutMs);
    return partitions.map((partition) => ({ topic, partition, offset: OFFSET_BEGINNING }));
  }

  /**
   * Assigns `partitions` (read to their current ends) and `alongside` (other partitions read as records come),
   * applies every record, and returns the next offset of each of `partitions` once all are read.
   */
  async #readToEnd(
    topic: string,
    partitions: rdkafka.TopicPartitionOffset[],
    alongside: rdkafka.TopicPartitionOffset[],
    timeoutMs: number,
  ): Promise<Map<number, number>> {
    const ends = new Map<number, number>();
    for (const { partition } of partitions)
      ends.set(partition, await highWatermark(this.#consumer, topic, partition, timeoutMs));
    this.#consumer.assign([...partitions, ...alongside]);
    const behind = new Set([...ends].filter(([, end]) => end > 0).map(([p]) => p));
    while (behind.size > 0 && !this.#stopped) {
      for (const message of await consumeBatch(this.#consumer, 500)) {
        await this.#apply(message);
        if (message.topic === topic && message.offset + 1 >= (ends.get(message.partition) ?? 0))
          behind.delete(message.partition);
      }
      // The position also moves past offsets that hold no record (compaction, transaction markers).
      for (const { topic: t, partition, offset } of this.#consumer.position()) {
        if (t === topic && offset >= (ends.get(partition) ?? 0)) behind.delete(partition);
      }
    }
    return ends;
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
    if (message.topic === this.#config.campaign_status_topic) {
      const quarantined = quarantinedStatus(message.value);
      if (quarantined) this.#onQuarantined(quarantined);
      return;
    }
    const source = `${message.topic}/${message.partition}/${message.offset}`;
    const key = message.key === undefined || message.key === null ? null : message.key.toString();
    const audit = auditFromHeaders(message.headers);
    const status = await this.#campaigns.apply({ key, value: message.value ?? null, source, audit });
    this.publish(status);
  }

  /** Writes a status record (keyed by campaign id) and tells the listeners. */
  publish(status: CampaignStatus): void {
    const fields = { campaign_id: status.campaign_id, status: status.status, source: status.source };
    if (status.status === "rejected" || status.status === "quarantined")
      this.#log.warn(`campaign ${status.status}`, { ...fields, reasons: status.reasons });
    else if (this.#loading) this.#loading.set(status.status, (this.#loading.get(status.status) ?? 0) + 1);
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

/** A status record saying that a campaign version was quarantined. */
export interface QuarantinedStatus extends CampaignStatus {
  readonly status: "quarantined";
  readonly campaign_id: number;
  readonly version: string;
}

/** The record when it is a quarantine of a known version (other records of the status topic are not needed). */
function quarantinedStatus(value: Buffer | null | undefined): QuarantinedStatus | null {
  const r = parseStatusRecord(value) as Partial<QuarantinedStatus> | null;
  return r?.status === "quarantined" && typeof r.version === "string" && typeof r.campaign_id === "number"
    ? (r as QuarantinedStatus)
    : null;
}
