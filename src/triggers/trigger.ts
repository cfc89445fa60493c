// The trigger record: SEED.md's JSON, keyed by player id, with a deterministic id for de-duplication.
import { createHash } from "node:crypto";

export const HEADER_TRIGGER_ID = "rtcrm-trigger-id";
export const HEADER_CAMPAIGN_ID = "rtcrm-campaign-id";
export const HEADER_SOURCE = "rtcrm-source";

export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** `{"campaign":{...},"event":{...}}` with the campaign in the seed's field order and the event as received. */
export function triggerValue(campaignJson: string, eventJson: string): string {
  return `{"campaign":${campaignJson},"event":${eventJson}}`;
}

/**
 * The same event (by its position in the events topic) and the same campaign version always give the same id,
 * so a consumer can drop the duplicates that at-least-once delivery may produce after a crash.
 */
export function triggerId(source: SourcePosition, campaignVersionKey: string): string {
  return createHash("sha256")
    .update(`${source.topic}\u0000${source.partition}\u0000${source.offset}\u0000${campaignVersionKey}`)
    .digest("hex")
    .slice(0, 32);
}

export function sourceHeader(source: SourcePosition): string {
  return `${source.topic}/${source.partition}/${source.offset}`;
}

/** The headers of the trigger of `campaign` for the event at `source`. */
export function triggerHeaders(
  source: SourcePosition,
  campaign: { readonly campaignId: number; readonly versionKey: string },
): Record<string, string> {
  return {
    [HEADER_TRIGGER_ID]: triggerId(source, campaign.versionKey),
    [HEADER_CAMPAIGN_ID]: String(campaign.campaignId),
    [HEADER_SOURCE]: sourceHeader(source),
  };
}
