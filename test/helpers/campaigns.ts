// Campaign records for the integration tests: foe/fight, enabled, in a window of a day either side of now.

const DAY = 86_400_000;

/** start_date and end_date a day either side of `now`. */
export function around(now = Date.now()): { start_date: string; end_date: string } {
  return { start_date: new Date(now - DAY).toISOString(), end_date: new Date(now + DAY).toISOString() };
}

/** A campaign record on foe/fight, active now; `over` replaces or adds fields. */
export function campaign(
  id: number,
  filter: string,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return { campaign_id: id, enabled: true, game: "foe", event_name: "fight", ...around(), filter, ...over };
}
