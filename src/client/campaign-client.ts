// Campaigns on the campaign topic as a CRM manager sees them: write one (checked first, exactly as the engine
// will check it), delete one (tombstone), and list them (the compacted topic read to its end, last write wins).
import { auditHeaders, type AuditStamp } from "../campaigns/audit-headers.js";
import type { Campaign } from "../campaigns/campaign.js";
import type { RdSettings } from "../kafka/settings.js";
import {
  CampaignCheckError,
  checkCampaign,
  checkCampaignRecord,
  type CheckOptions,
} from "./check-campaign.js";
import { DEFAULT_TIMEOUT_MS, readToEnd, withProducer, type Delivered } from "./kafka-io.js";

export type { AuditStamp } from "../campaigns/audit-headers.js";

export interface PutOptions extends CheckOptions {
  /** Who writes, as record headers (src/campaigns/audit-headers.ts); the time is taken at the write. */
  readonly audit?: AuditStamp;
  /** Called with where the record landed (e.g. to point at the engine's status record for it). */
  readonly onDelivered?: (delivered: Delivered) => void;
  /** How long to wait for the broker (connect, and each acknowledgement). */
  readonly timeoutMs?: number;
}

/**
 * Checks the campaign (JSON text or a decoded object) and writes it keyed by its campaign_id. Throws
 * CampaignCheckError (a CampaignError; `problems` keep the filter's line and column) without writing anything
 * when the engine would reject it.
 */
export async function putCampaign(
  settings: RdSettings,
  topic: string,
  campaign: unknown,
  options: PutOptions = {},
): Promise<Campaign> {
  const [written] = await putCampaigns(settings, topic, [campaign], options);
  return (written as Written).campaign;
}

export interface Written {
  readonly campaign: Campaign;
  readonly delivered: Delivered;
}

/**
 * Checks campaigns (JSON texts or decoded objects) as putCampaigns does before writing; throws
 * CampaignCheckError for the first that fails (its problems name it when there are several).
 */
export function checkCampaigns(campaigns: readonly unknown[], options: CheckOptions = {}): Campaign[] {
  return campaigns.map((c, i) => {
    const result = typeof c === "string" ? checkCampaign(c, options) : checkCampaignRecord(c, options);
    if (result.ok) return result.campaign;
    const prefix = campaigns.length > 1 ? `campaign ${i + 1} of ${campaigns.length}: ` : "";
    throw new CampaignCheckError(result.problems.map((p) => ({ ...p, message: prefix + p.message })));
  });
}

/**
 * Checks every campaign first and writes them in order through one producer only when all pass; otherwise
 * throws CampaignCheckError for the first that fails (its problems name it when there are several).
 */
export async function putCampaigns(
  settings: RdSettings,
  topic: string,
  campaigns: readonly unknown[],
  options: PutOptions = {},
): Promise<Written[]> {
  const checked = checkCampaigns(campaigns, options);
  return withProducer(
    settings,
    async (p) => {
      const out: Written[] = [];
      for (const [i, campaign] of checked.entries()) {
        const raw = campaigns[i];
        // The record is the campaign as written, compact; the engine serialises triggers in the seed's order itself.
        const value = Buffer.from(JSON.stringify(typeof raw === "string" ? JSON.parse(raw) : raw));
        const headers = options.audit ? auditHeaders(options.audit) : {};
        const delivered = await p.send(topic, value, String(campaign.campaignId), headers);
        options.onDelivered?.(delivered);
        out.push({ campaign, delivered });
      }
      return out;
    },
    options.timeoutMs,
  );
}

export interface DeleteOptions {
  /** Who deletes, as record headers of the tombstone; the time is taken at the write. */
  readonly audit?: AuditStamp;
  /** How long to wait for the broker (connect, and the acknowledgement). */
  readonly timeoutMs?: number;
}

/**
 * Writes a tombstone for the campaign: the engine stops evaluating it, and compaction removes it. Resolves with
 * where it landed.
 */
export async function deleteCampaign(
  settings: RdSettings,
  topic: string,
  campaignId: number,
  options: DeleteOptions = {},
): Promise<Delivered> {
  const headers = options.audit ? auditHeaders(options.audit) : {};
  return withProducer(
    settings,
    (p) => p.send(topic, null, String(campaignId), headers),
    options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  );
}

export interface CampaignEntry {
  readonly campaignId: number;
  /** The record key as written. */
  readonly key: string | null;
  /** The decoded record; the raw text when it is not JSON. */
  readonly value: unknown;
  /** topic/partition/offset of the record that holds the current version. */
  readonly source: string;
}

/**
 * The current record of every campaign id on the topic: the topic read from the beginning to its current end,
 * the last record of an id wins, a tombstone removes the id. Records whose key is not a campaign id are keyed
 * by the campaign_id inside them, as far as there is one.
 */
export async function readCampaigns(
  settings: RdSettings,
  topic: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Map<number, CampaignEntry>> {
  const out = new Map<number, CampaignEntry>();
  for (const record of await readToEnd(settings, topic, timeoutMs)) {
    const decoded = decodeCampaignRecord(record.key, record.value);
    if (decoded === null) continue;
    if (decoded.tombstone) out.delete(decoded.campaignId);
    else
      out.set(decoded.campaignId, {
        campaignId: decoded.campaignId,
        key: record.key,
        value: decoded.value,
        source: `${topic}/${record.partition}/${record.offset}`,
      });
  }
  return out;
}

/** Campaign id -> current record (decoded JSON, or text when it is not JSON), in id order. */
export async function listCampaigns(
  settings: RdSettings,
  topic: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Map<number, unknown>> {
  const entries = [...(await readCampaigns(settings, topic, timeoutMs)).values()].sort(
    (a, b) => a.campaignId - b.campaignId,
  );
  return new Map(entries.map((e) => [e.campaignId, e.value]));
}

/** The current record of one campaign, or undefined when the topic holds none (or only its tombstone). */
export async function getCampaign(
  settings: RdSettings,
  topic: string,
  campaignId: number,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<unknown> {
  return (await readCampaigns(settings, topic, timeoutMs)).get(campaignId)?.value;
}

/**
 * A campaign-topic record keyed as the engine keys it: the record key, else the campaign_id inside. The value
 * is parsed JSON, or the text itself when it is not JSON (listings show it, the engine rejects it). Null when
 * no id can be read.
 */
export function decodeCampaignRecord(
  key: unknown,
  value: Buffer | null,
): { campaignId: number; tombstone: boolean; value: unknown } | null {
  const text = value === null || value.length === 0 ? null : value.toString("utf8");
  let parsed: unknown = text;
  if (text !== null) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // kept as text
    }
  }
  const campaignId = idOf(key) ?? idOf((parsed as { campaign_id?: unknown } | null)?.campaign_id);
  return campaignId === null ? null : { campaignId, tombstone: text === null, value: parsed };
}

function idOf(raw: unknown): number | null {
  if (typeof raw === "number") return Number.isSafeInteger(raw) ? raw : null;
  if (typeof raw !== "string" || !/^\s*-?\d+\s*$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}
