// Expected triggers per event from the pure evaluation function and an in-process sandbox, the same
// definition the engine uses: a run that loses events or produces a wrong number of triggers fails the bench.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign, type Campaign } from "../../src/campaigns/campaign.js";
import { FilterCompiler, type CompiledFilter } from "../../src/compile/filter-compiler.js";
import { evaluateCampaign } from "../../src/evaluation/evaluate.js";
import type { FilterOutcome } from "../../src/evaluation/outcome.js";
import { EventView } from "../../src/pool/event-view.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";

/**
 * `statelessSources`: every filter is a pure function of the event (no globals kept between calls, no clock,
 * no randomness), so campaigns with the same source give the same outcome for the same event text. Each
 * distinct source is then loaded once and called once per distinct projected event: with thousands of
 * templated campaigns of a few hundred sources, loading one QuickJS context per campaign took minutes here.
 * Off by default: a stateful filter would make this wrong, and every other workload has one source per
 * campaign.
 */
export interface ExpectedOptions {
  readonly statelessSources?: boolean;
}

/**
 * Distinct projected events per source beyond which that source is no longer memoised: a source reading a
 * level or a result sees a few hundred, one reading gold or a score sees almost every event as new.
 */
const MEMO_MAX = 4_096;

export class ExpectedTriggers {
  readonly #sandbox: Sandbox;
  readonly #routes = new Map<string, { campaign: Campaign; compiled: CompiledFilter; id: string }[]>();
  /** statelessSources: outcome per source hash and projected event text (null: that source is not memoised). */
  readonly #memo: Map<string, Map<string, FilterOutcome> | null> | null;

  constructor(campaignRecords: string[], options: ExpectedOptions = {}) {
    const engine = loadEngineModule();
    const compiler = new FilterCompiler(engine, join(mkdtempSync(join(tmpdir(), "rtcrm-expected-")), "fc"));
    this.#sandbox = new Sandbox(engine);
    this.#memo = options.statelessSources ? new Map() : null;
    for (const record of campaignRecords) {
      const parsed = parseCampaign(JSON.parse(record));
      if (!parsed.ok) throw new Error(`bench campaign invalid: ${parsed.reasons.join("; ")}`);
      const compiled = compiler.compileSync(parsed.campaign.filter);
      const id = this.#memo ? compiled.hash : parsed.campaign.versionKey;
      if (!this.#sandbox.has(id)) this.#sandbox.load(id, compiled.module);
      const key = `${parsed.campaign.game}\u0000${parsed.campaign.eventName}`;
      this.#routes.set(key, [...(this.#routes.get(key) ?? []), { campaign: parsed.campaign, compiled, id }]);
    }
  }

  /** Campaign ids matching the event (game and event_name given to skip the parse for routing). */
  matches(json: string, game: string, eventName: string, nowMs: number): number[] {
    const candidates = this.#routes.get(`${game}\u0000${eventName}`);
    if (!candidates) return [];
    const view = new EventView(json);
    const limits = { fuel: 1_000_000, memoryBytes: 16 << 20, deadlineMs: 1_000 };
    const run = (compiled: CompiledFilter, id: string): FilterOutcome => {
      const text = view.for(compiled);
      if (this.#memo === null) return this.#sandbox.evaluate(id, text, limits);
      let memo = this.#memo.get(id);
      if (memo === undefined) this.#memo.set(id, (memo = new Map()));
      const known = memo?.get(text);
      if (known !== undefined) return known;
      const outcome = this.#sandbox.evaluate(id, text, limits);
      if (memo && memo.size >= MEMO_MAX) this.#memo.set(id, null);
      else memo?.set(text, outcome);
      return outcome;
    };
    return candidates
      .filter(
        ({ campaign, compiled, id }) =>
          evaluateCampaign(campaign, { game, event_name: eventName }, nowMs, () => run(compiled, id)).kind ===
          "match",
      )
      .map(({ campaign }) => campaign.campaignId);
  }
}
