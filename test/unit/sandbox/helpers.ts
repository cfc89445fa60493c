// Shared fixtures for the sandbox tests: one engine module, a sandbox per test file, filters by source.
import assert from "node:assert/strict";
import {
  compileFilterModule,
  loadEngineModule,
  Sandbox,
  type FilterOutcome,
  type Limits,
} from "../../../src/sandbox/index.js";

export const engine = loadEngineModule();

export const LIMITS: Limits = { fuel: 1_000_000, memoryBytes: 8 * 1024 * 1024, deadlineMs: 1_000 };

export const SEED_FILTER = "function(event) { return event.getData().get('result') === 'loss' }";

export function makeEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: "2023110110010101",
    event_id: "7a8d0614-4e8e-4464-b439-36e31441a040",
    system_type: "game",
    system_name: "foe-backend",
    game: "foe",
    market: "de",
    player_id: 12345,
    event_type: "progress",
    event_name: "fight",
    event_scope: "user",
    created_at: "2023-11-20T11:00:00.00Z",
    received_at: "2023-11-20T11:00:02.00Z",
    hostname: "foe-backend-1.ig.com",
    context: { session: "s-1", level: 17, tags: ["pvp", "arena"], nested: { deep: { x: 1 } } },
    data: { result: "loss", rounds: 3, damage: [12, 40, 7] },
    ...overrides,
  };
}

export const EVENT = JSON.stringify(makeEvent());

let counter = 0;

/** Compiles and loads `source` into `sandbox`; returns the id. Fails the test on compile/load errors. */
export function loadFilter(sandbox: Sandbox, source: string, id = `f${++counter}`): string {
  const compiled = compileFilterModule(sandbox, source, engine);
  assert.ok(compiled.ok, `compile failed: ${compiled.ok ? "" : compiled.message}`);
  const loaded = sandbox.load(id, compiled.module);
  assert.ok(loaded.ok, `load failed: ${loaded.ok ? "" : loaded.message}`);
  return id;
}

/** Loads `source` and evaluates it once on `eventJson`. */
export function run(
  sandbox: Sandbox,
  source: string,
  eventJson: string = EVENT,
  limits: Limits = LIMITS,
): FilterOutcome {
  return sandbox.evaluate(loadFilter(sandbox, source), eventJson, limits);
}

export function newSandbox(): Sandbox {
  return new Sandbox(engine);
}
