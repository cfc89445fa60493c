// Reads the engine's /metrics (Prometheus text exposition format 0.0.4) into the per-campaign counters the UI
// shows. Only what the UI needs: samples with their labels; HELP/TYPE lines and timestamps are skipped.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface CampaignCounters {
  matches: number;
  /** All filter errors, and per `kind` label (threw, out-of-memory, stack-overflow, watchdog, ...). */
  errors: number;
  errorsByKind: Record<string, number>;
  fuelExhausted: number;
}

export const METRIC_MATCHES = "rtcrm_campaign_matches_total";
export const METRIC_ERRORS = "rtcrm_campaign_errors_total";
export const METRIC_FUEL_EXHAUSTED = "rtcrm_campaign_fuel_exhausted_total";

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

function countersOf(map: Map<number, CampaignCounters>, labels: Readonly<Record<string, string>>) {
  const text = labels.campaign_id;
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  const id = Number(text);
  let counters = map.get(id);
  if (!counters) {
    counters = { matches: 0, errors: 0, errorsByKind: {}, fuelExhausted: 0 };
    map.set(id, counters);
  }
  return counters;
}

/**
 * Per-campaign counters from the samples of one or more engine instances: samples of the same campaign are
 * added up, so that the UI shows the totals of a consumer group that runs several instances.
 */
export function campaignCounters(samples: Iterable<Sample>): Map<number, CampaignCounters> {
  const map = new Map<number, CampaignCounters>();
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    if (s.name === METRIC_MATCHES) {
      const c = countersOf(map, s.labels);
      if (c) c.matches += s.value;
    } else if (s.name === METRIC_ERRORS) {
      const c = countersOf(map, s.labels);
      if (c) {
        c.errors += s.value;
        const kind = s.labels.kind ?? "unknown";
        c.errorsByKind[kind] = (c.errorsByKind[kind] ?? 0) + s.value;
      }
    } else if (s.name === METRIC_FUEL_EXHAUSTED) {
      const c = countersOf(map, s.labels);
      if (c) c.fuelExhausted += s.value;
    }
  }
  return map;
}
