// A campaign's delivery rules (frequency cap, holdout, variants, event expiry, priority): their record fields,
// validated with a reason for every problem. A campaign without any of them triggers on every match, as in the seed.

export interface FrequencyCap {
  /** At most this many triggers per player... */
  readonly max: number;
  /** ...within any rolling window of this length; null: over the campaign's lifetime. */
  readonly periodMs: number | null;
  /** The period as written (ISO-8601), null when there is none. */
  readonly period: string | null;
}

export interface Variant {
  readonly name: string;
  readonly weight: number;
}

export interface DeliveryRules {
  readonly frequencyCap: FrequencyCap | null;
  /** 0 when the campaign holds nobody out. */
  readonly holdoutPercent: number;
  readonly variants: readonly Variant[] | null;
  readonly maxEventAgeMs: number | null;
  readonly priority: number;
}

/** The record fields of the rules, in the order a campaign's JSON lists them. */
export const RULE_FIELDS = [
  "frequency_cap",
  "holdout_percent",
  "variants",
  "max_event_age",
  "priority",
] as const;

export const NO_RULES: DeliveryRules = {
  frequencyCap: null,
  holdoutPercent: 0,
  variants: null,
  maxEventAgeMs: null,
  priority: 0,
};

/** Whether any rule asks for per-player state or a decision before the trigger (priority alone does not). */
export function hasRules(rules: DeliveryRules): boolean {
  return (
    rules.frequencyCap !== null ||
    rules.holdoutPercent > 0 ||
    rules.variants !== null ||
    rules.maxEventAgeMs !== null
  );
}

const MS = { W: 7 * 86_400_000, D: 86_400_000, H: 3_600_000, M: 60_000, S: 1_000 } as const;
// PnW, or P[nD][T[nH][nM][n[.f]S]]; months and years are refused: they have no fixed length.
const DURATION = /^P(?:(\d+)W|(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?)$/;
/** Longest period accepted: ten years of days. */
const MAX_PERIOD_MS = 3_650 * MS.D;

/** Milliseconds of an ISO-8601 duration such as PT24H, P1D, P2W, PT10M, PT0.5S; null when it is not one. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  if (!m || text === "P" || text.endsWith("T")) return null;
  const [, w, d, h, mi, s] = m;
  const ms =
    Number(w ?? 0) * MS.W +
    Number(d ?? 0) * MS.D +
    Number(h ?? 0) * MS.H +
    Number(mi ?? 0) * MS.M +
    Math.round(Number(s ?? 0) * MS.S);
  return ms > 0 && ms <= MAX_PERIOD_MS ? ms : null;
}

const DURATION_HINT = "an ISO-8601 duration such as PT10M, PT24H, P1D or P2W (no months or years)";

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Largest max of a cap with a period: the state keeps the last max trigger times of each player. */
const MAX_PERIODIC_CAP = 1_000;

/** `{"max": N, "period": "PT24H"}` (period optional); `name` prefixes the reasons. */
export function parseFrequencyCap(value: unknown, name: string, reasons: string[]): FrequencyCap | null {
  if (!isObject(value)) {
    reasons.push(`${name} must be an object such as {"max": 1, "period": "P1D"}, got ${show(value)}`);
    return null;
  }
  const before = reasons.length;
  const extra = Object.keys(value).filter((k) => k !== "max" && k !== "period");
  if (extra.length > 0)
    reasons.push(`${name} has unknown field(s) ${extra.join(", ")}; it has max and period`);
  const max = value.max;
  if (typeof max !== "number" || !Number.isSafeInteger(max) || max < 1)
    reasons.push(`${name}.max must be an integer of at least 1, got ${show(max)}`);
  let periodMs: number | null = null;
  const period = value.period;
  if (period !== undefined && period !== null) {
    periodMs = typeof period === "string" ? parseDuration(period) : null;
    if (periodMs === null) reasons.push(`${name}.period must be ${DURATION_HINT}, got ${show(period)}`);
  }
  if (periodMs !== null && typeof max === "number" && max > MAX_PERIODIC_CAP)
    reasons.push(
      `${name}.max must be at most ${MAX_PERIODIC_CAP} with a period (each player keeps that many trigger times), got ${max}`,
    );
  if (reasons.length > before) return null;
  return { max: max as number, periodMs, period: periodMs === null ? null : (period as string) };
}

/** Longest variant list; names are short labels that travel in every trigger. */
const MAX_VARIANTS = 100;
const MAX_VARIANT_NAME = 64;

function parseVariants(value: unknown, reasons: string[]): Variant[] | null {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_VARIANTS) {
    reasons.push(
      `variants must be a list of 1 to ${MAX_VARIANTS} objects such as {"name": "A", "weight": 50}, got ${show(value)}`,
    );
    return null;
  }
  const before = reasons.length;
  const names = new Set<string>();
  const variants: Variant[] = [];
  for (const [i, v] of value.entries()) {
    if (!isObject(v)) {
      reasons.push(`variants[${i}] must be an object with name and weight, got ${show(v)}`);
      continue;
    }
    const extra = Object.keys(v).filter((k) => k !== "name" && k !== "weight");
    if (extra.length > 0) reasons.push(`variants[${i}] has unknown field(s) ${extra.join(", ")}`);
    const { name, weight } = v;
    if (typeof name !== "string" || name.trim() === "" || name.length > MAX_VARIANT_NAME)
      reasons.push(
        `variants[${i}].name must be a non-empty string of at most ${MAX_VARIANT_NAME} characters`,
      );
    else if (names.has(name)) reasons.push(`variants[${i}].name ${show(name)} is used twice`);
    else names.add(name);
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0)
      reasons.push(`variants[${i}].weight must be a positive number, got ${show(weight)}`);
    if (typeof name === "string" && typeof weight === "number") variants.push({ name, weight });
  }
  return reasons.length > before ? null : variants;
}

/** The rules of a campaign record (every field optional); each problem is added to `reasons`. */
export function parseDeliveryRules(r: Record<string, unknown>, reasons: string[]): DeliveryRules {
  const present = (field: (typeof RULE_FIELDS)[number]): boolean =>
    r[field] !== undefined && r[field] !== null;
  const frequencyCap = present("frequency_cap")
    ? parseFrequencyCap(r.frequency_cap, "frequency_cap", reasons)
    : null;
  let holdoutPercent = 0;
  if (present("holdout_percent")) {
    const p = r.holdout_percent;
    if (typeof p !== "number" || !Number.isFinite(p) || p < 0 || p > 100)
      reasons.push(`holdout_percent must be a number from 0 to 100, got ${show(p)}`);
    else holdoutPercent = p;
  }
  const variants = present("variants") ? parseVariants(r.variants, reasons) : null;
  let maxEventAgeMs: number | null = null;
  if (present("max_event_age")) {
    const a = r.max_event_age;
    maxEventAgeMs = typeof a === "string" ? parseDuration(a) : null;
    if (maxEventAgeMs === null) reasons.push(`max_event_age must be ${DURATION_HINT}, got ${show(a)}`);
  }
  let priority = 0;
  if (present("priority")) {
    const p = r.priority;
    if (typeof p !== "number" || !Number.isSafeInteger(p))
      reasons.push(`priority must be an integer, got ${show(p)}`);
    else priority = p;
  }
  return { frequencyCap, holdoutPercent, variants, maxEventAgeMs, priority };
}

/** The rule fields as written in the record, for the campaign's JSON: only those present, in RULE_FIELDS order. */
export function ruleFieldsOf(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of RULE_FIELDS) if (r[field] !== undefined && r[field] !== null) out[field] = r[field];
  return out;
}
