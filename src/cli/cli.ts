// `rtcrm`: finds the command, parses its arguments, runs it and turns what went wrong into a message that says
// what to change and an exit code (0 ok, 1 failure or invalid input, 2 usage or configuration error).
import { readFileSync } from "node:fs";
import { ConfigError, RtcrmError } from "../errors.js";
import { EXIT, parseCommand, splitCommand, UsageError } from "./args.js";
import {
  COMMANDS,
  commandHelp,
  findCommand,
  GROUPS,
  groupHelp,
  isCommandWord,
  overview,
} from "./commands.js";
import { makeContext } from "./context.js";
import type { Io } from "./io.js";

/** Runs one command line (without node and script); resolves with the exit code, or -1 while `rtcrm run` runs. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const { words, rest } = splitCommand(argv, isCommandWord);
  if (words[0] === undefined && rest.includes("--version")) {
    io.stdout(`rtcrm ${version()}\n`);
    return EXIT.OK;
  }
  const wantsHelp = rest.includes("--help") || rest.includes("-h");
  if (words[0] === undefined) {
    const unknown = rest.find((a) => !a.startsWith("-"));
    if (wantsHelp || (unknown === "help" && rest.length === 1)) {
      io.stdout(overview());
      return EXIT.OK;
    }
    if (unknown !== undefined) return usage(io, `unknown command ${JSON.stringify(unknown)}`, []);
    io.stderr(overview());
    return EXIT.USAGE;
  }
  const command = findCommand(words);
  if (!command) {
    const group = words[0];
    if (words.length === 1 && GROUPS[group] !== undefined) {
      if (wantsHelp) {
        io.stdout(groupHelp(group));
        return EXIT.OK;
      }
      const next = rest.find((a) => !a.startsWith("-"));
      const choices = COMMANDS.filter((c) => c.words[0] === group).map((c) => c.words[1]);
      const which = `${group}: which command? one of ${choices.join(", ")}`;
      return usage(io, next === undefined ? which : `${group}: unknown command ${JSON.stringify(next)}`, [
        group,
      ]);
    }
    return usage(io, `unknown command ${JSON.stringify(words.join(" "))}`, []);
  }

  try {
    const parsed = parseCommand(command.words, rest, command.options, command.positionals);
    if (parsed.values.help) {
      io.stdout(commandHelp(command));
      return EXIT.OK;
    }
    return await command.run(makeContext(command.words, parsed.values, parsed.positionals, io));
  } catch (error) {
    if (error instanceof UsageError) return usage(io, error.message, error.command);
    if (error instanceof ConfigError) {
      io.stderr(`rtcrm: ${error.message}\nfix the --config file or the RTCRM_* variable named above\n`);
      return EXIT.USAGE;
    }
    if (error instanceof RtcrmError) {
      io.stderr(`rtcrm: ${error.message}\n`);
      return EXIT.FAILURE;
    }
    io.stderr(
      `rtcrm: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT.FAILURE;
  }
}

function usage(io: Io, message: string, command: readonly string[]): number {
  const found = findCommand(command);
  const synopsis = found ? `usage: ${found.synopsis}\n` : "";
  const more = command.length > 0 ? `rtcrm ${command.join(" ")} --help` : "rtcrm --help";
  io.stderr(`rtcrm: ${message}\n${synopsis}(${more} shows the options and examples)\n`);
  return EXIT.USAGE;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}
