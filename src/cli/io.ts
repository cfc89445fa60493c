// Where a command reads and writes: files or stdin, stdout and stderr, and a signal that ends long-running
// commands. Tests pass their own to run commands in-process.
import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { UsageError } from "./args.js";

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: Readable;
  /**
   * Aborted on SIGINT/SIGTERM, with the signal's name as its reason: `triggers tail` and `campaign put --wait`
   * end cleanly, `backtest` stops and reports what it did (exit code from signalExit).
   */
  readonly signal: AbortSignal;
  readonly env: NodeJS.ProcessEnv;
}

/** How a path given on the command line is named in messages ("-" is stdin). */
export function displayName(path: string): string {
  return path === "-" ? "<stdin>" : path;
}

/** The whole text of a file, or of stdin for "-"; a file that cannot be read is the user's to fix (exit 2). */
export async function readText(io: Io, path: string, command: readonly string[]): Promise<string> {
  if (path === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    return Buffer.concat(chunks).toString("utf8");
  }
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      command,
    );
  }
}

/** The lines of a file or stdin, one at a time (an events file may be larger than memory). */
export function readLines(io: Io, path: string): AsyncIterable<string> {
  const input = path === "-" ? io.stdin : createReadStream(path, { encoding: "utf8" });
  return createInterface({ input, crlfDelay: Infinity });
}

export interface JsonRecord {
  /** The record's text as it stands in the input (for a JSON array: its element serialised again). */
  readonly text: string;
  readonly value: unknown;
  /** 1-based line where it starts. */
  readonly line: number;
}

export interface JsonRecords {
  readonly records: JsonRecord[];
  readonly problems: { readonly line: number; readonly message: string }[];
}

/**
 * One JSON value (an object: one record; an array: one record per element), or JSON Lines (one value per
 * non-blank line). Lines that are not JSON are reported with their numbers, not thrown.
 */
export function parseJsonRecords(text: string): JsonRecords {
  const trimmed = text.trim();
  if (trimmed === "") return { records: [], problems: [] };
  try {
    const whole = JSON.parse(trimmed) as unknown;
    const line = text.slice(0, text.indexOf(trimmed[0] as string)).split("\n").length;
    if (Array.isArray(whole)) {
      return { records: whole.map((value) => ({ text: JSON.stringify(value), value, line })), problems: [] };
    }
    return { records: [{ text: trimmed, value: whole, line }], problems: [] };
  } catch {
    // not one JSON value: JSON Lines
  }
  const records: JsonRecord[] = [];
  const problems: { line: number; message: string }[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const lineText = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (lineText.trim() === "") continue;
    try {
      records.push({ text: lineText, value: JSON.parse(lineText) as unknown, line: i + 1 });
    } catch (error) {
      problems.push({ line: i + 1, message: `not valid JSON: ${(error as Error).message}` });
    }
  }
  return { records, problems };
}
