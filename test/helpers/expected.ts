// Expected triggers from the pure evaluation function and an in-process sandbox: the reference
// against which the engine's output through Kafka is compared.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign, type Campaign } from "../../src/campaigns/campaign.js";
import { FilterCompiler } from "../../src/compile/filter-compiler.js";
import { evaluateCampaign } from "../../src/evaluation/evaluate.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";

export class Reference {
  readonly #engine = loadEngineModule();
  readonly #compiler = new FilterCompiler(
    this.#engine,
    join(mkdtempSync(join(tmpdir(), "rtcrm-ref-")), "fc"),
  );
  readonly #sandbox = new Sandbox(this.#engine.module, { engineVersion: this.#engine.version });
  readonly campaigns: Campaign[] = [];

  constructor(campaignRecords: unknown[]) {
    for (const record of campaignRecords) {
      const parsed = parseCampaign(record);
      if (!parsed.ok) throw new Error(`reference campaign invalid: ${parsed.reasons.join("; ")}`);
      const compiled = this.#compiler.compileSync(parsed.campaign.filter);
      this.#sandbox.load(parsed.campaign.versionKey, compiled.module);
      this.campaigns.push(parsed.campaign);
    }
  }

  /** Campaign ids that match `eventJson` at `nowMs`, in campaign id order. */
  matches(
    eventJson: string,
    nowMs: number,
    limits = { fuel: 1_000_000, memoryBytes: 16 * 1024 * 1024 },
  ): number[] {
    const event = JSON.parse(eventJson) as { game: string; event_name: string };
    return this.campaigns
      .filter(
        (c) =>
          evaluateCampaign(c, event, nowMs, () => this.#sandbox.evaluate(c.versionKey, eventJson, limits))
            .kind === "match",
      )
      .map((c) => c.campaignId)
      .sort((a, b) => a - b);
  }
}
