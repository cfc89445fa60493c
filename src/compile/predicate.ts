// Predicate filters: the decidable subset of filters, recognised from the checked syntax tree. A filter that only
// compares event fields with literals (`===`, `!==`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`, `typeof`, the event's
// getters, `get`/`containsKey`/`getOrDefault` with a literal key, plain property reads) is turned into a small tree
// of plain data that the host interprets (evaluation/predicate-interpreter.ts): no user code runs outside the
// sandbox, and the interpreter hands any case it does not model exactly back to the sandbox.
// Its first conjunct, when it is `<read> === <literal>`, is the filter's index key: campaigns on one route whose
// keys read the same field are found by one lookup of that field's value (pool/route-plan.ts).
import { EVENT_FIELDS } from "./field-access.js";
import type { AstNode } from "./validate-filter.js";

/** A literal of the subset (a number literal with a leading minus included). */
export type PredicateLiteral = string | number | boolean | null | undefined;

export type Comparison = "===" | "!==" | "<" | "<=" | ">" | ">=";

/** The tree the interpreter runs: plain data, so that it crosses to the workers by structured clone. */
export type PredicateExpr =
  | { readonly op: "literal"; readonly value: PredicateLiteral }
  /** The event itself (the filter's parameter). */
  | { readonly op: "event" }
  /** `event.getPlayerId()`: the event's field, null when absent. */
  | { readonly op: "getter"; readonly method: string; readonly field: string }
  /** `event.playerId`: the bean property of a snake_case field. */
  | { readonly op: "bean"; readonly name: string; readonly field: string }
  /** `x.name` or `x['name']`. */
  | { readonly op: "property"; readonly of: PredicateExpr; readonly name: string }
  /** `x.get('k')`, `x.containsKey('k')`, `x.getOrDefault('k', literal)`. */
  | { readonly op: "get"; readonly of: PredicateExpr; readonly key: string }
  | { readonly op: "containsKey"; readonly of: PredicateExpr; readonly key: string }
  | {
      readonly op: "getOrDefault";
      readonly of: PredicateExpr;
      readonly key: string;
      readonly fallback: PredicateLiteral;
    }
  | { readonly op: "not"; readonly arg: PredicateExpr }
  | { readonly op: "typeof"; readonly arg: PredicateExpr }
  | {
      readonly op: "compare";
      readonly comparison: Comparison;
      readonly left: PredicateExpr;
      readonly right: PredicateExpr;
    }
  | { readonly op: "and" | "or"; readonly left: PredicateExpr; readonly right: PredicateExpr };

/** An equality of the filter's first conjunct: campaigns are indexed by `value` under the read's `readKey`. */
export interface PredicateIndexKey {
  /** Canonical text of the read: equal texts read the same value of an event. */
  readonly readKey: string;
  readonly read: PredicateExpr;
  readonly value: PredicateLiteral;
}

export interface Predicate {
  readonly expr: PredicateExpr;
  /** Canonical text of the whole tree: filters with equal texts give equal answers for every event. */
  readonly key: string;
  readonly index: PredicateIndexKey | null;
}

const COMPARISONS = new Set<string>(["===", "!==", "<", "<=", ">", ">="]);
const camel = (f: string): string => f.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
/** getGame -> game, ...; and the bean properties playerId -> player_id (as wasm/prelude.js defines them). */
const GETTERS = new Map(EVENT_FIELDS.map((f) => [`get${camel(f)[0]?.toUpperCase()}${camel(f).slice(1)}`, f]));
const BEANS = new Map(EVENT_FIELDS.filter((f) => camel(f) !== f).map((f) => [camel(f), f]));

/** The subset's tree of `fn` (a validated filter), or null when the filter is outside the subset. */
export function recognisePredicate(fn: AstNode): Predicate | null {
  const params = fn.params as AstNode[];
  const param = params[0];
  if (params.length !== 1 || param?.type !== "Identifier") return null;
  const name = param.name as string;
  if (name === "undefined") return null;
  const body = fn.body as AstNode;
  let returned: AstNode;
  if (fn.expression === true) {
    returned = body;
  } else {
    const statements = body.body as AstNode[];
    const only = statements[0];
    if (statements.length !== 1 || only?.type !== "ReturnStatement" || !only.argument) return null;
    returned = only.argument as AstNode;
  }
  const expr = expression(returned, name);
  if (!expr) return null;
  return { expr, key: JSON.stringify(expr, literalText), index: indexKey(expr) };
}

/**
 * JSON.stringify replacer that keeps apart what JSON would merge: `undefined`, -0, and the infinities (written as
 * null by JSON).
 */
