// Checks a campaign the way the engine will when it reads it from the campaign topic (fields, dates, and the
// filter compiled with the real compiler into the real sandbox), without Kafka: for `rtcrm campaign check`,
// `rtcrm campaign put` and the web UI, which show the problems before anything is sent.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign, type Campaign } from "../campaigns/campaign.js";
import { FilterCompiler, type CompiledFilter } from "../compile/filter-compiler.js";
import { CampaignError, FilterError, errorMessage } from "../errors.js";
import { loadEngineModule } from "../sandbox/engine-module.js";

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

export interface CheckOptions {
  /** Where compiled artefacts are cached (content-addressed, so sharing one with the engine is safe). */
  readonly filtersDir?: string;
  /** A compiler to reuse (tests, the backtest); otherwise one per filtersDir is kept for the process. */
  readonly compiler?: FilterCompiler;
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
  if (!parsed.ok || problems.length > 0 || !filter) return { ok: false, problems };
  return { ok: true, campaign: parsed.campaign, filter };
}

/** A problem as one line of text, with the filter position as the engine's status topic writes it. */
export function problemText(problem: CheckProblem): string {
  if (problem.line === undefined) return problem.message;
  const column = problem.column === undefined ? "" : `, column ${problem.column}`;
  return `${problem.message} (line ${problem.line}${column})`;
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
