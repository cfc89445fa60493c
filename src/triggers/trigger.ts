// The trigger record: SEED.md's JSON, keyed by player id, with a deterministic id for de-duplication.
import * as crypto from "node:crypto";

export const HEADER_TRIGGER_ID = "rtcrm-trigger-id";
export const HEADER_CAMPAIGN_ID = "rtcrm-campaign-id";
export const HEADER_SOURCE = "rtcrm-source";
export const HEADER_VARIANT = "rtcrm-variant";

export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** `{"campaign":{...},"event":{...}}` with the campaign in the seed's field order and the event as received. */
export function triggerValue(campaignJson: string, eventJson: string): string {
  return `{"campaign":${campaignJson},"event":${eventJson}}`;
}

/** `{"campaign":{...},"event":` per campaign version, encoded once. */
const prefixes = new WeakMap<object, Buffer>();
const SUFFIX = Buffer.from("}");
const BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * triggerValue() as bytes, from the event's bytes as consumed: the same text without decoding and encoding the
 * event again. A leading byte-order mark is left out, as the event's decoding drops it. A campaign's variant
 * comes last, as `"variant":"A"` (consumers of the seed's two fields read on).
 */
export function triggerValueBytes(
  campaign: { readonly json: string },
  event: Uint8Array,
  variant: string | null = null,
): Buffer {
  let prefix = prefixes.get(campaign);
  if (!prefix) {
    prefix = Buffer.from(`{"campaign":${campaign.json},"event":`);
    prefixes.set(campaign, prefix);
  }
  const body = event[0] === BOM[0] && event[1] === BOM[1] && event[2] === BOM[2] ? event.subarray(3) : event;
  const suffix = variant === null ? SUFFIX : Buffer.from(`,"variant":${JSON.stringify(variant)}}`);
  const out = Buffer.allocUnsafe(prefix.length + body.length + suffix.length);
  prefix.copy(out, 0);
  out.set(body, prefix.length);
  suffix.copy(out, prefix.length + body.length);
  return out;
}

/**
 * The same event (by its position in the events topic) and the same campaign version always give the same id,
 * so a consumer can drop the duplicates that at-least-once delivery may produce after a crash.
 */
export function triggerId(source: SourcePosition, campaignVersionKey: string): string {
  const text = `${source.topic}\u0000${source.partition}\u0000${source.offset}\u0000${campaignVersionKey}`;
  return sha256Hex(text).slice(0, 32);
}

/**
 * crypto.hash (Node 20.12+): one call instead of a Hash object per trigger, 0.40–0.50 µs against 1.2–1.6 µs here
 * (200,000 trigger ids, three rounds).
 */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text).digest("hex");

export function sourceHeader(source: SourcePosition): string {
  return `${source.topic}/${source.partition}/${source.offset}`;
}

/** The headers of the trigger of `campaign` for the event at `source`, in the producer's form: one object each. */
export function triggerHeaderList(
  source: SourcePosition,
  campaign: { readonly campaignId: number; readonly versionKey: string },
  variant: string | null = null,
): Record<string, string>[] {
  const headers: Record<string, string>[] = [
    { [HEADER_TRIGGER_ID]: triggerId(source, campaign.versionKey) },
    { [HEADER_CAMPAIGN_ID]: String(campaign.campaignId) },
    { [HEADER_SOURCE]: sourceHeader(source) },
  ];
  if (variant !== null) headers.push({ [HEADER_VARIANT]: variant });
  return headers;
}

/** The same headers as one object (the backtest's records). */
export function triggerHeaders(
  source: SourcePosition,
  campaign: { readonly campaignId: number; readonly versionKey: string },
  variant: string | null = null,
): Record<string, string> {
  return Object.assign({}, ...triggerHeaderList(source, campaign, variant)) as Record<string, string>;
}
