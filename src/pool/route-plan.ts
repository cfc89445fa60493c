// How a worker evaluates the campaigns of one route (planned once per route it is sent): predicate filters whose first
// conjunct is `<read> === <literal>` are grouped by that read and bucketed by the literal, so that a thousand
// campaigns of the form `getData().get('level') === N` cost one read and one lookup per event; every other
// candidate is visited in turn.
import type { PredicateExpr, PredicateLiteral } from "../compile/predicate.js";
import type { FilterRef } from "./protocol.js";

/** Candidates indexed by the value one read must have for them to match. */
export interface IndexGroup {
  readonly readKey: string;
  readonly read: PredicateExpr;
  /** Literal -> positions (in the candidate list) of the campaigns whose first conjunct compares with it. */
  readonly buckets: Map<PredicateLiteral, number[]>;
  /** Every position of the group: visited whole when the host cannot read the value. */
  readonly all: number[];
}

export interface RoutePlan {
  readonly groups: readonly IndexGroup[];
  /** Positions visited for every event (not indexed). */
  readonly rest: readonly number[];
}

/** The plan of a route's filters (positions index `filters`); `indexed` false visits every one. */
export function routePlan(filters: readonly FilterRef[], indexed: boolean): RoutePlan {
  const groups = new Map<string, IndexGroup>();
  const rest: number[] = [];
  for (let pos = 0; pos < filters.length; pos++) {
    const key = indexed ? filters[pos]?.predicate?.index : null;
    if (!key) {
      rest.push(pos);
      continue;
    }
    let group = groups.get(key.readKey);
    if (!group) {
      group = { readKey: key.readKey, read: key.read, buckets: new Map(), all: [] };
      groups.set(key.readKey, group);
    }
    group.all.push(pos);
    const bucket = group.buckets.get(key.value);
    if (bucket) bucket.push(pos);
    else group.buckets.set(key.value, [pos]);
  }
  // A group of one saves nothing over a visit.
  const kept: IndexGroup[] = [];
  for (const group of groups.values()) {
    if (group.all.length > 1) kept.push(group);
    else rest.push(...group.all);
  }
  rest.sort((a, b) => a - b);
  return { groups: kept, rest };
}

/** Route lists by identity -> their id: a route crosses to a worker whole once, then by its id. */
export class RouteIds {
  readonly #ids = new WeakMap<readonly FilterRef[], number>();
  #next = 1;

  of(route: readonly FilterRef[]): number {
    let id = this.#ids.get(route);
    if (id === undefined) {
      id = this.#next++;
      this.#ids.set(route, id);
    }
    return id;
  }
}
