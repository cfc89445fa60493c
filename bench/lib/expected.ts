// Expected triggers per event from the pure evaluation function and an in-process sandbox, the same
// definition the engine uses: a run that loses events or produces a wrong number of triggers fails the bench.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign, type Campaign } from "../../src/campaigns/campaign.js";
import { FilterCompiler, type CompiledFilter } from "../../src/compile/filter-compiler.js";
import { evaluateCampaign } from "../../src/evaluation/evaluate.js";
import { EventView } from "../../src/pool/event-view.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";

export class ExpectedTriggers {
  readonly #sandbox: Sandbox;
  readonly #routes = new Map<string, { campaign: Campaign; compiled: CompiledFilter }[]>();

  constructor(campaignRecords: string[]) {
    const engine = loadEngineModule();
    const compiler = new FilterCompiler(engine, join(mkdtempSync(join(tmpdir(), "rtcrm-expected-")), "fc"));
    this.#sandbox = new Sandbox(engine);
    for (const record of campaignRecords) {
      const parsed = parseCampaign(JSON.parse(record));
      if (!parsed.ok) throw new Error(`bench campaign invalid: ${parsed.reasons.join("; ")}`);
      const compiled = compiler.compileSync(parsed.campaign.filter);
      this.#sandbox.load(parsed.campaign.versionKey, compiled.module);
      const key = `${parsed.campaign.game}\u0000${parsed.campaign.eventName}`;
      this.#routes.set(key, [...(this.#routes.get(key) ?? []), { campaign: parsed.campaign, compiled }]);
    }
  }

  /** Campaign ids matching the event (game and event_name given to skip the parse for routing). */
  matches(json: string, game: string, eventName: string, nowMs: number): number[] {
    const candidates = this.#routes.get(`${game}\u0000${eventName}`);
    if (!candidates) return [];
    const view = new EventView(json);
    const limits = { fuel: 1_000_000, memoryBytes: 16 << 20, deadlineMs: 1_000 };
    return candidates
      .filter(
        ({ campaign, compiled }) =>
          evaluateCampaign(campaign, { game, event_name: eventName }, nowMs, () =>
            this.#sandbox.evaluate(campaign.versionKey, view.for(compiled), limits),
          ).kind === "match",
      )
      .map(({ campaign }) => campaign.campaignId);
  }
}
