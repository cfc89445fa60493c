// Who the command line says wrote a campaign record (the rtcrm-author header): --author NAME, else RTCRM_AUTHOR,
// else the OS user at this host; with the Kafka principal's SASL user name added when the configuration has one.
// The header is what the writer asserts; what the broker authenticated is the Kafka principal (ACLs, audit log).
import { hostname, userInfo } from "node:os";
import type { AuditStamp } from "../campaigns/audit-headers.js";
import { UsageError } from "./args.js";
import type { Context } from "./context.js";

export interface AuthorSources {
  /** --author, when given. */
  readonly option?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** kafka["sasl.username"] of the configuration, when set. */
  readonly saslUsername?: string | undefined;
  /** The OS user and host name; read from the OS when not given. */
  readonly osUser?: () => string;
  readonly host?: () => string;
}

/** `NAME`, `RTCRM_AUTHOR`, or `user@host`; then ` (kafka: SASL_USER)` when Kafka authenticates by a user name. */
export function authorName(sources: AuthorSources, command: readonly string[] = []): string {
  let name: string;
  if (sources.option !== undefined) {
    name = sources.option.trim();
    if (name === "") throw new UsageError("--author must not be empty", command);
  } else if (sources.env.RTCRM_AUTHOR !== undefined && sources.env.RTCRM_AUTHOR.trim() !== "") {
    name = sources.env.RTCRM_AUTHOR.trim();
  } else {
    name = `${(sources.osUser ?? osUser)()}@${(sources.host ?? hostname)()}`;
  }
  const sasl = sources.saslUsername?.trim();
  return sasl ? `${name} (kafka: ${sasl})` : name;
}

/** The OS user running the command; the environment's when the OS has no entry for it (e.g. some containers). */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? "unknown";
  }
}

/** The audit stamp of a campaign record the command writes. */
export function cliAuditStamp(ctx: Context): AuditStamp {
  const option = ctx.values.author;
  const sasl = ctx.settings("campaigns")["sasl.username"];
  return {
    author: authorName(
      {
        option: typeof option === "string" ? option : undefined,
        env: ctx.io.env,
        saslUsername: typeof sasl === "string" ? sasl : undefined,
      },
      ctx.command,
    ),
    via: "cli",
  };
}

/** The --author option of the commands that write campaign records: its spec and help line. */
export const AUTHOR_OPTION = { author: { type: "string" } } as const;
export const AUTHOR_HELP = `  --author NAME      who writes, in the record's rtcrm-author header (default: RTCRM_AUTHOR, else user@host;
                     with " (kafka: USER)" added when the configuration has a kafka sasl.username)`;
