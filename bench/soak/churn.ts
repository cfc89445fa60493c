// Campaigns that change while the soak runs: every second a new version of one campaign (its filter kind
// and threshold rotate, so its matches change), a newly created campaign, and the deletion of the oldest
// created one once more than a few exist. Every version's filter carries "/* soak v<no> */", so a trigger
// tells which version it was evaluated against, and no two versions share a source (each one is compiled,
// linked and later dropped by the engine: the paths a leak would hide in).
import { KafkaJS } from "@confluentinc/kafka-javascript";
import { EVENT_NAMES, FILTERS, GAMES } from "../workload/generator.js";

export const CHURN_CAMPAIGN_ID = 100;
/** Created campaigns get fresh ids from here on; an id is never reused after its deletion. */
export const FIRST_CREATED_ID = 1000;
const CREATED_ALIVE = 5;

export interface Written {
  /** Global write number; the "v<no>" in the filter. */
  readonly no: number;
  readonly campaignId: number;
  /** The campaign record, or null for a tombstone. */
  readonly record: string | null;
  readonly game: string;
  readonly eventName: string;
  /** When its write was acknowledged (ms). */
  readonly at: number;
}

const VERSION = /\/\* soak v(\d+) \*\//;

/** The version number a trigger's campaign JSON carries, or null (a stable campaign). */
export function versionOf(text: string): number | null {
  const m = VERSION.exec(text);
  return m ? Number(m[1]) : null;
}

function churnFilter(no: number): string {
  const t = (no * 37) % 200;
  const tag = `/* soak v${no} */`;
  switch (no % 3) {
    case 0:
      return `function(event) { ${tag} return event.getData().get('level') >= ${t} }`;
    case 1:
      return `function(event) { ${tag} var items = event.getData().get('items'); var total = 0; for (var i = 0; i < items.size(); i++) { total += items.get(i).get('qty'); } return total >= ${t} }`;
    default:
      return `(event) => { ${tag} return event.data.gold % 200 >= ${t} && event.getMarket() !== 'jp' }`;
  }
}

const KINDS = ["simple", "moderate", "heavy"] as const;

export class CampaignChurn {
  readonly written: Written[] = [];
  /** Ticks that found the previous one's writes still unacknowledged. */
  skipped = 0;
  readonly #topic: string;
  readonly #producer: KafkaJS.Producer;
  readonly #alive: number[] = [];
  #no = 0;
  #nextId = FIRST_CREATED_ID;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> | null = null;
  #failed: Error | null = null;

  /** `createAndDelete` false: only the one campaign's versions change (no campaign created or deleted). */
  constructor(
    bootstrap: string,
    topic: string,
    private readonly createAndDelete = true,
  ) {
    this.#topic = topic;
    this.#producer = new KafkaJS.Kafka({ "bootstrap.servers": bootstrap, log_level: 3 }).producer({
      "linger.ms": 0,
      "enable.idempotence": true,
    });
  }

  async connect(): Promise<void> {
    await this.#producer.connect();
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => {
      if (this.#busy) {
        this.skipped++;
        return;
      }
      this.#busy = this.tick()
        .catch((error: Error) => {
          this.#failed ??= error;
        })
        .finally(() => {
          this.#busy = null;
        });
    }, intervalMs);
  }

  /** Stops the ticks and waits for the last writes; throws when a write failed. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#busy;
    await this.#producer.disconnect();
    if (this.#failed) throw new Error(`writing campaigns failed: ${this.#failed.message}`);
  }

  /** One round of changes: a new version of the churning campaign, one campaign created, the oldest deleted. */
  async tick(): Promise<void> {
    const batch: Omit<Written, "at">[] = [];
    const version = (campaignId: number, game: string, eventName: string, filter: string) => {
      const record = JSON.stringify({
        campaign_id: campaignId,
        enabled: true,
        game,
        event_name: eventName,
        start_date: "2020-01-01T00:00:00Z",
        end_date: "2099-01-01T00:00:00Z",
        filter,
      });
      return { no: this.#no, campaignId, record, game, eventName };
    };
    this.#no++;
    batch.push(version(CHURN_CAMPAIGN_ID, "foe", "fight", churnFilter(this.#no)));
    if (this.createAndDelete) this.#createAndDelete(batch, version);
    await this.#producer.send({
      topic: this.#topic,
      messages: batch.map((w) => ({ key: String(w.campaignId), value: w.record })),
    });
    const at = Date.now();
    for (const w of batch) this.written.push({ ...w, at });
  }

  #createAndDelete(
    batch: Omit<Written, "at">[],
    version: (campaignId: number, game: string, eventName: string, filter: string) => Omit<Written, "at">,
  ): void {
    this.#no++;
    const id = this.#nextId++;
    const kind = KINDS[id % KINDS.length] as (typeof KINDS)[number];
    const source = FILTERS[kind][Math.floor(id / KINDS.length) % FILTERS[kind].length] as string;
    // Arrow and classic functions both start with their parameter list: the tag goes into the body.
    const tagged = source.replace("{", `{ /* soak v${this.#no} */`);
    batch.push(version(id, GAMES[id % 2] as string, EVENT_NAMES[id % 4] as string, tagged));
    this.#alive.push(id);

    if (this.#alive.length > CREATED_ALIVE) {
      this.#no++;
      const gone = this.#alive.shift() as number;
      batch.push({ no: this.#no, campaignId: gone, record: null, game: "", eventName: "" });
    }
  }
}
