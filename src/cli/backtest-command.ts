// `rtcrm backtest --campaigns FILE --events FILE.jsonl [--triggers] [--json]`.
import { existsSync } from "node:fs";
import { setImmediate as eventLoopTurn } from "node:timers/promises";
import { fuelFor, globalFrequencyCap } from "../config/config.js";
import { FAILED_KINDS } from "../evaluation/outcome.js";
import { Backtest, triggerRecordLine, type BacktestReport, type Tallied } from "./backtest.js";
import { EXIT, signalExit, UsageError } from "./args.js";
import type { Context } from "./context.js";
import { table } from "./format.js";
import { displayName, parseJsonRecords, readLines, readText } from "./io.js";

export async function backtest(ctx: Context): Promise<number> {
  const campaignsPath = ctx.values.campaigns;
  const eventsPath = ctx.values.events;
  if (typeof campaignsPath !== "string" || typeof eventsPath !== "string") {
    throw new UsageError("both --campaigns FILE and --events FILE are needed", ctx.command);
  }
  if (campaignsPath === "-" && eventsPath === "-") {
    throw new UsageError("only one of --campaigns and --events can read stdin (-)", ctx.command);
  }
  if (eventsPath !== "-" && !existsSync(eventsPath)) {
    throw new UsageError(`${eventsPath} cannot be read (ENOENT)`, ctx.command);
  }
  const config = ctx.config();
  const campaignsName = displayName(campaignsPath);
  const { records, problems } = parseJsonRecords(await readText(ctx.io, campaignsPath, ctx.command));
  if (problems.length > 0) {
    for (const p of problems) ctx.io.stderr(`${campaignsName}:${p.line}: ${p.message}\n`);
    return EXIT.FAILURE;
  }
  const run = new Backtest(
    records.map((r) => ({ value: r.value, line: r.line })),
    {
      fuelFor: (id) => fuelFor(config, id),
      memoryBytes: config.memory_limit_bytes,
      deadlineMs: config.call_deadline_ms,
      globalCap: globalFrequencyCap(config),
      sourceTopic:
        typeof ctx.values["source-topic"] === "string" ? ctx.values["source-topic"] : config.event_topic,
    },
  );
  const report = run.report();
  for (const r of report.rejected) {
    ctx.io.stderr(
      `${campaignsName}:${r.line}: campaign ${r.campaign_id ?? "(no id)"} rejected, as the engine would: ${r.reasons.join("; ")}\n`,
    );
  }

  const json = ctx.values.json === true;
  const printTriggers = ctx.values.triggers === true;
  const triggerLines: string[] = [];
  const signal = ctx.io.signal;
  let interrupted = false;
  let line = 0;
  let turn = performance.now();
  for await (const text of readLines(ctx.io, eventsPath)) {
    // Evaluation is synchronous, and lines come from a buffer without a turn of the event loop: without a turn
    // now and then, a signal's handler (which aborts `signal`) would run only after the whole file.
    if (performance.now() - turn >= TURN_EVERY_MS) {
      await eventLoopTurn();
      turn = performance.now();
    }
    if (signal.aborted) {
      interrupted = true;
      break;
    }
    line++;
    if (text.trim() === "") continue;
    for (const t of run.feed(text, line)) {
      if (!printTriggers) continue;
      // With --json they go into the one report object; otherwise they stream out as JSON lines.
      if (json) triggerLines.push(triggerRecordLine(t));
      else ctx.io.stdout(`${triggerRecordLine(t)}\n`);
    }
  }

  const final = run.report();
  if (interrupted) {
    // Stdout holds only complete results (the triggers streamed so far stay valid); what was done goes to stderr.
    ctx.io.stderr(
      summary(final, displayName(eventsPath), typeof signal.reason === "string" ? signal.reason : "a signal"),
    );
    return signalExit(signal);
  }
  if (json) {
    const body = JSON.stringify(final, null, 2);
    ctx.io.stdout(
      printTriggers
        ? `${body.slice(0, body.lastIndexOf("}")).trimEnd()},\n  "triggers": [\n    ${triggerLines.join(",\n    ")}\n  ]\n}\n`
        : `${body}\n`,
    );
  } else {
    // The trigger lines own stdout; the summary then goes to stderr.
    const write = printTriggers ? ctx.io.stderr : ctx.io.stdout;
    write(summary(final, displayName(eventsPath)));
  }
  return final.rejected.length > 0 ? EXIT.FAILURE : EXIT.OK;
}

