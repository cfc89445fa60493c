// Checks a campaign the way the engine will when it reads it from the campaign topic (fields, dates, and the
// filter compiled with the real compiler into the real sandbox), without Kafka: for `rtcrm campaign check`,
// `rtcrm campaign put` and the web UI, which show the problems before anything is sent. It also runs the filter
// once on an example event under the engine's limits: a filter the sandbox has to stop there would be stopped
// on the engine's events too, and its campaign quarantined.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign, type Campaign } from "../campaigns/campaign.js";
import type { DeliveryRules } from "../campaigns/delivery-rules.js";
import { FilterCompiler, type CompiledFilter } from "../compile/filter-compiler.js";
import { defaults, fuelFor, type Config } from "../config/config.js";
import { CampaignError, FilterError, errorMessage } from "../errors.js";
import { STOPPED_CALL_KINDS, type FilterOutcome, type FilterOutcomeKind } from "../evaluation/outcome.js";
import { EventView } from "../pool/event-view.js";
import { loadEngineModule } from "../sandbox/engine-module.js";
import { exampleEvent } from "./examples.js";

export interface CheckProblem {
  readonly message: string;
  /** For filter problems: 1-based line and column inside the filter's source text (the string value of "filter"). */
  readonly line?: number;
  readonly column?: number;
  /** What the problem is about: the JSON text, the campaign's fields, or its filter. */
  readonly where: "json" | "campaign" | "filter";
}

export type CheckResult =
  | { readonly ok: true; readonly campaign: Campaign; readonly filter: CompiledFilter }
  | { readonly ok: false; readonly problems: readonly CheckProblem[] };

/** The engine's limits of one filter call, by their configuration keys. */
export type CheckLimits = Pick<
  Config,
  "fuel_per_evaluation" | "fuel_overrides" | "memory_limit_bytes" | "call_deadline_ms"
>;

export interface CheckOptions {
  /** Where compiled artefacts are cached (content-addressed, so sharing one with the engine is safe). */
  readonly filtersDir?: string;
  /** A compiler to reuse (tests, the backtest); otherwise one per filtersDir is kept for the process. */
  readonly compiler?: FilterCompiler;
  /** The limits of the example call: the configuration's; the configuration schema's defaults when absent. */
  readonly limits?: CheckLimits;
  /**
   * Whether the filter runs once on an example event (default true). Off where only what the engine itself
   * rejects counts: `campaign list` shows that, and the backtest runs the filter on real events.
   */
  readonly runOnExample?: boolean;
}

/**
 * Default cache of artefacts made by checks: a fixed place per user, so repeated checks of one filter compile
 * once, and another user's directory never stands in the way.
 */
export const DEFAULT_CHECK_DIR = join(tmpdir(), `rtcrm-filters-checked-${process.getuid?.() ?? "user"}`);

const compilers = new Map<string, FilterCompiler>();

/** One compiler per directory for the process: compiling the engine module and instantiating QuickJS costs. */
export function compilerFor(dir: string = DEFAULT_CHECK_DIR): FilterCompiler {
  let compiler = compilers.get(dir);
  if (!compiler) {
    compiler = new FilterCompiler(loadEngineModule(), dir);
    compilers.set(dir, compiler);
  }
  return compiler;
}

/** Checks campaign JSON text: parse, validate every field, compile the filter. Never throws for bad input. */
export function checkCampaign(text: string, options: CheckOptions = {}): CheckResult {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [{ where: "json", message: jsonProblem(text, error) }] };
  }
  return checkCampaignRecord(record, options);
}

/** Checks an already decoded campaign record. */
export function checkCampaignRecord(record: unknown, options: CheckOptions = {}): CheckResult {
  const problems: CheckProblem[] = [];
  const parsed = parseCampaign(record);
  if (!parsed.ok) for (const message of parsed.reasons) problems.push({ where: "campaign", message });

  // The filter is compiled even when other fields are wrong, so that one check lists every problem.
  let filter: CompiledFilter | undefined;
  const source = (record as { filter?: unknown } | null)?.filter;
  if (typeof source === "string" && source.trim() !== "") {
    try {
      filter = (options.compiler ?? compilerFor(options.filtersDir)).compileSync(source);
    } catch (error) {
      if (error instanceof FilterError) {
        problems.push({
          where: "filter",
          // The position goes into line/column; the message keeps only the words.
          message: `filter: ${error.message.replace(/ \(line \d+(?:, column \d+)?\)$/, "")}`,
          ...(error.position ?? {}),
        });
      } else {
        problems.push({ where: "filter", message: `filter could not be compiled: ${errorMessage(error)}` });
      }
    }
  }
  if (filter && options.runOnExample !== false) {
    const compiler = options.compiler ?? compilerFor(options.filtersDir);
    const campaignId = parsed.ok ? parsed.campaign.campaignId : parsed.campaignId;
    const stopped = runOnExample(compiler, filter, record, campaignId, options);
    if (stopped) problems.push(stopped);
  }
  if (!parsed.ok || problems.length > 0 || !filter) return { ok: false, problems };
  return { ok: true, campaign: parsed.campaign, filter };
}

const DEFAULT_LIMITS: CheckLimits = defaults();

/** The example's event_id: fixed, so that two checks of one filter differ only in the event's times. */
const EXAMPLE_EVENT_ID = "00000000-0000-4000-8000-000000000000";

/**
 * Runs the compiled filter once on the example event, with the campaign's game and event_name, in the compiler's
 * sandbox (loaded for this call only). A call the sandbox had to stop is the problem it returns; a filter that
 * throws or does not match on the example is fine: the example is not the campaign's real traffic.
 */
