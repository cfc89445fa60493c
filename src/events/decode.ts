// Decoding of event records on the main thread: what the router needs, or why the record is dead-lettered.

export interface DecodedEvent {
  /** The event text exactly as received. */
  readonly json: string;
  readonly game: string;
  readonly eventName: string;
  /** Trigger key: the player id as text (exact, also beyond 2^53), or null when the event has none. */
  readonly playerKey: string | null;
  readonly createdAt: unknown;
}

export type Decoded = { ok: true; event: DecodedEvent } | { ok: false; reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });
/** A `"player_id": <integer>` token, the integer whole (not the start of 1.5 or 1e20). */
const PLAYER_ID_RAW = /"player_id"\s*:\s*(-?\d+)(?![\d.eE])/g;

export function decodeEvent(value: Uint8Array | null | undefined): Decoded {
  if (!value || value.length === 0)
    return { ok: false, reason: "empty record: an event must be a JSON object" };
  let json: string;
  try {
    json = utf8.decode(value);
  } catch {
    return { ok: false, reason: "not valid UTF-8" };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return {
      ok: false,
      reason: `not a JSON object but ${parsed === null ? "null" : Array.isArray(parsed) ? "an array" : typeof parsed}`,
    };
  }
  const e = parsed as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof e.game !== "string")
    problems.push(e.game === undefined ? "game is missing" : "game is not a string");
  if (typeof e.event_name !== "string") {
    problems.push(e.event_name === undefined ? "event_name is missing" : "event_name is not a string");
  }
  if (problems.length > 0) return { ok: false, reason: problems.join("; ") };
  return {
    ok: true,
    event: {
      json,
      game: e.game as string,
      eventName: e.event_name as string,
      playerKey: playerKey(e.player_id, json),
      createdAt: e.created_at,
    },
  };
}

function playerKey(id: unknown, json: string): string | null {
  if (typeof id === "string") return id;
  if (typeof id !== "number" || !Number.isFinite(id)) return null;
  if (!Number.isInteger(id) || Number.isSafeInteger(id)) return String(id);
  // Beyond 2^53 JSON.parse rounds: take the digits as written, from the last integer token that rounds to the
  // parsed value (JSON.parse keeps the last of duplicate keys; a nested player_id rounds to something else).
  let digits: string | undefined;
  for (const m of json.matchAll(PLAYER_ID_RAW)) if (Number(m[1]) === id) digits = m[1];
  return digits ?? String(id);
}
