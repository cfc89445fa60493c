// The soak's verdict on triggers.
//
// Stable campaigns (never changed): every expected trigger, from the pure reference, must have been read;
// none may be unexpected.
//
// Changing campaigns: which version an event met depends on timing, so their triggers are checked by what
// the engine guarantees instead. The engine routes the events of a partition in offset order against the
// campaign set of the moment, and a change applies between two routings; so along a partition the version
// an event meets never goes back. Hence:
//  - every trigger must name a version written for that campaign, and that version must match the event
//    under the pure reference (no trigger from a stale or wrong filter);
//  - along a partition, the versions in triggers never decrease;
//  - between two triggers of the same version in a partition, every event met that version (each version is
//    written once, under a source of its own, and never comes back): every one of them that the version
//    matches must have its trigger. Those are the "covered" events; a missing trigger there is a lost one.
// Events between triggers of different versions are not judged: the switch could lie anywhere in between.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign, type Campaign } from "../../src/campaigns/campaign.js";
import { FilterCompiler, type CompiledFilter } from "../../src/compile/filter-compiler.js";
import { evaluateCampaign } from "../../src/evaluation/evaluate.js";
import { EventView } from "../../src/pool/event-view.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";
import type { Written } from "./churn.js";
import { EVENT_PARTITIONS, eventJson, popcount, templateOf, type Template } from "./workload.js";

export interface StableCheck {
  readonly events: number;
  readonly expected: number;
  readonly found: number;
  readonly missing: number;
  readonly unexpected: number;
  readonly samples: string[];
}

export function checkStable(templates: readonly Template[], found: Uint32Array, events: number): StableCheck {
  let expected = 0;
  let got = 0;
  let missing = 0;
  let unexpected = 0;
  const samples: string[] = [];
  for (let n = 0; n < events; n++) {
    const want = templateOf(templates, n).stableMask;
    const have = found[n] as number;
    expected += popcount(want);
    got += popcount(have);
    const lost = want & ~have;
    const extra = have & ~want;
    missing += popcount(lost);
    unexpected += popcount(extra);
    if ((lost || extra) && samples.length < 10)
      samples.push(`event soak-${n}: expected mask ${want.toString(2)}, read ${have.toString(2)}`);
  }
  return { events, expected, found: got, missing, unexpected, samples };
}

/** One in-process sandbox holding the versions as a worker does, judged with the engine's pure rules. */
class VersionReference {
  readonly #dir = mkdtempSync(join(tmpdir(), "rtcrm-soak-ref-"));
  readonly #compiler: FilterCompiler;
  readonly #sandbox: Sandbox;
  readonly #loaded = new Map<number, { campaign: Campaign; compiled: CompiledFilter }>();
  evaluations = 0;

  constructor() {
    const engine = loadEngineModule();
    this.#compiler = new FilterCompiler(engine, join(this.#dir, "fc"));
    this.#sandbox = new Sandbox(engine);
  }

