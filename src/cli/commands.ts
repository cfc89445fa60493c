// Every command of `rtcrm`: its words, options, help text with examples, and handler.
import { runEngine } from "../run-engine.js";
import type { OptionSpec } from "./args.js";
import { backtest } from "./backtest-command.js";
import {
  campaignCheck,
  campaignDelete,
  campaignGet,
  campaignList,
  campaignPut,
} from "./campaign-commands.js";
import type { Context } from "./context.js";
import { eventSend, triggersTail } from "./event-commands.js";
import { AUTHOR_HELP, AUTHOR_OPTION } from "./author.js";
import { HISTORY_COMMAND } from "./history-command.js";
import { UI_PASSWORD_COMMAND, UI_TOKEN_COMMAND } from "./ui-access-commands.js";
import { CONFIG_OPTION, TIMEOUT_OPTION, timeout } from "./option-help.js";

export interface Command {
  readonly words: readonly string[];
  readonly summary: string;
  readonly synopsis: string;
  /** Description, options and examples. */
  readonly help: string;
  readonly options: OptionSpec;
  /** How many arguments besides options, and their name in messages. */
  readonly positionals: { readonly min: number; readonly max: number; readonly name?: string };
  /** Exit codes as the command uses them. */
  readonly exits: string;
  readonly run: (ctx: Context) => Promise<number>;
}

