// Structured logs: one JSON object per line on stderr, below a level. Nothing is logged per event at info.
import { isSecretSetting, REDACTED, redactSettings } from "../config/secrets.js";

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  level: Level,
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stderr.write(line + "\n"),
): Logger {
  const min = ORDER[level];
  const log = (lvl: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < min) return;
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      level: lvl,
      msg,
      ...base,
      ...fields,
    };
    for (const [k, v] of Object.entries(entry)) {
      // A field named like a secret (sasl.password, a token, ...) is never written (README, Security).
      if (isSecretSetting(k)) entry[k] = REDACTED;
      else if (v instanceof Error) entry[k] = { message: v.message, code: (v as { code?: unknown }).code };
      else if (typeof v === "object" && v !== null && !Array.isArray(v))
        entry[k] = redactSettings(v as Record<string, unknown>);
    }
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  };
}