function literalText(_key: string, value: unknown): unknown {
  if (value === undefined) return { undefined: true };
  if (typeof value === "number" && (Object.is(value, -0) || !Number.isFinite(value)))
    return { number: Object.is(value, -0) ? "-0" : String(value) };
  return value;
}

function expression(n: AstNode, param: string): PredicateExpr | null {
  switch (n.type) {
    case "Literal":
      return literal(n);
    case "Identifier":
      if (n.name === param) return { op: "event" };
      // `undefined` is not a keyword, but the filter cannot rebind it: its only binding is its parameter.
      return n.name === "undefined" ? { op: "literal", value: undefined } : null;
    case "UnaryExpression": {
      if (n.operator === "-") {
        const arg = n.argument as AstNode;
        return arg.type === "Literal" && typeof arg.value === "number"
          ? { op: "literal", value: -arg.value }
          : null;
      }
      if (n.operator !== "!" && n.operator !== "typeof") return null;
      const arg = expression(n.argument as AstNode, param);
      return arg && { op: n.operator === "!" ? "not" : "typeof", arg };
    }
    case "BinaryExpression": {
      if (!COMPARISONS.has(n.operator as string)) return null;
      const left = expression(n.left as AstNode, param);
      const right = left && expression(n.right as AstNode, param);
      return right && { op: "compare", comparison: n.operator as Comparison, left: left!, right };
    }
    case "LogicalExpression": {
      if (n.operator !== "&&" && n.operator !== "||") return null;
      const left = expression(n.left as AstNode, param);
      const right = left && expression(n.right as AstNode, param);
      return right && { op: n.operator === "&&" ? "and" : "or", left: left!, right };
    }
    case "MemberExpression": {
      const name = staticName(n);
      if (name === null || n.optional === true) return null;
      const of = expression(n.object as AstNode, param);
      if (!of) return null;
      const field = of.op === "event" ? BEANS.get(name) : undefined;
      return field !== undefined ? { op: "bean", name, field } : { op: "property", of, name };
    }
    case "CallExpression":
      return call(n, param);
    default:
      return null;
  }
}

function literal(n: AstNode): PredicateExpr | null {
  if (n.regex !== undefined || n.bigint !== undefined) return null;
  const v = n.value;
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean")
    return { op: "literal", value: v };
  return null;
}

function staticName(member: AstNode): string | null {
  const property = member.property as AstNode;
  if (member.computed !== true) return property.type === "Identifier" ? (property.name as string) : null;
  return property.type === "Literal" && typeof property.value === "string" ? property.value : null;
}

function call(n: AstNode, param: string): PredicateExpr | null {
  const callee = n.callee as AstNode;
  if (callee.type !== "MemberExpression" || n.optional === true || callee.optional === true) return null;
  const method = staticName(callee);
  if (method === null) return null;
  const of = expression(callee.object as AstNode, param);
  if (!of) return null;
  const args = n.arguments as AstNode[];
  const field = GETTERS.get(method);
  if (field !== undefined)
    return of.op === "event" && args.length === 0 ? { op: "getter", method, field } : null;
  const first = args[0];
  if (first?.type !== "Literal" || typeof first.value !== "string") return null;
  const key = first.value;
  if (method === "get" || method === "containsKey") return args.length === 1 ? { op: method, of, key } : null;
  if (method === "getOrDefault" && args.length === 2) {
    const fallback = expression(args[1] as AstNode, param);
    return fallback?.op === "literal" ? { op: "getOrDefault", of, key, fallback: fallback.value } : null;
  }
  return null;
}

/** Whether the expression reads the event and nothing else (no literal, no operator). */
function isRead(e: PredicateExpr): boolean {
  switch (e.op) {
    case "event":
    case "getter":
    case "bean":
      return true;
    case "property":
    case "get":
    case "containsKey":
    case "getOrDefault":
      return isRead(e.of);
    default:
      return false;
  }
}

/**
 * The first conjunct when it is `read === literal` (either way round). Only the first: it is always evaluated, so
 * when it is false the filter answers false, and when its read cannot be decided by the host, the filter goes to
 * the sandbox whole. A later conjunct could be preceded by one that throws.
 */
function indexKey(expr: PredicateExpr): PredicateIndexKey | null {
  let first = expr;
  while (first.op === "and") first = first.left;
  if (first.op !== "compare" || first.comparison !== "===") return null;
  const [read, lit] = first.right.op === "literal" ? [first.left, first.right] : [first.right, first.left];
  if (lit.op !== "literal" || !isRead(read)) return null;
  return { readKey: JSON.stringify(read, literalText), read, value: lit.value };
}
