// What the page shows from Kafka, kept current by following three topics: the campaigns (from the beginning:
// the compacted topic is the list), the engine's campaign status records (from the beginning: the latest
// status of each campaign, with the reasons of rejections) and the triggers (only new ones, the last few kept).
import { decodeCampaignRecord } from "../client/campaign-client.js";
import { tail, type Tail, type TailRecord } from "../client/tail.js";
import type { CampaignStatus } from "../campaigns/status.js";
import { errorMessage } from "../errors.js";
import type { RdSettings } from "../kafka/settings.js";
import type { Logger } from "../logging/logger.js";

export interface CampaignEntry {
  readonly campaignId: number;
  /** The decoded record; the text as it is when it is not JSON. */
  readonly value: unknown;
  /** topic/partition/offset of the record: a status record with the same source is about this version. */
  readonly source: string;
  readonly timestamp: number;
}

export interface TriggerEntry {
  readonly key: string | null;
  readonly value: string;
  readonly headers: Record<string, string>;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

export interface KafkaState {
  readonly connected: boolean;
  readonly problem: string | null;
}

export interface LiveTopics {
  readonly campaign_topic: string;
  readonly campaign_status_topic: string;
  readonly trigger_topic: string;
}

export type LiveChange =
  | { type: "campaign"; campaignId: number; entry: CampaignEntry | null }
  | { type: "status"; key: string; status: CampaignStatus }
  | { type: "trigger"; trigger: TriggerEntry }
  | { type: "kafka"; kafka: KafkaState };

/** The page keeps only the newest triggers; the topic keeps them all. */
export const MAX_TRIGGERS = 200;

function text(value: Buffer | null): string | null {
  return value === null || value.length === 0 ? null : value.toString("utf8");
}

export class LiveState {
  readonly campaigns = new Map<number, CampaignEntry>();
  /** Keyed by the status record's key (the campaign id as text). */
  readonly statuses = new Map<string, CampaignStatus>();
  readonly triggers: TriggerEntry[] = [];
  #kafka: KafkaState = { connected: false, problem: "connecting" };
  readonly #tails: Tail[] = [];
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  /** The attempt to follow the topics in progress (the first, or a retry). */
  #attempting: Promise<void> | undefined;

  constructor(
    private readonly settings: RdSettings,
    private readonly topics: LiveTopics,
    private readonly log: Logger,
    private readonly onChange: (change: LiveChange) => void,
  ) {}

  get kafka(): KafkaState {
    return this.#kafka;
  }

  #setKafka(kafka: KafkaState): void {
    this.#kafka = kafka;
    this.onChange({ type: "kafka", kafka });
  }

  /**
   * Starts following the topics; resolves after the first attempt. A broker that cannot be reached, or a
   * topic that does not exist yet (the engine creates them on its first start), is shown on the page and
   * tried again every few seconds.
   */
  start(): Promise<void> {
    this.#attempting ??= this.#attempt();
    return this.#attempting;
  }

  async #attempt(): Promise<void> {
    try {
      const onError = (error: Error): void => {
        this.log.warn("reading a topic failed; retrying", { error: error.message });
        this.#setKafka({ connected: false, problem: error.message });
      };
      const { campaign_topic, campaign_status_topic, trigger_topic } = this.topics;
      this.#tails.push(
        await tail(this.settings, campaign_topic, (r) => this.#onCampaign(r), {
          fromBeginning: true,
          onError,
        }),
      );
      this.#tails.push(
        await tail(this.settings, campaign_status_topic, (r) => this.#onStatus(r), {
          fromBeginning: true,
          onError,
        }),
      );
      this.#tails.push(await tail(this.settings, trigger_topic, (r) => this.#onTrigger(r), { onError }));
      if (this.#stopped) return void (await this.#stopTails());
      this.#setKafka({ connected: true, problem: null });
    } catch (error) {
      await this.#stopTails();
      if (this.#stopped) return;
      const problem = errorMessage(error);
      this.log.warn("cannot follow the topics yet; retrying in 5 s", { error: problem });
      this.#setKafka({ connected: false, problem });
      this.#retry = setTimeout(() => {
        this.#attempting = this.#attempt();
      }, 5_000);
    }
  }

  async #stopTails(): Promise<void> {
    const tails = this.#tails.splice(0);
    await Promise.all(tails.map((t) => t.stop()));
  }

  /** A record read after a read error means the topics are readable again. */
  #readable(): void {
    if (!this.#kafka.connected && this.#tails.length === 3)
      this.#setKafka({ connected: true, problem: null });
  }

  #onCampaign(r: TailRecord): void {
    this.#readable();
    const decoded = decodeCampaignRecord(r.key, r.value);
    if (decoded === null) return;
    const { campaignId: id, value } = decoded;
    if (decoded.tombstone) {
      if (!this.campaigns.delete(id)) return;
      this.onChange({ type: "campaign", campaignId: id, entry: null });
      return;
    }
    const entry: CampaignEntry = {
      campaignId: id,
      value,
      source: `${this.topics.campaign_topic}/${r.partition}/${r.offset}`,
      timestamp: r.timestamp,
    };
    this.campaigns.set(id, entry);
    this.onChange({ type: "campaign", campaignId: id, entry });
  }

  #onStatus(r: TailRecord): void {
    this.#readable();
    const raw = text(r.value);
    if (raw === null) return;
    let status: CampaignStatus;
    try {
      status = JSON.parse(raw) as CampaignStatus;
    } catch {
      return;
    }
    if (typeof status !== "object" || status === null) return;
    const key = r.key ?? String(status.campaign_id);
    this.statuses.set(key, status);
    this.onChange({ type: "status", key, status });
  }

  #onTrigger(r: TailRecord): void {
    this.#readable();
    const value = text(r.value);
    if (value === null) return;
    const trigger: TriggerEntry = {
      key: r.key,
      value,
      headers: r.headers,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
    };
    this.triggers.push(trigger);
    if (this.triggers.length > MAX_TRIGGERS) this.triggers.splice(0, this.triggers.length - MAX_TRIGGERS);
    this.onChange({ type: "trigger", trigger });
  }

  snapshot() {
    return {
      campaigns: [...this.campaigns.values()].sort((a, b) => a.campaignId - b.campaignId),
      statuses: Object.fromEntries(this.statuses),
      triggers: this.triggers,
      kafka: this.#kafka,
    };
  }

  /** Idempotent; bounded by the tails' own close timeouts. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#attempting;
    await this.#stopTails();
  }
}
