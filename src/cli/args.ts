// Command words and options: `rtcrm [--config FILE] <command> [<subcommand>] [options] [arguments]`.
// Global options may stand anywhere; each command parses the rest with its own option set (node:util parseArgs).
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit codes of every command; a command a signal stopped exits as a shell reports it: 128 + the signal's number. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, SIGINT: 130, SIGTERM: 143 } as const;

/** The exit code of a command stopped by `signal` (Io.signal, aborted with the signal's name). */
export function signalExit(signal: AbortSignal): number {
  return signal.reason === "SIGTERM" ? EXIT.SIGTERM : EXIT.SIGINT;
}

/** Wrong command line: reported with the command's usage line, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command words whose --help explains the fix, e.g. ["campaign", "put"]. */
    readonly command: readonly string[] = [],
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

/**
 * Splits argv into the command words (`depth` of them at most, stopping at the first word that `isWord` does
 * not accept) and the remaining arguments. Option values (`--config FILE`) are never taken for words.
 */
export function splitCommand(
  argv: readonly string[],
  isWord: (words: readonly string[], next: string) => boolean,
): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === "--config") {
      rest.push(arg);
      if (i + 1 < argv.length) rest.push(argv[++i] as string);
      continue;
    }
    if (!arg.startsWith("-") && isWord(words, arg)) words.push(arg);
    else rest.push(arg);
  }
  return { words, rest };
}

export interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** Parses a command's arguments; unknown options and missing values become UsageErrors naming the command. */
export function parseCommand(
  command: readonly string[],
  args: readonly string[],
  options: OptionSpec,
  positionals: { readonly min: number; readonly max: number; readonly name?: string },
): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(cleanParseError((error as Error).message), command);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { values, positionals: parsed.positionals };
  const n = parsed.positionals.length;
  if (n < positionals.min) throw new UsageError(`missing ${positionals.name ?? "argument"}`, command);
  if (n > positionals.max) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`,
      command,
    );
  }
  return { values, positionals: parsed.positionals };
}

function cleanParseError(message: string): string {
  // parseArgs suggests `--` for positionals starting with "-"; here an unknown option is the likelier mistake.
  return message.replace(/\. To specify a positional argument.*$/s, "").replace(/'/g, "");
}

/** A whole number given on the command line (at least `min` when given), or a UsageError saying which one. */
export function integerArg(command: readonly string[], name: string, text: string, min?: number): number {
  const n = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || (min !== undefined && n < min)) {
    const bound = min === undefined ? "" : ` of at least ${min}`;
    throw new UsageError(`${name} must be a whole number${bound}, got ${JSON.stringify(text)}`, command);
  }
  return n;
}
