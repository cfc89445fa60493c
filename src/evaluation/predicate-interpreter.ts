// The host's interpreter of predicate filters (compile/predicate.ts). It gives exactly the sandbox's answer, or
// UNDECIDED when the case is one it does not model (a method shadowed by a key of the event, a read of null, a
// comparison that would convert an object, an event with integers beyond 2^53): the filter then goes to the
// sandbox for that event. It runs on the event as V8's JSON.parse gives it, the same values QuickJS builds from the
// same text. A property test (test/unit/evaluation/predicate-property.test.ts) holds the two to the same answers.
import type { PredicateExpr } from "../compile/predicate.js";

export const UNDECIDED: unique symbol = Symbol("undecided");
export type Undecided = typeof UNDECIDED;

type Json = Record<string, unknown>;

/** Names the sandbox's objects inherit (wasm/prelude.js and Object.prototype): a read of one is not modelled. */
const INHERITED = new Set<string>([
  ...Object.getOwnPropertyNames(Object.prototype),
  "get",
  "containsKey",
  "getOrDefault",
  "containsValue",
  "size",
  "isEmpty",
  "keySet",
  "values",
  "entrySet",
]);

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null;

/**
 * One event as the interpreter reads it, with the values of reads already made (filters on one route read the
 * same fields: `getData().get('level')` is looked up once per event however many campaigns compare it).
 */
export class PredicateEvent {
  readonly root: Json;
  readonly #reads = new Map<string, unknown>();

  constructor(root: Json) {
    this.root = root;
  }

  /** The value of read `expr`, whose canonical text is `readKey`. */
  read(readKey: string, expr: PredicateExpr): unknown {
    let v = this.#reads.get(readKey);
    if (v === undefined && !this.#reads.has(readKey)) {
      v = evaluate(expr, this.root);
      this.#reads.set(readKey, v);
    }
    return v;
  }
}

/** The filter's answer: true for a match (the filter returned boolean true), false for no match, or UNDECIDED. */
export function interpretPredicate(expr: PredicateExpr, event: PredicateEvent): boolean | Undecided {
  const v = evaluate(expr, event.root);
  return v === UNDECIDED ? UNDECIDED : v === true;
}

/** The value of `e` for the event `root`, or UNDECIDED. */
function evaluate(e: PredicateExpr, root: Json): unknown {
  switch (e.op) {
    case "literal":
      return e.value;
    case "event":
      return root;
    case "getter":
      if (hasOwn(root, e.method)) return UNDECIDED; // a key of the event shadows the getter
      return hasOwn(root, e.field) ? root[e.field] : null;
    case "bean":
      if (hasOwn(root, e.name)) return root[e.name];
      return hasOwn(root, e.field) ? root[e.field] : null;
    case "property": {
      const of = evaluate(e.of, root);
      return of === UNDECIDED ? UNDECIDED : property(of, e.name, of === root);
    }
    case "get":
    case "containsKey":
    case "getOrDefault": {
      const of = evaluate(e.of, root);
      if (!isObject(of) || Array.isArray(of) || hasOwn(of, e.op) || e.key.startsWith("__")) return UNDECIDED;
      if (e.op === "containsKey") return hasOwn(of, e.key);
      if (hasOwn(of, e.key)) return of[e.key];
      return e.op === "get" ? null : e.fallback;
    }
    case "not": {
      const v = evaluate(e.arg, root);
      return v === UNDECIDED ? UNDECIDED : !v;
    }
    case "typeof": {
      const v = evaluate(e.arg, root);
      return v === UNDECIDED ? UNDECIDED : typeof v;
    }
    case "and":
    case "or": {
      const left = evaluate(e.left, root);
      if (left === UNDECIDED) return UNDECIDED;
      if (e.op === "and" ? !left : left) return left;
      return evaluate(e.right, root);
    }
    case "compare": {
      const left = evaluate(e.left, root);
      if (left === UNDECIDED) return UNDECIDED;
      const right = evaluate(e.right, root);
      if (right === UNDECIDED) return UNDECIDED;
      return compare(e.comparison, left, right);
    }
  }
}

function property(of: unknown, name: string, isRoot: boolean): unknown {
  if (name.startsWith("__")) return UNDECIDED;
  if (typeof of === "string") return name === "length" ? of.length : UNDECIDED;
  if (!isObject(of)) return UNDECIDED; // null, undefined: TypeError; numbers and booleans: their prototypes
  if (hasOwn(of, name)) return of[name];
  if (Array.isArray(of) || INHERITED.has(name) || (isRoot && /^get[A-Z]/.test(name))) return UNDECIDED;
  return undefined;
}

function compare(comparison: string, a: unknown, b: unknown): unknown {
  switch (comparison) {
    case "===":
      return a === b;
    case "!==":
      return a !== b;
  }
  // Relational comparisons of an object convert it (valueOf, toString): not modelled.
  if (isObject(a) || isObject(b)) return UNDECIDED;
  const x = a as number;
  const y = b as number;
  switch (comparison) {
    case "<":
      return x < y;
    case "<=":
      return x <= y;
    case ">":
      return x > y;
    default:
      return x >= y;
  }
}
