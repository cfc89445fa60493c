// The soak's events: a pool of generated templates reused round-robin, each event made unique by its
// event_id ("soak-<n>"). The stable campaigns' expected matches are computed once per template with the
// pure reference: their filters never read event_id, so every copy of a template matches the same way.
import { ExpectedTriggers } from "../lib/expected.js";
import { campaignRecord, generateCampaigns, generateEvents } from "../workload/generator.js";

export const EVENT_PARTITIONS = 3;

/** Stable campaigns get ids 1..STABLE_CAMPAIGNS, so that one bit per campaign fits in a Uint32. */
export const STABLE_CAMPAIGNS = 20;

export interface Template {
  /** The event's JSON up to and after its event_id value. */
  readonly prefix: string;
  readonly suffix: string;
  readonly game: string;
  readonly eventName: string;
  /** Bit (id - 1) set for every stable campaign the event matches. */
  readonly stableMask: number;
}

export const eventId = (n: number): string => `soak-${n}`;

export function eventJson(t: Template, n: number): string {
  return t.prefix + eventId(n) + t.suffix;
}

/** Event n: template n mod pool size, partition n mod EVENT_PARTITIONS (so offset order is n order). */
export function templateOf(templates: readonly Template[], n: number): Template {
  return templates[n % templates.length] as Template;
}

export function stableCampaignRecords(): string[] {
  return generateCampaigns(7, STABLE_CAMPAIGNS).map(campaignRecord);
}

export function buildTemplates(count: number, stableRecords: string[]): Template[] {
  const expected = new ExpectedTriggers(stableRecords);
  const now = Date.now();
  const templates: Template[] = [];
  for (const e of generateEvents(23, count)) {
    const m = /"event_id":"([^"]*)"/.exec(e.json);
    if (!m) throw new Error("generated event without event_id");
    const at = m.index + '"event_id":"'.length;
    const prefix = e.json.slice(0, at);
    const suffix = e.json.slice(at + (m[1] as string).length);
    let stableMask = 0;
    for (const id of expected.matches(prefix + eventId(0) + suffix, e.game, e.eventName, now)) {
      if (id < 1 || id > STABLE_CAMPAIGNS) throw new Error(`stable campaign id ${id} out of range`);
      stableMask |= 1 << (id - 1);
    }
    templates.push({ prefix, suffix, game: e.game, eventName: e.eventName, stableMask });
  }
  return templates;
}

export function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}