export const COMMANDS: readonly Command[] = [
  {
    words: ["run"],
    summary: "run the engine",
    synopsis: "rtcrm run [--config FILE]",
    help: `Runs the engine until SIGTERM or SIGINT (Ctrl-C), exactly as \`npm start\` or \`node dist/src/main.js\`.
It logs JSON lines on stderr.

options:
${CONFIG_OPTION}

examples:
  rtcrm run --config my-config.json
  RTCRM_WORKERS=4 RTCRM_TIME_BASIS=created-at rtcrm run`,
    options: {},
    positionals: { min: 0, max: 0 },
    exits: "0 stopped cleanly; 1 failed to start, or stopped past shutdown_timeout_ms; 2 configuration error",
    run: (ctx) => runEngine(typeof ctx.values.config === "string" ? ["--config", ctx.values.config] : []),
  },
  {
    words: ["campaign", "put"],
    summary: "check campaigns and write them to the campaign topic",
    synopsis: "rtcrm campaign put FILE|- [--wait] [--author NAME] [--config FILE]",
    help: `Checks the campaigns in FILE (- reads stdin) as \`rtcrm campaign check\` does (fields, dates, filter compiled
in the sandbox and run once on an example event), then writes each to the campaign topic keyed by its
campaign_id. The same id again replaces the campaign. FILE holds one campaign, a JSON array of campaigns, or
one campaign per line. When one is invalid, nothing is written and its problems are printed as in
\`rtcrm campaign check\`.

options:
  --wait             wait for the running engine's verdict on the campaign status topic and print it
${AUTHOR_HELP}
${TIMEOUT_OPTION}
${CONFIG_OPTION}

examples:
  rtcrm campaign put campaign.json
  rtcrm campaign put --wait campaign.json
  echo '{"campaign_id":4711,"enabled":true,"game":"foe","event_name":"fight","filter":"function(event) { return true }"}' | rtcrm campaign put -`,
    options: { wait: { type: "boolean" }, ...AUTHOR_OPTION, ...timeout },
    positionals: { min: 1, max: 1, name: "FILE (or - for stdin)" },
    exits:
      "0 written (with --wait: and accepted); 1 invalid campaign, Kafka failure, or (--wait) rejected or no verdict; 2 usage or configuration error",
    run: campaignPut,
  },
  {
    words: ["campaign", "get"],
    summary: "print one campaign from the campaign topic",
    synopsis: "rtcrm campaign get ID [--config FILE]",
    help: `Reads the campaign topic to its end and prints the current record of campaign ID as JSON.

options:
${TIMEOUT_OPTION}
${CONFIG_OPTION}

examples:
  rtcrm campaign get 4711
  rtcrm campaign get 4711 > c.json && $EDITOR c.json && rtcrm campaign put c.json`,
    options: { ...timeout },
    positionals: { min: 1, max: 1, name: "ID (a campaign_id)" },
    exits: "0 found; 1 not on the topic, or Kafka failure; 2 usage or configuration error",
    run: campaignGet,
  },
  {
    words: ["campaign", "list"],
    summary: "list the campaigns on the campaign topic",
    synopsis: "rtcrm campaign list [--json] [--config FILE]",
    help: `Reads the campaign topic to its end and lists the current campaigns (the last record of an id wins, a
tombstone removes it), as a table or, with --json, as a JSON array (a valid \`backtest --campaigns\` file).
Records the engine would reject are listed as INVALID with the reason.

options:
  --json             print the records as a JSON array
${TIMEOUT_OPTION}
${CONFIG_OPTION}

examples:
  rtcrm campaign list
  rtcrm campaign list --json > campaigns.json`,
    options: { json: { type: "boolean" }, ...timeout },
    positionals: { min: 0, max: 0 },
    exits: "0 listed (also when there are none); 1 Kafka failure; 2 usage or configuration error",
    run: campaignList,
  },
  {
    words: ["campaign", "delete"],
    summary: "delete a campaign (write its tombstone)",
    synopsis: "rtcrm campaign delete ID [--author NAME] [--config FILE]",
    help: `Writes a tombstone (key ID, no value) to the campaign topic: the engine stops evaluating the campaign at
once, and compaction later removes its records.

options:
${AUTHOR_HELP}
${TIMEOUT_OPTION}
${CONFIG_OPTION}

examples:
  rtcrm campaign delete 4711`,
    options: { ...AUTHOR_OPTION, ...timeout },
    positionals: { min: 1, max: 1, name: "ID (a campaign_id)" },
    exits: "0 tombstone written; 1 Kafka failure; 2 usage or configuration error",
    run: campaignDelete,
  },
  HISTORY_COMMAND,
  {
    words: ["campaign", "check"],
    summary: "check a campaign file without Kafka",
    synopsis: "rtcrm campaign check FILE|- [--config FILE]",
    help: `Checks one campaign (JSON) as the engine will, without Kafka: every field, the dates, and the filter
compiled with the engine's compiler into its sandbox. Then it runs the filter once on an example event of the
campaign's game and event_name, under the configuration's limits (fuel_per_evaluation, fuel_overrides,
memory_limit_bytes, call_deadline_ms): a call the sandbox has to stop there (out of fuel, past the deadline,
out of memory, stack overflow) is a problem, because the engine would stop such calls and quarantine the
campaign. A filter that throws or does not match on the example event is fine. Each problem is printed on its
own line:

  FILE:LINE:COLUMN: filter: message   a problem in the filter; LINE and COLUMN count inside the filter's
                                      source text (the string value of "filter"), not in FILE
  FILE: message                       a problem with the JSON or another field, or a stopped example call

options:
${CONFIG_OPTION}

examples:
  rtcrm campaign check campaign.json
  rtcrm campaign get 4711 | rtcrm campaign check -`,
    options: {},
    positionals: { min: 1, max: 1, name: "FILE (or - for stdin)" },
    exits: "0 valid; 1 invalid (problems printed); 2 usage or configuration error (e.g. FILE cannot be read)",
    run: campaignCheck,
  },
  {
    words: ["event", "send"],
    summary: "write events to the events topic",
    synopsis: "rtcrm event send FILE|- | --json '{...}' [--key KEY] [--config FILE]",
    help: `Writes events to the events topic, as a game backend would. FILE (- reads stdin) holds one JSON event,
a JSON array of events, or one event per line (JSON Lines); lines are sent byte for byte, so large player
ids keep their digits. Every event is checked to be a JSON object first; when one is not, nothing is sent.
The record key is the event's player_id unless --key is given.

options:
  --json '{...}'     send this event instead of a file
  --key KEY          record key of every event sent
${TIMEOUT_OPTION}
${CONFIG_OPTION}

examples:
  rtcrm event send --json '{"game":"foe","event_name":"fight","player_id":12345,"market":"de","data":{"result":"loss"}}'
  rtcrm event send events.jsonl`,
    options: { json: { type: "string" }, key: { type: "string" }, ...timeout },
    positionals: { min: 0, max: 1 },
    exits:
      "0 every event acknowledged; 1 invalid event (nothing sent) or Kafka failure; 2 usage or configuration error",
    run: eventSend,
  },
  {
    words: ["triggers", "tail"],
    summary: "follow the trigger topic",
    synopsis: "rtcrm triggers tail [--from-beginning] [--raw] [--max N] [--config FILE]",
    help: `Prints every trigger written to the trigger topic from now on (with --from-beginning: every trigger on
it first) until Ctrl-C, one line each:

  Trigger campaign 4711 for player 12345 in game foe and market de!

It reads with a group of its own and never commits, so it moves no engine's offsets.

options:
  --from-beginning   start at the beginning of the topic
  --raw              print each trigger's JSON as written by the engine
  --max N            end after N triggers
${TIMEOUT_OPTION}
${CONFIG_OPTION}

examples:
  rtcrm triggers tail
  rtcrm triggers tail --from-beginning --raw --max 10`,
    options: {
      "from-beginning": { type: "boolean" },
      raw: { type: "boolean" },
      max: { type: "string" },
      ...timeout,
    },
    positionals: { min: 0, max: 0 },
    exits:
      "0 ended by Ctrl-C, SIGTERM or --max; 1 Kafka failure (e.g. no trigger topic); 2 usage or configuration error",
    run: triggersTail,
  },
  {
    words: ["backtest"],
    summary: "evaluate campaigns against recorded events, offline",
    synopsis: "rtcrm backtest --campaigns FILE --events FILE.jsonl [--triggers] [--json] [--config FILE]",
    help: `Evaluates campaigns against recorded events without Kafka, with the engine's own parts: the same checks,
compiler, sandbox and limits (fuel_per_evaluation, fuel_overrides, memory_limit_bytes and call_deadline_ms of
the configuration), and the same rules, taking each event's created_at as the clock (as time_basis
"created-at"). Prints, per campaign, the events of its game and event name, those outside its date window,
matches, non-matches and failed filter calls. Delivery rules (frequency_cap, holdout_percent, variants,
max_event_age, priority, and the configuration's global_frequency_cap) apply from empty state, as the engine's:
the table then also shows per campaign the triggers, the matches capped by the campaign's own cap and by the
global cap, held out, and expired (none: at each event's created_at no event is old).

Ctrl-C (SIGINT) or SIGTERM stops it: it reads no further event, prints the summary of the events evaluated so
far to stderr, marked as interrupted, and exits with 130 (SIGINT) or 143 (SIGTERM).

--campaigns FILE holds a JSON array of campaigns or one per line; as on the topic, the last one of an id wins.
Campaigns the engine would reject are reported and left out. --events FILE holds one event per line (JSON
Lines); - reads stdin. Malformed events (not JSON, no game or event_name, no valid created_at) are counted and
listed, not fatal.

options:
  --campaigns FILE     the campaigns
  --events FILE        the events, JSON Lines
  --triggers           print every trigger as the engine would write it, one JSON line each:
                       {"key":…,"headers":{"rtcrm-trigger-id":…,…},"value":{"campaign":…,"event":…}}
                       (with "variant":… after "event", and a rtcrm-variant header, for a campaign's variants)
                       (the summary then goes to stderr). The trigger ids equal the engine's when the
                       file's lines were written in order to partition 0 of the events topic.
  --json               print the report (and with --triggers the triggers) as one JSON object
  --source-topic NAME  the events topic named in the triggers' source (default: event_topic)
${CONFIG_OPTION}

examples:
  rtcrm backtest --campaigns campaigns.json --events events.jsonl
  rtcrm campaign list --json > campaigns.json && rtcrm backtest --campaigns campaigns.json --events events.jsonl --json`,
    options: {
      campaigns: { type: "string" },
      events: { type: "string" },
      triggers: { type: "boolean" },
      json: { type: "boolean" },
      "source-topic": { type: "string" },
    },
    positionals: { min: 0, max: 0 },
    exits:
      "0 done (malformed events included); 1 a campaign was rejected or the campaigns file is not JSON; 2 usage or configuration error; 130/143 stopped by SIGINT/SIGTERM",
    run: backtest,
  },
  UI_PASSWORD_COMMAND,
  UI_TOKEN_COMMAND,
];

