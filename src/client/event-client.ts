// Writes interaction events to the events topic, as a game backend would (used by `rtcrm event send` and the UI).
import { EventError } from "../errors.js";
import type { RdSettings } from "../kafka/settings.js";
import { withProducer, type Delivered } from "./kafka-io.js";

/**
 * The record text of an event: a string is sent exactly as given (so that integers beyond 2^53 keep their
 * digits, and a trigger carries the event byte for byte) once it is known to be one JSON object; anything else
 * is serialised.
 */
export function eventText(event: unknown): string {
  if (typeof event !== "string") {
    if (typeof event !== "object" || event === null || Array.isArray(event))
      throw new EventError("an event must be a JSON object");
    return JSON.stringify(event);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(event);
  } catch (error) {
    throw new EventError(`an event must be JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new EventError("an event must be a JSON object");
  return event;
}

/** The trigger key the engine would use: the player id as written. */
function defaultKey(text: string): string | null {
  return /"player_id"\s*:\s*"?(-?\d+)/.exec(text)?.[1] ?? null;
}

/**
 * Sends one event (an object, or its JSON text); resolves when the broker acknowledged it. The record key is
 * `key`, else the event's player_id (the engine ignores the key; it only spreads players over partitions).
 */
export async function sendEvent(
  settings: RdSettings,
  topic: string,
  event: unknown,
  key?: string | null,
): Promise<Delivered> {
  const [delivered] = await sendEvents(settings, topic, [event], key === undefined ? {} : { keys: [key] });
  return delivered as Delivered;
}

export interface SendOptions {
  /** Record key per event; default: each event's player_id. */
  readonly keys?: readonly (string | null)[];
  /** How long to wait for the broker (connect, and each acknowledgement). */
  readonly timeoutMs?: number;
}

/** Sends events in order through one producer; resolves with where each landed. */
export async function sendEvents(
  settings: RdSettings,
  topic: string,
  events: readonly unknown[],
  { keys, timeoutMs }: SendOptions = {},
): Promise<Delivered[]> {
  // Every event is checked before the first is sent: a bad line in a file sends nothing.
  const texts = events.map(eventText);
  return withProducer(
    settings,
    (p) =>
      Promise.all(
        texts.map((text, i) =>
          p.send(topic, Buffer.from(text), keys === undefined ? defaultKey(text) : (keys[i] ?? null)),
        ),
      ),
    timeoutMs,
  );
}