function runOnExample(
  compiler: FilterCompiler,
  filter: CompiledFilter,
  record: unknown,
  campaignId: number | null,
  options: CheckOptions,
): CheckProblem | undefined {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const { game, event_name } = (record ?? {}) as { game?: unknown; event_name?: unknown };
  const event = {
    ...exampleEvent(Date.now(), EXAMPLE_EVENT_ID),
    ...(typeof game === "string" && game !== "" ? { game } : {}),
    ...(typeof event_name === "string" && event_name !== "" ? { event_name } : {}),
  };
  const fuel = campaignId === null ? limits.fuel_per_evaluation : fuelFor(limits, campaignId);
  const sandbox = compiler.sandbox();
  const id = `check-${filter.hash}`;
  const loaded = sandbox.load(id, filter.module);
  try {
    if (!loaded.ok) return { where: "filter", message: `filter could not be loaded: ${loaded.message}` };
    const outcome = sandbox.evaluate(id, new EventView(JSON.stringify(event)).for(filter), {
      fuel,
      memoryBytes: limits.memory_limit_bytes,
      deadlineMs: limits.call_deadline_ms,
    });
    if (!STOPPED_CALL_KINDS.has(outcome.kind)) return undefined;
    return { where: "filter", message: `filter: ${stoppedText(outcome, fuel, limits)}` };
  } finally {
    sandbox.unload(id);
  }
}

const CONSEQUENCE = "the engine would stop every such call and quarantine the campaign";

/** What stopped the example call, what the engine would do, and what to change. */
function stoppedText(outcome: FilterOutcome, fuel: number, limits: CheckLimits): string {
  const texts: Partial<Record<FilterOutcomeKind, string>> = {
    "out-of-fuel":
      `ran out of fuel on the example event (fuel budget ${fuel}): ${CONSEQUENCE}; make the filter do less ` +
      "work per event, or raise fuel_per_evaluation or the campaign's entry in fuel_overrides",
    timeout:
      `did not finish within the call deadline on the example event (call_deadline_ms ${limits.call_deadline_ms}): ` +
      `${CONSEQUENCE}; make the filter do less work per event, or raise call_deadline_ms`,
    "out-of-memory":
      `ran out of memory on the example event (memory_limit_bytes ${limits.memory_limit_bytes}): ${CONSEQUENCE}; ` +
      "make the filter allocate and keep less, or raise memory_limit_bytes",
    "stack-overflow":
      `overflowed the stack on the example event (recursion deeper than the engine allows): ${CONSEQUENCE}; ` +
      "make the filter recurse less deeply",
    trap:
      `made the engine fail on the example event (${outcome.message ?? "engine trap"}): ${CONSEQUENCE}; ` +
      "change the filter, and report the failure: the engine should have stopped it cleanly",
  };
  const detail = outcome.message === undefined ? "" : ` (${outcome.message})`;
  return (
    texts[outcome.kind] ??
    `was stopped on the example event as ${outcome.kind}${detail}: ${CONSEQUENCE}; change the filter`
  );
}

/** A problem as one line of text, with the filter position as the engine's status topic writes it. */
export function problemText(problem: CheckProblem): string {
  if (problem.line === undefined) return problem.message;
  const column = problem.column === undefined ? "" : `, column ${problem.column}`;
  return `${problem.message} (line ${problem.line}${column})`;
}

/**
 * The delivery rules of a valid campaign in words, for the person who wrote them to confirm how they were read
 * (a period as a length of time, variant weights as shares); null when the campaign has none.
 */
export function rulesText(rules: DeliveryRules): string | null {
  const parts: string[] = [];
  const cap = rules.frequencyCap;
  if (cap !== null) {
    const times = cap.max === 1 ? "1 trigger" : `${cap.max} triggers`;
    parts.push(
      cap.periodMs === null
        ? `at most ${times} per player over the campaign's lifetime`
        : `at most ${times} per player within any rolling period of ${lengthText(cap.periodMs)}`,
    );
  }
  if (rules.holdoutPercent > 0) parts.push(`${rules.holdoutPercent} % of players held out (no trigger)`);
  if (rules.variants !== null) {
    const total = rules.variants.reduce((n, v) => n + v.weight, 0);
    const shares = rules.variants.map((v) => `${v.name} ${Math.round((1000 * v.weight) / total) / 10} %`);
    parts.push(`variants ${shares.join(", ")}`);
  }
  if (rules.maxEventAgeMs !== null)
    parts.push(`an event older than ${lengthText(rules.maxEventAgeMs)} triggers nothing`);
  if (rules.priority !== 0) parts.push(`priority ${rules.priority} (for the engine's global_frequency_cap)`);
  return parts.length === 0 ? null : parts.join("; ");
}

const LENGTHS = [
  ["week", 604_800_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
] as const;

/** 86400000 -> "1 day", 5400000 -> "1 hour 30 minutes", 500 -> "0.5 seconds". */
function lengthText(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of LENGTHS) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? "" : "s"}`);
    rest -= n * size;
  }
  if (rest > 0) parts.push(`${rest / 1000} second${rest === 1000 ? "" : "s"}`);
  return parts.join(" ");
}

/** Thrown by putCampaign: a CampaignError whose `problems` keep the filter positions. */
export class CampaignCheckError extends CampaignError {
  readonly problems: readonly CheckProblem[];
  constructor(problems: readonly CheckProblem[]) {
    super(problems.map(problemText));
    this.problems = problems;
  }
}

function jsonProblem(text: string, error: unknown): string {
  const message = errorMessage(error);
  if (text.trim() === "") return "empty input: a campaign is one JSON object";
  const at = / at position (\d+)/.exec(message);
  if (!at) return `not valid JSON: ${message}`;
  const offset = Number(at[1]);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `not valid JSON: ${message.replace(/ in JSON at position \d+/, "")} (line ${line}, column ${column} of the file)`;
}