/** The command groups with subcommands, for `rtcrm campaign --help`. */
export const GROUPS: Readonly<Record<string, string>> = {
  campaign: "campaigns on the campaign topic, and checking them",
  event: "events on the events topic",
  triggers: "triggers on the trigger topic",
  ui: "log-in values for the web UI's configuration",
};

export const EXIT_CODES = `exit codes:
  0  success
  1  failure: invalid input (a campaign or event that the engine would not take), a rejected campaign, or Kafka
     unreachable or failing
  2  usage or configuration error: unknown command or option, missing argument, unreadable file, invalid
     --config file or RTCRM_* variable
  130, 143  backtest stopped by SIGINT (Ctrl-C) or SIGTERM; it prints what it did so far`;

export function findCommand(words: readonly string[]): Command | undefined {
  return COMMANDS.find((c) => c.words.length === words.length && c.words.every((w, i) => w === words[i]));
}

export function isCommandWord(words: readonly string[], next: string): boolean {
  const candidate = [...words, next];
  return COMMANDS.some((c) => candidate.every((w, i) => c.words[i] === w));
}

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.words.join(" ").length));
  const lines = COMMANDS.map((c) => `  rtcrm ${c.words.join(" ").padEnd(width)}  ${c.summary}`);
  return `usage: rtcrm <command> [options]   (rtcrm <command> --help for its options and examples)

rtcrm reads game events from Kafka, evaluates them against CRM campaigns with sandboxed JavaScript filters,
and writes a trigger for every match.

commands:
${lines.join("\n")}

global options:
${CONFIG_OPTION}
  -h, --help         help for any command

${EXIT_CODES}
`;
}

export function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.words[0] === group);
  const width = Math.max(...commands.map((c) => c.synopsis.length));
  return `usage: rtcrm ${group} <${commands.map((c) => c.words[1]).join("|")}> ...   (${GROUPS[group] ?? ""})

${commands.map((c) => `  ${c.synopsis.padEnd(width)}  ${c.summary}`).join("\n")}

rtcrm ${group} <command> --help shows its options and examples.
`;
}

export function commandHelp(command: Command): string {
  return `usage: ${command.synopsis}

${command.help}

exit codes: ${command.exits}
`;
}