  matches(w: Written, n: number, t: Template, nowMs: number): boolean {
    let v = this.#loaded.get(w.no);
    if (!v) {
      const parsed = parseCampaign(JSON.parse(w.record as string));
      if (!parsed.ok) throw new Error(`soak campaign v${w.no} invalid: ${parsed.reasons.join("; ")}`);
      const compiled = this.#compiler.compileSync(parsed.campaign.filter);
      this.#sandbox.load(`v${w.no}`, compiled.module);
      v = { campaign: parsed.campaign, compiled };
      this.#loaded.set(w.no, v);
    }
    const { campaign, compiled } = v;
    this.evaluations++;
    return (
      evaluateCampaign(campaign, { game: t.game, event_name: t.eventName }, nowMs, () =>
        this.#sandbox.evaluate(`v${w.no}`, new EventView(eventJson(t, n)).for(compiled), {
          fuel: 1_000_000,
          memoryBytes: 16 << 20,
          deadlineMs: 1_000,
        }),
      ).kind === "match"
    );
  }

  /** Unloads every version: the next campaign's versions start from an empty sandbox. */
  release(): void {
    for (const no of this.#loaded.keys()) this.#sandbox.unload(`v${no}`);
    this.#loaded.clear();
  }

  close(): void {
    this.release();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export interface ChangingCheck {
  readonly campaigns: number;
  readonly versionsWritten: number;
  /** Versions that caused at least one trigger. */
  readonly versionsTriggered: number;
  readonly triggers: number;
  readonly duplicates: number;
  /** Triggers naming an unknown version, or a version that does not match the event. */
  readonly inconsistent: number;
  /** Places where a partition's triggers went back to an older version. */
  readonly outOfOrder: number;
  /**
   * Events of the campaign's (game, event_name) from the first to the last trigger of a run of one version
   * along a partition: each met that version, so each was judged against it.
   */
  readonly covered: number;
  readonly missing: number;
  readonly evaluations: number;
  readonly samples: string[];
}

export function checkChanging(
  templates: readonly Template[],
  changing: ReadonlyMap<number, number[]>,
  written: readonly Written[],
): ChangingCheck {
  const byNo = new Map(written.map((w) => [w.no, w]));
  const ref = new VersionReference();
  const now = Date.now();
  const triggered = new Set<number>();
  const samples: string[] = [];
  const note = (text: string) => samples.length < 20 && samples.push(text);
  let triggers = 0;
  let duplicates = 0;
  let inconsistent = 0;
  let outOfOrder = 0;
  let covered = 0;
  let missing = 0;
  try {
    for (const [campaignId, flat] of changing) {
      const pairs: { n: number; v: number }[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push({ n: flat[i] as number, v: flat[i + 1] as number });
      pairs.sort((a, b) => a.n - b.n || a.v - b.v);
      triggers += pairs.length;
      const unique: { n: number; v: number; w: Written }[] = [];
      for (const [i, p] of pairs.entries()) {
        const before = pairs[i - 1];
        if (before && before.n === p.n) {
          if (before.v === p.v) duplicates++;
          else {
            inconsistent++;
            note(`campaign ${campaignId}, event soak-${p.n}: triggers of versions ${before.v} and ${p.v}`);
          }
          continue;
        }
        const w = byNo.get(p.v);
        if (!w || w.campaignId !== campaignId || w.record === null) {
          inconsistent++;
          note(`campaign ${campaignId}, event soak-${p.n}: version ${p.v} was never written for it`);
          continue;
        }
        triggered.add(p.v);
        if (!ref.matches(w, p.n, templateOf(templates, p.n), now)) {
          inconsistent++;
          note(`campaign ${campaignId}, event soak-${p.n}: version ${p.v} does not match the event`);
          continue;
        }
        unique.push({ ...p, w });
      }
      for (let partition = 0; partition < EVENT_PARTITIONS; partition++) {
        const along = unique.filter((p) => p.n % EVENT_PARTITIONS === partition);
        let runStart = true;
        for (let i = 1; i < along.length; i++) {
          const a = along[i - 1] as (typeof along)[number];
          const b = along[i] as (typeof along)[number];
          if (b.v !== a.v) runStart = true;
          if (b.v < a.v) {
            outOfOrder++;
            note(
              `campaign ${campaignId}, partition ${partition}: v${a.v} at soak-${a.n}, then v${b.v} at soak-${b.n}`,
            );
            continue;
          }
          if (b.v !== a.v) continue;
          // Both triggers' events are judged too: each met this version.
          covered += runStart ? 2 : 1;
          runStart = false;
          for (let m = a.n + EVENT_PARTITIONS; m < b.n; m += EVENT_PARTITIONS) {
            const t = templateOf(templates, m);
            if (t.game !== a.w.game || t.eventName !== a.w.eventName) continue;
            covered++;
            // Consecutive triggers: a match in between has no trigger of its own.
            if (!ref.matches(a.w, m, t, now)) continue;
            missing++;
            note(
              `campaign ${campaignId} v${a.v}: no trigger for event soak-${m} (between soak-${a.n} and soak-${b.n})`,
            );
          }
        }
      }
      ref.release();
    }
    return {
      campaigns: changing.size,
      versionsWritten: written.filter((w) => w.record !== null).length,
      versionsTriggered: triggered.size,
      triggers,
      duplicates,
      inconsistent,
      outOfOrder,
      covered,
      missing,
      evaluations: ref.evaluations,
      samples,
    };
  } finally {
    ref.close();
  }
}
