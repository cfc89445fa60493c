// Scenario "every event triggers": one campaign whose filter returns true, on a pre-filled events topic whose
// events all have its game and event name, so the engine writes one trigger per event: the engine's cost per
// trigger at its highest. The engine from the earliest offset until every event is committed, and next to it a
// kcat pipeline writing one record per event (the same output, without the engine).
import type { KcatResult } from "../lib/kcat.js";
import { dropWorkload, prepareWorkload, runEngine, runKcat, verify, type RunResult } from "./end-to-end.js";

export const ALL_TRIGGER_CAMPAIGN = {
  campaign_id: 1,
  enabled: true,
  game: "foe",
  event_name: "fight",
  start_date: "2020-01-01T00:00:00Z",
  end_date: "2099-01-01T00:00:00Z",
  filter: "function(event) { return true }",
};

export interface AllTriggerResult {
  events: number;
  bytes: number;
  triggers: number;
  engine: RunResult & { triggersPerSec: number };
  kcat: KcatResult;
  /** Engine events/s over kcat events/s. */
  ratio: number;
}

export async function runAllTrigger(events: number): Promise<AllTriggerResult> {
  const only = { game: ALL_TRIGGER_CAMPAIGN.game, eventName: ALL_TRIGGER_CAMPAIGN.event_name };
  const w = await prepareWorkload(
    "all-trigger",
    events,
    1,
    [JSON.stringify(ALL_TRIGGER_CAMPAIGN)],
    undefined,
    only,
  );
  try {
    if (w.expectedTriggers !== w.events)
      throw new Error(`all-trigger: ${w.expectedTriggers} triggers expected for ${w.events} events`);
    const engine = await runEngine(w, {}, "every event triggers: engine");
    verify("every event triggers: engine", w, engine);
    const kcat = await runKcat(w, "event");
    return {
      events: w.events,
      bytes: w.bytes,
      triggers: engine.triggers,
      engine: { ...engine, triggersPerSec: engine.triggers / engine.seconds },
      kcat,
      ratio: engine.eventsPerSec / kcat.eventsPerSec,
    };
  } finally {
    await dropWorkload(w);
  }
}
