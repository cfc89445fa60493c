// The seed's example campaign and event (SEED.md), made current: the web UI's "Generate example" buttons, and
// the event a campaign check runs the filter on (with the campaign's game and event_name). The seed's own
// dates (autumn 2023) would match nothing today, so the campaign runs from an hour ago for 30 days and the
// event is created now with a fresh event_id: sent as generated, the event triggers the campaign.
import { randomUUID } from "node:crypto";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The seed campaign's id; the next free id above it when 4711 is taken, so an example never overwrites. */
export const SEED_CAMPAIGN_ID = 4711;

export function exampleCampaign(now: number, takenIds: ReadonlySet<number> = new Set()) {
  let id = SEED_CAMPAIGN_ID;
  while (takenIds.has(id)) id++;
  const start = Math.floor((now - HOUR) / HOUR) * HOUR;
  return {
    campaign_id: id,
    enabled: true,
    game: "foe",
    event_name: "fight",
    start_date: new Date(start).toISOString(),
    end_date: new Date(start + 30 * DAY).toISOString(),
    filter: "function(event) { return event.getData().get('result') === 'loss' }",
  };
}

export function exampleEvent(now: number, eventId: string = randomUUID()) {
  return {
    schema_version: "2023110110010101",
    event_id: eventId,
    system_type: "game",
    system_name: "foe-backend",
    game: "foe",
    market: "de",
    player_id: 12345,
    event_type: "progress",
    event_name: "fight",
    event_scope: "user",
    created_at: new Date(now - 2_000).toISOString(),
    received_at: new Date(now).toISOString(),
    hostname: "foe-backend-1.ig.com",
    context: {},
    data: { result: "loss" },
  };
}