/**
 * How long evaluation may hold the event loop: a signal stops the backtest after at most this, plus the calls of
 * one event (each ends by call_deadline_ms).
 */
const TURN_EVERY_MS = 20;

/** The failed filter calls (column FAILED), by outcome kind. */
const PROBLEMS: readonly Tallied[] = FAILED_KINDS;
const OUTSIDE: readonly Tallied[] = ["not-started", "ended", "disabled"];

/** The report as text; `interruptedBy` (a signal's name) marks a backtest stopped before the end of the events. */
function summary(report: BacktestReport, eventsName: string, interruptedBy?: string): string {
  const { read, malformed, evaluated, triggers } = report.events;
  const sum = (o: Partial<Record<Tallied, number>>, kinds: readonly Tallied[]) =>
    kinds.reduce((n, k) => n + (o[k] ?? 0), 0);
  // The rules' columns only when rules apply to a campaign: without any, the table is as it always was.
  const ruled = report.campaigns.some((c) => c.rules_apply);
  const rows = report.campaigns.map((c) => [
    c.campaign_id,
    c.game,
    c.event_name,
    c.candidates,
    sum(c.outcomes, OUTSIDE),
    c.matches,
    c.outcomes["no-match"] ?? 0,
    sum(c.outcomes, PROBLEMS),
    ...(ruled ? [c.triggers, c.capped.campaign, c.capped.global, c.held_out, c.expired] : []),
  ]);
  let out =
    (interruptedBy === undefined
      ? ""
      : `interrupted by ${interruptedBy}: the counts below are those of the first ${read} events\n`) +
    `${eventsName}: ${read} events, ${malformed} malformed, ${evaluated} evaluated against at least one campaign; ` +
    `${triggers} triggers (time basis: each event's created_at)\n`;
  for (const m of report.malformed) out += `  line ${m.line}: ${m.reason}\n`;
  if (malformed > report.malformed.length) out += `  … and ${malformed - report.malformed.length} more\n`;
  if (rows.length === 0) return `${out}no valid campaign to evaluate\n`;
  const problems = report.campaigns.filter((c) => sum(c.outcomes, PROBLEMS) > 0);
  if (ruled) out += rulesLine(report);
  out +=
    "\n" +
    table(
      [
        ...["CAMPAIGN", "GAME", "EVENT_NAME", "EVENTS", "OUT_OF_WINDOW", "MATCHES", "NO_MATCH", "FAILED"],
        ...(ruled ? ["TRIGGERS", "CAPPED", "CAPPED_GLOBAL", "HELD_OUT", "EXPIRED"] : []),
      ],
      rows,
    );
  for (const c of problems) {
    const detail = PROBLEMS.filter((k) => c.outcomes[k]).map((k) => `${k} ${c.outcomes[k]}`);
    out += `campaign ${c.campaign_id}: filter failed on ${detail.join(", ")} (no match, as in the engine)\n`;
  }
  const withoutPlayer = report.delivery_rules.events_without_player;
  if (withoutPlayer > 0) {
    const ids = report.campaigns.filter((c) => c.no_player > 0).map((c) => c.campaign_id);
    out +=
      `${withoutPlayer} events without a player_id matched campaigns with delivery rules (${ids.join(", ")}): ` +
      "those matches trigger nothing (the engine sends such events to the dead-letter topic)\n";
  }
  return out;
}

/** How the delivery rules were applied, above the table that shows what they did. */
function rulesLine(report: BacktestReport): string {
  const cap = report.delivery_rules.global_frequency_cap;
  const global =
    cap === null
      ? "no global_frequency_cap"
      : `global_frequency_cap: at most ${cap.max} triggers per player ${cap.period === null ? "in all" : `per ${cap.period}`}`;
  return `delivery rules applied from empty state, at each event's created_at; ${global}\n`;
}
