// Reads the trigger topic while the soak runs and keeps what the checks need in bounded memory: one bit per
// (event, stable campaign), the (event, version) pairs of the changing campaigns, and latency histograms.
import rdkafka from "@confluentinc/kafka-javascript";
import { versionOf } from "./churn.js";
import { STABLE_CAMPAIGNS } from "./workload.js";

const EVENT_ID = /"event_id":"soak-(\d+)"/;
/** Latency histogram: 1 ms buckets up to this bound, one overflow bucket beyond. */
const HISTOGRAM_MS = 30_000;

export interface Latency {
  readonly triggers: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export class TriggerReader {
  /** Bit (id - 1) set when the trigger of stable campaign id for event n was read. */
  readonly stableFound: Uint32Array;
  /** Changing campaigns: campaign id -> flat [n, version, n, version, ...] in reading order (duplicates kept). */
  readonly changing = new Map<number, number[]>();
  read = 0;
  /** Duplicates among the stable campaigns' triggers (the changing ones' are counted by the check). */
  duplicates = 0;
  /** Triggers whose event id or campaign id could not be read. */
  unreadable = 0;
  readonly #consumer: rdkafka.KafkaConsumer;
  readonly #topic: string;
  readonly #sentAt: Float64Array;
  readonly #positions = new Map<number, number>();
  /** Per minute of production: latency histogram and the largest latency. */
  readonly #histograms: Uint32Array[] = [];
  readonly #max: number[] = [];
  #stopped = false;
  #loop: Promise<void> | undefined;
  #error: Error | null = null;

  constructor(bootstrap: string, topic: string, sentAt: Float64Array, group: string) {
    this.#topic = topic;
    this.#sentAt = sentAt;
    this.stableFound = new Uint32Array(sentAt.length);
    this.#consumer = new rdkafka.KafkaConsumer(
      {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": false,
        "fetch.wait.max.ms": 50,
        log_level: 3,
      },
      {},
    );
  }

  async start(partitions: number): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.#consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())),
    );
    this.#consumer.assign(
      Array.from({ length: partitions }, (_, partition) => ({ topic: this.#topic, partition, offset: 0 })),
    );
    this.#loop = (async () => {
      while (!this.#stopped) {
        const messages = await new Promise<rdkafka.Message[]>((resolve, reject) =>
          this.#consumer.consume(2_000, (err, m) => (err ? reject(err) : resolve(m))),
        ).catch((error: Error) => {
          this.#error = error;
          return [] as rdkafka.Message[];
        });
        if (messages.length === 0) await new Promise((r) => setTimeout(r, 20));
        for (const m of messages) this.#take(m);
      }
    })();
  }

  /** Next offset to read per partition. */
  get positions(): ReadonlyMap<number, number> {
    return this.#positions;
  }

  get error(): Error | null {
    return this.#error;
  }

  #take(m: rdkafka.Message): void {
    this.read++;
    this.#positions.set(m.partition, m.offset + 1);
    const value = m.value?.toString() ?? "";
    let campaignId = NaN;
    for (const h of m.headers ?? []) {
      const v = h["rtcrm-campaign-id"];
      if (v !== undefined) campaignId = Number(v.toString());
    }
    const idMatch = EVENT_ID.exec(value);
    const n = idMatch ? Number(idMatch[1]) : NaN;
    if (!Number.isSafeInteger(campaignId) || !Number.isSafeInteger(n) || n >= this.#sentAt.length) {
      this.unreadable++;
      return;
    }
    if (campaignId >= 1 && campaignId <= STABLE_CAMPAIGNS) {
      const bit = 1 << (campaignId - 1);
      if ((this.stableFound[n] as number) & bit) this.duplicates++;
      else this.stableFound[n] = (this.stableFound[n] as number) | bit;
    } else {
      const version = versionOf(value);
      if (version === null) {
        this.unreadable++;
        return;
      }
      let list = this.changing.get(campaignId);
      if (!list) this.changing.set(campaignId, (list = []));
      list.push(n, version);
    }
    const sent = this.#sentAt[n] as number;
    if (m.timestamp !== undefined && sent > 0) {
      const minute = Math.floor((sent - (this.#sentAt[0] as number)) / 60_000);
      const ms = Math.max(0, Math.round(m.timestamp - sent));
      const h = (this.#histograms[minute] ??= new Uint32Array(HISTOGRAM_MS + 1));
      const bucket = Math.min(ms, HISTOGRAM_MS);
      h[bucket] = (h[bucket] ?? 0) + 1;
      this.#max[minute] = Math.max(this.#max[minute] ?? 0, ms);
    }
  }

  /** Trigger latency (trigger appended minus event produced) per minute of production. */
  latencyPerMinute(): Latency[] {
    return Array.from(this.#histograms, (h, minute) => {
      if (!h) return { triggers: 0, p50: NaN, p99: NaN, max: NaN };
      let total = 0;
      for (const c of h) total += c;
      const at = (p: number) => {
        let seen = 0;
        for (const [ms, c] of h.entries()) if ((seen += c) > p * total) return ms;
        return HISTOGRAM_MS;
      };
      return { triggers: total, p50: at(0.5), p99: at(0.99), max: this.#max[minute] ?? NaN };
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await new Promise<void>((resolve) => this.#consumer.disconnect(() => resolve()));
  }
}
