// One batch in a worker: for every event, the campaigns of its route, evaluated as cheaply as their filters allow.
//   1. Predicate filters indexed by their first conjunct are found by one read and one lookup (route-plan.ts);
//      the others of the index group cannot match and are not visited.
//   2. A visited campaign is checked against the rules before the filter (enabled, dates).
//   3. A predicate filter is answered by the host's interpreter, once per event and distinct predicate.
//   4. Any other filter, or a predicate the interpreter cannot decide for this event, is called in the sandbox;
//      campaigns whose stateless filters share a key share one call per event.
import { Quarantine } from "../campaigns/quarantine.js";
import { skipReason, type EventHead } from "../evaluation/evaluate.js";
import type { FilterOutcome } from "../evaluation/outcome.js";
import { interpretPredicate, PredicateEvent, UNDECIDED } from "../evaluation/predicate-interpreter.js";
import { EventView } from "./event-view.js";
import type { FilterRef } from "./protocol.js";
import { routePlan, type RoutePlan } from "./route-plan.js";

/** A route as a worker keeps it: its filters in campaign order, and its plan (BatchEvaluator.plan). */
export interface PlannedRoute {
  readonly filters: readonly FilterRef[];
  readonly plan: RoutePlan;
}
import {
  noCounts,
  OutcomeWriter,
  type EvaluationCounts,
  type WireEvents,
  type WireOutcomes,
} from "./wire.js";

/** Calls `ref`'s filter in the sandbox on `view`'s event; `micros` is the call's time (NaN when none was made). */
export type SandboxCall = (ref: FilterRef, view: EventView) => { outcome: FilterOutcome; micros: number };

export interface BatchEvaluatorOptions {
  /** Index predicate filters by their first conjunct (default true; false visits every campaign). */
  readonly indexed?: boolean;
  /** Interpret predicate filters on the host (default true; false calls the sandbox for every filter). */
  readonly interpreted?: boolean;
  /** Share one call between campaigns with the same stateless filter (default true). */
  readonly shared?: boolean;
}

const MATCH: FilterOutcome = Object.freeze({ kind: "match", fuelUsed: 0 });
const NO_MATCH: FilterOutcome = Object.freeze({ kind: "no-match", fuelUsed: 0 });

export class BatchEvaluator {
  readonly #call: SandboxCall;
  readonly #quarantine: Quarantine;
  readonly #indexed: boolean;
  readonly #interpreted: boolean;
  readonly #shared: boolean;

  constructor(call: SandboxCall, quarantine: Quarantine, options: BatchEvaluatorOptions = {}) {
    this.#call = call;
    this.#quarantine = quarantine;
    this.#indexed = options.indexed ?? true;
    this.#interpreted = options.interpreted ?? true;
    this.#shared = options.shared ?? true;
  }

  /** A route's filters with their plan, made once per route a worker is sent. */
  plan(filters: readonly FilterRef[]): PlannedRoute {
    return { filters, plan: routePlan(filters, this.#indexed && this.#interpreted) };
  }

  /** The reported pairs of `events`, whose routeOf indexes `routes`. */
  evaluate(routes: readonly PlannedRoute[], events: WireEvents): WireOutcomes {
    const counts = noCounts();
    const writer = new OutcomeWriter();
    const { texts, heads, headOf, nowMs, routeOf } = events;
    for (let i = 0; i < texts.length; i++) {
      const route = routes[routeOf[i] as number];
      if (!route) throw new Error(`event ${i} names route ${routeOf[i]} of ${routes.length}`);
      const { filters: candidates, plan } = route;
      const h = headOf[i] as number;
      const head: EventHead = { game: heads[2 * h] as string, event_name: heads[2 * h + 1] as string };
      const event = new EventScope(texts[i] as string, this.#interpreted);
      counts.routed += candidates.length;
      const reported: { pos: number; outcome: FilterOutcome; micros: number }[] = [];
      const visit = (pos: number): void => {
        const ref = candidates[pos] as FilterRef;
        if (skipReason(ref.campaign, head, nowMs[i] as number) !== null) {
          counts.skipped++;
          return;
        }
        const { outcome, micros } = this.#decide(ref, event, counts);
        if (outcome.kind !== "no-match" || !Number.isNaN(micros)) reported.push({ pos, outcome, micros });
      };
      for (const group of plan.groups) {
        const root = event.predicateEvent();
        const value = root ? root.read(group.readKey, group.read) : UNDECIDED;
        if (value === UNDECIDED) {
          for (const pos of group.all) visit(pos);
          continue;
        }
        const hits = group.buckets.get(value as never);
        counts.indexed += group.all.length - (hits?.length ?? 0);
        if (hits) for (const pos of hits) visit(pos);
      }
      for (const pos of plan.rest) visit(pos);
      // In campaign order, as the route lists them: an event's triggers go out in that order.
      if (reported.length > 1) reported.sort((a, b) => a.pos - b.pos);
      for (const r of reported) writer.add(i, r.pos, r.outcome, r.micros);
    }
    return writer.finish(counts);
  }

  #decide(
    ref: FilterRef,
    event: EventScope,
    counts: EvaluationCounts,
  ): { outcome: FilterOutcome; micros: number } {
    const key = ref.campaign.versionKey;
    const reason = this.#quarantine.reason(key);
    if (reason !== undefined) {
      counts.quarantined++;
      return { outcome: { kind: "quarantined", fuelUsed: 0, message: reason }, micros: Number.NaN };
    }
    const predicate = ref.predicate;
    const root = predicate ? event.predicateEvent() : null;
    if (predicate && root) {
      let answer = event.answers.get(predicate.key);
      if (answer === undefined) {
        answer = interpretPredicate(predicate.expr, root);
        event.answers.set(predicate.key, answer);
      }
      if (answer !== UNDECIDED) {
        counts.interpreted++;
        return { outcome: answer ? MATCH : NO_MATCH, micros: Number.NaN };
      }
    }
    const share = this.#shared ? ref.shareKey : null;
    const earlier = share === null ? undefined : event.calls.get(share);
    let result: { outcome: FilterOutcome; micros: number };
    if (earlier) {
      counts.shared++;
      result = { outcome: earlier.outcome, micros: Number.NaN };
    } else {
      counts.sandboxCalls++;
      result = this.#call(ref, event.view);
      if (share !== null) event.calls.set(share, result);
    }
    this.#quarantine.strike(key, result.outcome);
    return result;
  }
}

/** What is worked out once per event and shared by its campaigns. */
class EventScope {
  readonly view: EventView;
  /** Predicate key -> the interpreter's answer. */
  readonly answers = new Map<string, boolean | typeof UNDECIDED>();
  /** Share key -> the sandbox call made for it. */
  readonly calls = new Map<string, { outcome: FilterOutcome; micros: number }>();
  readonly #interpreted: boolean;
  #root: PredicateEvent | null | undefined;

  constructor(json: string, interpreted: boolean) {
    this.view = new EventView(json);
    this.#interpreted = interpreted;
  }

  /** The event for the interpreter; null when its filters must run in the sandbox. */
  predicateEvent(): PredicateEvent | null {
    if (this.#root === undefined) {
      const root = this.#interpreted ? this.view.root() : null;
      this.#root = root ? new PredicateEvent(root) : null;
    }
    return this.#root;
  }
}
