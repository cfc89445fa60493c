// Who wrote a campaign record and when, as its writer asserts it in record headers. The UI and the CLI stamp
// every campaign record they write (puts and tombstones); the engine copies the stamp into the status record.
// A header is what the writer claims, not what the broker authenticated (that is the Kafka principal: ACLs,
// the broker's audit log). Read back, header values are untrusted input: capped and without control characters.

/** The record headers of the stamp. */
export const AUDIT_HEADERS = {
  author: "rtcrm-author",
  writtenAt: "rtcrm-written-at",
  via: "rtcrm-via",
} as const;

/** Which tool wrote the record. */
export type AuditVia = "ui" | "cli";

/** Who writes a campaign record and through what; the time is taken when it is written. */
export interface AuditStamp {
  readonly author: string;
  readonly via: AuditVia;
}

/** The stamp as the status record and the history repeat it; each field only when its header was there. */
export interface AuditFields {
  readonly written_by?: string;
  readonly written_at?: string;
  readonly written_via?: string;
}

/** The longest header value kept, in characters (code points); longer ones are cut and end in "…". */
export const MAX_AUDIT_VALUE_CHARS = 200;

// C0 and C1 controls and DEL, and the bidirectional overrides and isolates that make text display in another order
// than it is stored (a name that reads as someone else's in a terminal or a page).
const UNSAFE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/** A header value fit to show and store: control characters removed, trimmed, at most `max` characters. */
export function sanitizeAuditValue(value: string, max = MAX_AUDIT_VALUE_CHARS): string {
  const chars = [...value.replace(UNSAFE, "").trim()];
  return chars.length <= max ? chars.join("") : `${chars.slice(0, max - 1).join("")}…`;
}

/** The headers of a record written now by `stamp`; the author is sanitised as a reader would. */
export function auditHeaders(stamp: AuditStamp, now: Date = new Date()): Record<string, string> {
  return {
    [AUDIT_HEADERS.author]: sanitizeAuditValue(stamp.author),
    [AUDIT_HEADERS.writtenAt]: now.toISOString(),
    [AUDIT_HEADERS.via]: stamp.via,
  };
}

/** A header value as the Kafka client hands it over: text, bytes, or absent. */
export type HeaderValue = string | Uint8Array | null | undefined;

/**
 * The stamp of a record, from its headers (librdkafka's list of one-key objects, or a plain object); a header
 * that is missing, empty once sanitised, or not UTF-8 leaves its field out. The last of repeated headers wins.
 */
export function auditFromHeaders(
  headers:
    readonly Readonly<Record<string, HeaderValue>>[] | Readonly<Record<string, HeaderValue>> | undefined,
): AuditFields {
  const found = new Map<string, string>();
  const wanted = new Set<string>(Object.values(AUDIT_HEADERS));
  const list = headers === undefined ? [] : Array.isArray(headers) ? headers : [headers];
  for (const header of list as readonly Readonly<Record<string, HeaderValue>>[]) {
    for (const [key, raw] of Object.entries(header)) {
      if (!wanted.has(key) || raw === null || raw === undefined) continue;
      const text = typeof raw === "string" ? raw : decodeUtf8(raw);
      if (text === null) continue;
      const value = sanitizeAuditValue(text);
      if (value === "") found.delete(key);
      else found.set(key, value);
    }
  }
  const by = found.get(AUDIT_HEADERS.author);
  const at = found.get(AUDIT_HEADERS.writtenAt);
  const via = found.get(AUDIT_HEADERS.via);
  return {
    ...(by === undefined ? {} : { written_by: by }),
    ...(at === undefined ? {} : { written_at: at }),
    ...(via === undefined ? {} : { written_via: via }),
  };
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
