// Reads the engine's /metrics (Prometheus text exposition format 0.0.4) into the per-campaign counters the UI
// shows. Only what the UI needs: samples with their labels; HELP/TYPE lines and timestamps are skipped.
import { METRIC_NAMES } from "../metrics/metric-names.js";

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface CampaignCounters {
  /** Events the filter matched; each is then triggered, capped, held out or expired (delivery rules). */
  matches: number;
  triggers: number;
  /** Matches a frequency cap stopped, all caps together, and per `cap` label (campaign, global). */
  capped: number;
  cappedBy: Record<string, number>;
  heldOut: number;
  expired: number;
  /** All filter errors, and per `kind` label (threw, out-of-memory, stack-overflow, watchdog, ...). */
  errors: number;
  errorsByKind: Record<string, number>;
  fuelExhausted: number;
}

export function noCounters(): CampaignCounters {
  return {
    matches: 0,
    triggers: 0,
    capped: 0,
    cappedBy: {},
    heldOut: 0,
    expired: 0,
    errors: 0,
    errorsByKind: {},
    fuelExhausted: 0,
  };
}

/** The counts of CampaignCounters, and the breakdowns of some of them by a label. */
const TOTALS = ["matches", "triggers", "capped", "heldOut", "expired", "errors", "fuelExhausted"] as const;
const BREAKDOWNS = ["cappedBy", "errorsByKind"] as const;
export type CountName = (typeof TOTALS)[number];

interface Family {
  readonly total: CountName;
  readonly by?: { readonly label: string; readonly field: (typeof BREAKDOWNS)[number] };
}

/** The counter families read per campaign, by metric name. */
const FAMILIES: ReadonlyMap<string, Family> = new Map<string, Family>([
  [METRIC_NAMES.campaignMatches, { total: "matches" }],
  [METRIC_NAMES.campaignTriggers, { total: "triggers" }],
  [METRIC_NAMES.campaignCapped, { total: "capped", by: { label: "cap", field: "cappedBy" } }],
  [METRIC_NAMES.campaignHeldOut, { total: "heldOut" }],
  [METRIC_NAMES.campaignExpired, { total: "expired" }],
  [METRIC_NAMES.campaignErrors, { total: "errors", by: { label: "kind", field: "errorsByKind" } }],
  [METRIC_NAMES.campaignFuelExhausted, { total: "fuelExhausted" }],
]);

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string): number {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  return text.trim() === "" ? NaN : Number(text);
}

/** One sample line, or null for a line that is not one (comments, blanks, anything malformed). */
export function parseSampleLine(line: string): Sample | null {
  const text = line.trim();
  if (text === "" || text.startsWith("#")) return null;
  const name = NAME.exec(text)?.[0];
  if (!name) return null;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (text[i] === "{") {
    i++;
    for (;;) {
      while (text[i] === " " || text[i] === ",") i++;
      if (text[i] === "}") {
        i++;
        break;
      }
      const labelName = LABEL_NAME.exec(text.slice(i))?.[0];
      if (!labelName) return null;
      i += labelName.length;
      while (text[i] === " ") i++;
      if (text[i] !== "=") return null;
      i++;
      while (text[i] === " ") i++;
      if (text[i] !== '"') return null;
      i++;
      let value = "";
      for (;;) {
        const c = text[i];
        if (c === undefined) return null;
        i++;
        if (c === '"') break;
        if (c === "\\") {
          const escaped = text[i++];
          value += escaped === "n" ? "\n" : (escaped ?? "");
        } else {
          value += c;
        }
      }
      labels[labelName] = value;
    }
  }
  // The value, then an optional timestamp that the UI does not need.
  const rest = text.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0] ?? "");
  if (Number.isNaN(value) && rest[0] !== "NaN") return null;
  return { name, labels, value };
}

export function parseMetricsText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const sample = parseSampleLine(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

const FAMILY_LINE = /^(?:# TYPE )?([a-zA-Z_:][a-zA-Z0-9_:]*)/;

/**
 * The counts that the text exposes at all, by a TYPE line or a sample: an engine that predates a family
 * (or leaves out its zero samples) is told apart from one that counted nothing.
 */
export function exposedCounts(text: string): Set<CountName> {
  const exposed = new Set<CountName>();
  for (const line of text.split("\n")) {
    const name = FAMILY_LINE.exec(line)?.[1];
    const family = name === undefined ? undefined : FAMILIES.get(name);
    if (family) exposed.add(family.total);
  }
  return exposed;
}

/** The campaign id of a sample's labels; undefined when it has none that is an integer. */
function campaignIdOf(labels: Readonly<Record<string, string>>): number | undefined {
  const text = labels.campaign_id;
  return text === undefined || !/^-?\d+$/.test(text) ? undefined : Number(text);
}

/**
 * Per-campaign counters from the samples of one or more engine instances: samples of the same campaign are
 * added up, so that the UI shows the totals of a consumer group that runs several instances.
 */
export function campaignCounters(samples: Iterable<Sample>): Map<number, CampaignCounters> {
  const map = new Map<number, CampaignCounters>();
  for (const s of samples) {
    const family = FAMILIES.get(s.name);
    if (!family || !Number.isFinite(s.value)) continue;
    const id = campaignIdOf(s.labels);
    if (id === undefined) continue;
    let c = map.get(id);
    if (!c) map.set(id, (c = noCounters()));
    c[family.total] += s.value;
    if (family.by) {
      const key = s.labels[family.by.label] ?? "unknown";
      const by = c[family.by.field];
      by[key] = (by[key] ?? 0) + s.value;
    }
  }
  return map;
}

/** Adds `from` into `into` (instances of one consumer group). */
export function addCounters(into: CampaignCounters, from: CampaignCounters): void {
  for (const field of TOTALS) into[field] += from[field];
  for (const field of BREAKDOWNS)
    for (const [k, n] of Object.entries(from[field])) into[field][k] = (into[field][k] ?? 0) + n;
}
