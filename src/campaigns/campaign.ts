// A campaign as the engine holds it, and the validation of campaign records (SEED.md, "Campaign").
import { createHash } from "node:crypto";
import { RULE_FIELDS, parseDeliveryRules, ruleFieldsOf, type DeliveryRules } from "./delivery-rules.js";

export interface Campaign {
  readonly campaignId: number;
  readonly enabled: boolean;
  readonly game: string;
  readonly eventName: string;
  /** ISO-8601 text as written; null when the campaign has no start (unbounded). */
  readonly startDate: string | null;
  readonly endDate: string | null;
  /** Epoch milliseconds of startDate/endDate; null when unbounded on that side. */
  readonly startMs: number | null;
  readonly endMs: number | null;
  readonly filter: string;
  /** Frequency cap, holdout, variants, expiry, priority (src/campaigns/delivery-rules.ts). */
  readonly rules: DeliveryRules;
  /** The campaign as it appears in a trigger: compact JSON, the seed's field order. */
  readonly json: string;
  /** sha256 of `json`: identifies this version of the campaign. */
  readonly versionKey: string;
}

const FIELDS = [
  "campaign_id",
  "enabled",
  "game",
  "event_name",
  "start_date",
  "end_date",
  "filter",
  ...RULE_FIELDS,
] as const;

// An instant with a zone: 2023-09-01T10:00:00Z, 2023-09-01T10:00:00.00Z, 2023-09-01T12:00:00+02:00.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export type CampaignParse =
  { ok: true; campaign: Campaign } | { ok: false; campaignId: number | null; reasons: string[] };

/** Parses the instant or returns null; rejects impossible dates that Date.parse would roll over (2023-02-30). */
export function parseInstant(text: string): number | null {
  const m = INSTANT.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return null;
  return ms;
}

/** Longest part of a wrong value quoted back in a reason (a status record must stay well under 1 MB). */
const QUOTE_MAX = 200;

function describe(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") {
    const quoted = JSON.stringify(value.length > QUOTE_MAX ? value.slice(0, QUOTE_MAX) : value);
    return value.length > QUOTE_MAX
      ? `the string ${quoted.slice(0, -1)}…" (${value.length} characters)`
      : `the string ${quoted}`;
  }
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/**
 * Validates a decoded campaign record. Every problem is reported, each saying what to change.
 * The filter is only checked for presence here; compiling it is the compiler's job.
 */
export function parseCampaign(record: unknown): CampaignParse {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    return {
      ok: false,
      campaignId: null,
      reasons: [`a campaign must be a JSON object, got ${describe(record)}`],
    };
  }
  const r = record as Record<string, unknown>;
  const reasons: string[] = [];
  const unknown = Object.keys(r).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    reasons.push(`unknown field(s) ${unknown.join(", ")}; a campaign has ${FIELDS.join(", ")}`);
  }

  const id = r.campaign_id;
  const campaignId = typeof id === "number" && Number.isSafeInteger(id) ? id : null;
  if (campaignId === null) reasons.push(`campaign_id must be an integer, got ${describe(id)}`);
  if (typeof r.enabled !== "boolean")
    reasons.push(`enabled must be true or false, got ${describe(r.enabled)}`);
  for (const field of ["game", "event_name", "filter"] as const) {
    const v = r[field];
    if (typeof v !== "string" || v.trim() === "") {
      reasons.push(`${field} must be a non-empty string, got ${describe(v)}`);
    }
  }
  const dates: Record<"start_date" | "end_date", number | null> = { start_date: null, end_date: null };
  for (const field of ["start_date", "end_date"] as const) {
    const v = r[field];
    if (v === undefined || v === null) continue;
    const ms = typeof v === "string" ? parseInstant(v) : null;
    if (ms === null) {
      reasons.push(
        `${field} must be an ISO-8601 instant such as 2023-09-01T10:00:00.00Z, got ${describe(v)}`,
      );
    } else {
      dates[field] = ms;
    }
  }
  if (dates.start_date !== null && dates.end_date !== null && dates.end_date <= dates.start_date) {
    reasons.push("end_date must be after start_date");
  }
  const rules = parseDeliveryRules(r, reasons);
  if (reasons.length > 0) return { ok: false, campaignId, reasons };

  const startDate = (r.start_date as string | undefined) ?? null;
  const endDate = (r.end_date as string | undefined) ?? null;
  const json = JSON.stringify({
    campaign_id: campaignId,
    enabled: r.enabled,
    game: r.game,
    event_name: r.event_name,
    start_date: startDate,
    end_date: endDate,
    filter: r.filter,
    // After the seed's fields and only when present: a seed campaign's JSON (and version) is unchanged.
    ...ruleFieldsOf(r),
  });
  return {
    ok: true,
    campaign: {
      campaignId: campaignId as number,
      enabled: r.enabled as boolean,
      game: r.game as string,
      eventName: r.event_name as string,
      startDate,
      endDate,
      startMs: dates.start_date,
      endMs: dates.end_date,
      filter: r.filter as string,
      rules,
      json,
      versionKey: createHash("sha256").update(json).digest("hex"),
    },
  };
}
