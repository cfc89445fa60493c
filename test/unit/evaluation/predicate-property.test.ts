// The host's interpreter of predicate filters (evaluation/predicate-interpreter.ts) and the index of their first
// conjuncts (pool/route-plan.ts, pool/batch-evaluator.ts) against the sandbox, on generated filters and events
// (fast-check). The sandbox, running the filter alone on the whole event, is the reference:
//   1. whenever the interpreter decides, its answer is the sandbox's (and it never decides where the sandbox throws);
//   2. a batch evaluated by the BatchEvaluator (index, interpreter, fallback to the sandbox) gives every campaign the
//      sandbox's outcome, with the sandbox called on the whole event, and called as worker.ts calls it (through its
//      FilterRegistry: shared contexts for stateless filters, the event projected to the fields the filter reads);
//   3. what a batch works out once per event and shares (answers by predicate key, reads by read key) is not shared
//      between filters whose literals JavaScript tells apart;
//   4. examples of the rules that matter, which always run.
// The filters are drawn from the subset compile/predicate.ts recognises (reads of the event API of wasm/prelude.js
// compared with literals), the events so that those comparisons often hold, with the awkward cases mixed in: keys
// named like the prelude's methods, `__proto__`, missing data, strings that convert to numbers oddly, -0,
// infinities, integers beyond 2^53.
// RTCRM_PROPERTY_RUNS=10 multiplies the runs (a longer hunt); RTCRM_PROPERTY_SEED=<seed> replays a failure.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { Quarantine } from "../../../src/campaigns/quarantine.js";
import { FilterCompiler, type CompiledFilter } from "../../../src/compile/filter-compiler.js";
import {
  recognisePredicate,
  type Comparison,
  type PredicateLiteral,
} from "../../../src/compile/predicate.js";
import { validateFilterSource } from "../../../src/compile/validate-filter.js";
import type { FilterOutcomeKind } from "../../../src/evaluation/outcome.js";
import {
  interpretPredicate,
  PredicateEvent,
  UNDECIDED,
  type Undecided,
} from "../../../src/evaluation/predicate-interpreter.js";
import { BatchEvaluator, type SandboxCall } from "../../../src/pool/batch-evaluator.js";
import { EventView } from "../../../src/pool/event-view.js";
import { FilterRegistry } from "../../../src/pool/filter-registry.js";
import type { BatchEvent, FilterRef } from "../../../src/pool/protocol.js";
import { routePlan } from "../../../src/pool/route-plan.js";
import { decodeOutcomes, encodeEvents, type EvaluationCounts } from "../../../src/pool/wire.js";
import { loadEngineModule } from "../../../src/sandbox/engine-module.js";
import { Sandbox, type FilterOutcome, type Limits } from "../../../src/sandbox/sandbox.js";
import { filterRef } from "../../helpers/filter-ref.js";

// ---------------------------------------------------------------------------------------------------------------
// Literals: one pool for the filters and the events, so that comparisons often hold.

type Lit = PredicateLiteral;

/** Values most filters and events use: equalities hold often, and index lookups hit buckets. */
const HOT: readonly Lit[] = [5, 7, "7", "loss", "win", 0, null, true, "10", 10];
/** The values events hold most often, and index keys compare with most often. */
const HOTTEST: readonly Lit[] = [5, "loss", null, true];
const STRINGS: readonly string[] = [
  "",
  "10",
  "9",
  "1e3",
  " 7 ",
  "7",
  "5",
  "abc",
  "loss",
  "win",
  "é",
  "😀",
  "\uffff",
  "ﬀ",
  "0x10",
  "-0x10",
  "0b11",
  "Infinity",
  "-Infinity",
  "\u00a07",
  "\ufeff7",
  "\u180e7",
  "\t10\n",
  "-0",
  ".5",
  "5.",
  "+5",
  "1_0",
  "null",
  "true",
  "level",
];
const NUMBERS: readonly number[] = [
  0,
  -0,
  1,
  -1,
  5,
  7,
  9,
  10,
  1000,
  0.5,
  -2.5,
  0.1,
  0.30000000000000004,
  1e21,
  1e300,
  123456789012345,
  2 ** 53 - 1,
  5e-324,
  -1e-7,
  Infinity,
  -Infinity,
];
const OTHERS: readonly Lit[] = [true, false, null, undefined];

/** Literals, mostly from `hot` (the few values a batch or a run favours). */
const litArbOf = (hot: readonly Lit[]): fc.Arbitrary<Lit> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...hot) },
    { weight: 4, arbitrary: fc.constantFrom(...HOT) },
    { weight: 3, arbitrary: fc.constantFrom(...STRINGS) },
    { weight: 3, arbitrary: fc.constantFrom(...NUMBERS) },
    { weight: 2, arbitrary: fc.constantFrom(...OTHERS) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 3 }) },
    { weight: 1, arbitrary: fc.double({ noNaN: true }) },
    { weight: 1, arbitrary: fc.integer({ min: -20, max: 20 }) },
  );
/** The sets of values a run favours: one or two of these. */
const HOT_SETS = fc.subarray([...HOTTEST, 7, "7", 0, "10", Infinity, undefined] as Lit[], {
  minLength: 1,
  maxLength: 2,
});

// ---------------------------------------------------------------------------------------------------------------
// Filters: expression trees of the subset, printed as source.

/** Keys of the event's data: the usual ones often, the awkward ones (named like methods, `__proto__`...) now and then. */
const USUAL_KEYS = ["level", "result", "s", "n", "arr", "o"] as const;
const AWKWARD_KEYS = [
  "get",
  "size",
  "toString",
  "constructor",
  "valueOf",
  "length",
  "__proto__",
  "hasOwnProperty",
  "",
  "0",
  "containsKey",
  "getOrDefault",
  "isEmpty",
  "getData",
  "playerId",
] as const;
const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constant("level") },
  { weight: 3, arbitrary: fc.constant("result") },
  { weight: 4, arbitrary: fc.constantFrom(...USUAL_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...AWKWARD_KEYS) },
);

/** A read of the event: a chain of getters, property reads and map-method calls from the parameter. */
type Read =
  | { readonly t: "param" }
  | { readonly t: "string"; readonly value: string }
  | { readonly t: "call"; readonly of: Read; readonly method: string; readonly args: readonly Arg[] }
  | { readonly t: "member"; readonly of: Read; readonly name: string; readonly bracket: boolean };
type Arg = { readonly lit: Lit; readonly style: number };

type Expr =
  | { readonly t: "lit"; readonly lit: Lit; readonly style: number }
  | { readonly t: "read"; readonly read: Read }
  | { readonly t: "not" | "typeof" | "paren"; readonly arg: Expr }
  | { readonly t: "compare"; readonly op: Comparison; readonly left: Expr; readonly right: Expr }
  | { readonly t: "and" | "or"; readonly left: Expr; readonly right: Expr };

const PARAM: Read = { t: "param" };
const call = (of: Read, method: string, ...args: Arg[]): Read => ({ t: "call", of, method, args });
const member = (of: Read, name: string, bracket = false): Read => ({ t: "member", of, name, bracket });
const keyArg = (key: string, style = 0): Arg => ({ lit: key, style });
const styleArb = fc.nat({ max: 5 });

/** The object-valued reads filters start from (the event's data most often). */
const objectReadArb: fc.Arbitrary<Read> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(call(PARAM, "getData")) },
  { weight: 4, arbitrary: fc.constant(member(PARAM, "data")) },
  { weight: 1, arbitrary: fc.constant(member(PARAM, "data", true)) },
  { weight: 1, arbitrary: fc.constant(call(PARAM, "getContext")) },
  { weight: 1, arbitrary: fc.constant(call(PARAM, "get", keyArg("data"))) },
  { weight: 1, arbitrary: fc.constant(PARAM) },
);

/** Reads of the event's own fields (getters, bean properties, plain properties). */
const fieldReadArb: fc.Arbitrary<Read> = fc.constantFrom<Read>(
  call(PARAM, "getMarket"),
  call(PARAM, "getGame"),
  call(PARAM, "getPlayerId"),
  call(PARAM, "getEventName"),
  member(PARAM, "playerId"),
  member(PARAM, "playerId", true),
  member(PARAM, "eventName"),
  member(PARAM, "createdAt"),
  member(PARAM, "market"),
  member(PARAM, "player_id"),
  member(PARAM, "game"),
  member(PARAM, "length"),
  member(PARAM, "size"),
  call(PARAM, "get", keyArg("market")),
  call(PARAM, "getOrDefault", keyArg("game"), { lit: "foe", style: 0 }),
);

interface FilterArbs {
  readonly litArb: fc.Arbitrary<Lit>;
  readonly readArb: fc.Arbitrary<Read>;
  readonly atomArb: fc.Arbitrary<Expr>;
  readonly exprArb: fc.Arbitrary<Expr>;
  /** A filter's body: 1–3 conjuncts, the first in the index's form with probability `indexed`. */
  readonly bodyArb: (indexed: number, expr: fc.Arbitrary<Expr>) => fc.Arbitrary<Expr>;
}
const filterArbsMade = new Map<string, FilterArbs>();
const hotKey = (hot: readonly Lit[]): string =>
  hot.map((v) => `${typeof v}:${Object.is(v, -0) ? "-0" : String(v)}`).join("|");

/** The arbitraries of filter trees whose literals are mostly from `hot`. */
function filterArbsOf(hot: readonly Lit[]): FilterArbs {
  const made = filterArbsMade.get(hotKey(hot));
  if (made) return made;
  const litArb = litArbOf(hot);
  /** One step into an object: `.get(k)`, `.k`, `['k']`, `.containsKey(k)`, `.getOrDefault(k, literal)`. */
  function stepArb(of: Read, terminal: boolean): fc.Arbitrary<Read> {
    return fc.oneof(
      { weight: 5, arbitrary: fc.tuple(keyArb, styleArb).map(([k, s]) => call(of, "get", keyArg(k, s))) },
      { weight: 3, arbitrary: fc.tuple(keyArb, fc.boolean()).map(([k, b]) => member(of, k, b)) },
      {
        weight: terminal ? 2 : 0,
        arbitrary: fc.tuple(keyArb, styleArb).map(([k, s]) => call(of, "containsKey", keyArg(k, s))),
      },
      {
        weight: terminal ? 2 : 0,
        arbitrary: fc
          .tuple(keyArb, styleArb, litArb, styleArb)
          .map(([k, s, lit, ls]) => call(of, "getOrDefault", keyArg(k, s), { lit, style: ls })),
      },
    );
  }

  /** A read of a value: from the data (possibly nested in "o"), a field of the event, or `'…'.length`. */
  const readArb: fc.Arbitrary<Read> = fc.oneof(
    {
      weight: 10,
      arbitrary: fc
        .tuple(objectReadArb, fc.nat({ max: 9 }))
        .chain(([base, nest]) =>
          nest < 3
            ? fc
                .constantFrom<Read>(call(base, "get", keyArg("o")), member(base, "o"))
                .chain((o) => stepArb(o, true))
            : nest < 9
              ? stepArb(base, true)
              : fc.constant(base),
        )
        .chain((r) =>
          fc
            .nat({ max: 9 })
            .map((n) => (n === 0 ? member(r, "length", false) : n === 1 ? member(r, "0", true) : r)),
        ),
    },
    { weight: 3, arbitrary: fieldReadArb },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...STRINGS, "abc").map((value) => member({ t: "string", value }, "length")),
    },
  );

  const COMPARISONS: readonly Comparison[] = ["===", "!==", "<", "<=", ">", ">="];
  const comparisonArb: fc.Arbitrary<Comparison> = fc.oneof(
    { weight: 4, arbitrary: fc.constant<Comparison>("===") },
    { weight: 3, arbitrary: fc.constant<Comparison>("!==") },
    { weight: 3, arbitrary: fc.constantFrom(...COMPARISONS.slice(2)) },
  );
  const litExprArb: fc.Arbitrary<Expr> = fc
    .tuple(litArb, styleArb)
    .map(([lit, style]) => ({ t: "lit", lit, style }));
  const hotLitExprArb: fc.Arbitrary<Expr> = fc
    .tuple(
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...hot) },
        { weight: 1, arbitrary: fc.constantFrom(...HOT) },
      ),
      styleArb,
    )
    .map(([lit, style]) => ({ t: "lit", lit, style }));
  const readExprArb: fc.Arbitrary<Expr> = readArb.map((read) => ({ t: "read", read }));
  const TYPE_NAMES = ["string", "number", "object", "undefined", "boolean", "bigint", "function"];

  /** The leaves of the boolean structure: mostly `read <op> literal`. */
  const atomArb: fc.Arbitrary<Expr> = fc.oneof(
    {
      weight: 10,
      arbitrary: fc.tuple(readExprArb, comparisonArb, litExprArb).map(([left, op, right]) => ({
        t: "compare" as const,
        op,
        left,
        right,
      })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(litExprArb, comparisonArb, readExprArb).map(([left, op, right]) => ({
        t: "compare" as const,
        op,
        left,
        right,
      })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(readExprArb, comparisonArb, readExprArb).map(([left, op, right]) => ({
        t: "compare" as const,
        op,
        left,
        right,
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          readExprArb,
          fc.constantFrom("===", "!==") as fc.Arbitrary<Comparison>,
          fc.constantFrom(...TYPE_NAMES),
        )
        .map(([read, op, name]) => ({
          t: "compare" as const,
          op,
          left: { t: "typeof" as const, arg: read },
          right: { t: "lit" as const, lit: name, style: 0 },
        })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(litExprArb, comparisonArb, litExprArb).map(([left, op, right]) => ({
        t: "compare" as const,
        op,
        left,
        right,
      })),
    },
    { weight: 2, arbitrary: readExprArb },
    { weight: 1, arbitrary: litExprArb },
    { weight: 1, arbitrary: readExprArb.map((arg) => ({ t: "typeof" as const, arg })) },
  );

  const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
    expr: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      { weight: 6, arbitrary: atomArb },
      { weight: 1, arbitrary: tie("expr").map((arg) => ({ t: "not" as const, arg })) },
      { weight: 1, arbitrary: tie("expr").map((arg) => ({ t: "paren" as const, arg })) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom("and" as const, "or" as const), tie("expr"), tie("expr"))
          .map(([t, left, right]) => ({ t, left, right })),
      },
    ),
  })).expr;

  /** The first conjunct in the index's form, `read === literal` (either way round). */
  const indexConjunctArb: fc.Arbitrary<Expr> = fc
    .tuple(readExprArb, hotLitExprArb, fc.boolean())
    .map(([read, lit, swap]) => ({
      t: "compare",
      op: "===",
      left: swap ? lit : read,
      right: swap ? read : lit,
    }));

  /** A filter's body: 1–3 conjuncts, the first in the index's form with probability `indexed`. */
  function bodyArb(indexed: number, expr: fc.Arbitrary<Expr>): fc.Arbitrary<Expr> {
    return fc
      .tuple(
        fc.double({ min: 0, max: 1, noNaN: true }).chain((p) => (p < indexed ? indexConjunctArb : expr)),
        fc.oneof(
          { weight: 5, arbitrary: fc.constant([]) },
          { weight: 2, arbitrary: fc.array(expr, { minLength: 1, maxLength: 1 }) },
          { weight: 1, arbitrary: fc.array(expr, { minLength: 2, maxLength: 2 }) },
        ),
      )
      .map(([first, rest]) => rest.reduce<Expr>((left, right) => ({ t: "and", left, right }), first));
  }

  const arbs = { litArb, readArb, atomArb, exprArb, bodyArb };
  filterArbsMade.set(hotKey(hot), arbs);
  return arbs;
}

const PARAMS = ["event", "event", "event", "e", "ev", "_", "$", "NaN"];
const FORMS = [
  (p: string, b: string) => `function(${p}) { return ${b} }`,
  (p: string, b: string) => `function (${p}) {\n  return ${b};\n}`,
  (p: string, b: string) => `function filter(${p}) { return (${b}); }`,
  (p: string, b: string) => `(${p}) => ${b}`,
  (p: string, b: string) => `${p} => ${b}`,
  (p: string, b: string) => `(${p}) => { return ${b} }`,
  (p: string, b: string) => `${p} => (${b})`,
];

function filterArb(indexed: number, hot: readonly Lit[]): fc.Arbitrary<string> {
  const { bodyArb, exprArb } = filterArbsOf(hot);
  return fc
    .tuple(bodyArb(indexed, exprArb), fc.constantFrom(...PARAMS), fc.nat({ max: FORMS.length - 1 }))
    .map(([body, param, form]) =>
      (FORMS[form] as (p: string, b: string) => string)(param, print(body, param)),
    );
}

// Printing, with the parentheses precedence needs (and the redundant ones of "paren").
const PRIMARY = 20;
const UNARY = 15;
const PRECEDENCE: Record<Comparison | "and" | "or", number> = {
  "<": 10,
  "<=": 10,
  ">": 10,
  ">=": 10,
  "===": 9,
  "!==": 9,
  and: 5,
  or: 4,
};

function print(e: Expr, param: string): string {
  return printAt(e, param, 0);
}

/** `e` as source in a position that needs at least precedence `min`. */
function printAt(e: Expr, param: string, min: number): string {
  let text: string;
  let prec: number;
  switch (e.t) {
    case "lit":
      text = literalSource(e.lit, e.style);
      prec = text.startsWith("-") ? UNARY : PRIMARY;
      break;
    case "read":
      text = readSource(e.read, param);
      prec = PRIMARY;
      break;
    case "paren":
      text = `(${printAt(e.arg, param, 0)})`;
      prec = PRIMARY;
      break;
    case "not":
    case "typeof":
      text = `${e.t === "not" ? "!" : "typeof "}${printAt(e.arg, param, UNARY)}`;
      prec = UNARY;
      break;
    case "compare":
    case "and":
    case "or": {
      const key = e.t === "compare" ? e.op : e.t;
      prec = PRECEDENCE[key];
      const op = e.t === "compare" ? e.op : e.t === "and" ? "&&" : "||";
      text = `${printAt(e.left, param, prec)} ${op} ${printAt(e.right, param, prec + 1)}`;
      break;
    }
  }
  return prec < min ? `(${text})` : text;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function readSource(r: Read, param: string): string {
  switch (r.t) {
    case "param":
      return param;
    case "string":
      return stringSource(r.value, true);
    case "call":
      return `${readSource(r.of, param)}.${r.method}(${r.args.map((a) => literalSource(a.lit, a.style)).join(", ")})`;
    case "member":
      return r.bracket || !IDENTIFIER.test(r.name)
        ? `${readSource(r.of, param)}[${stringSource(r.name, r.of.t !== "param")}]`
        : `${readSource(r.of, param)}.${r.name}`;
  }
}

/** A literal as source; `style` picks among equivalent spellings (quotes, hexadecimal, exponent). */
function literalSource(lit: Lit, style: number): string {
  if (typeof lit === "string") return stringSource(lit, style % 2 === 1);
  if (typeof lit === "number") return numberSource(lit, style);
  return String(lit);
}

function numberSource(n: number, style: number): string {
  if (Object.is(n, -0)) return "-0";
  if (n === Infinity) return style % 2 === 0 ? "1e400" : "2e308";
  if (n < 0) return `-${numberSource(-n, style)}`;
  if (style === 1 && Number.isSafeInteger(n)) return `0x${n.toString(16)}`;
  if (style === 2) return n.toExponential();
  return String(n);
}

/** A string literal in double quotes (JSON's escapes) or single quotes. */
function stringSource(s: string, single: boolean): string {
  const quote = single ? "'" : '"';
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (c < 0x20 || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c <= 0xdfff) || c === 0x7f)
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + quote;
}

// ---------------------------------------------------------------------------------------------------------------
// Events: JSON text written by hand, so that it can hold -0, infinities, other spellings of numbers, `__proto__`
// keys and integers beyond 2^53.

class Raw {
  constructor(readonly text: string) {}
}
class Obj {
  constructor(readonly entries: readonly (readonly [string, Json])[]) {}
}
type Json = string | number | boolean | null | Raw | Obj | readonly Json[];

function toJson(v: Json): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj)
    return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(",")}}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(",")}]`;
  if (typeof v === "number") {
    if (Object.is(v, -0)) return "-0";
    if (v === Infinity) return "1e400";
    if (v === -Infinity) return "-1e400";
  }
  return JSON.stringify(v);
}

/** Other spellings of numbers (both parsers must round them alike). */
const RAW_NUMBERS = [
  "1E3",
  "1000.0",
  "5e-1",
  "-0.0",
  "7.0",
  "70e-1",
  "0.7e1",
  "1e400",
  "-1e400",
  "0.1000000000000000055511151231257827",
  "2.2250738585072011e-308",
  "1.0000000000000002",
  "0.30000000000000004",
  "4.9e-324",
  "123456789012345.6",
];
/** Integers beyond 2^53 (and 2^53 - 1, which the host cannot tell from them by its digits). */
const BIG_NUMBERS = [
  "9007199254740993",
  "-9007199254740993",
  "12345678901234567890",
  "9007199254740992",
  "9007199254740991",
];

const MISSING = Symbol("missing");

/** Numbers of 16 digits and more make the host leave the event to the sandbox: kept for BIG_NUMBERS. */
const EVENT_NUMBERS = NUMBERS.filter((n) => !/\d{16}/.test(toJson(n)));

/** An object with some of `keys`, each present with its probability in percent. */
function objArb(keys: readonly (readonly [string, fc.Arbitrary<Json>, number])[]): fc.Arbitrary<Obj> {
  return fc
    .tuple(
      ...keys.map(([, arb, percent]) =>
        fc.oneof(
          { weight: 100 - percent, arbitrary: fc.constant<typeof MISSING>(MISSING) },
          { weight: percent, arbitrary: arb },
        ),
      ),
    )
    .map(
      (values) =>
        new Obj(
          values.flatMap((v, i) =>
            v === MISSING ? [] : [[(keys[i] as (typeof keys)[number])[0], v] as const],
          ),
        ),
    );
}

/** Top-level keys named like the event's getters, bean properties and map methods, rarely present. */
const TOP_AWKWARD = [
  "get",
  "getData",
  "getMarket",
  "playerId",
  "size",
  "toString",
  "__proto__",
  "containsKey",
  "length",
];
const bigArb: fc.Arbitrary<Json> = fc.constantFrom(...BIG_NUMBERS).map((t) => new Raw(t));

/**
 * Events whose values are drawn mostly from `hot` (the literals the filters compare with most often): the same
 * shapes for any `hot`, so that a batch can make its events and its index keys agree often.
 */
function eventArbOf(hot: readonly Lit[]): fc.Arbitrary<string> {
  const values = hot.filter((v) => v !== undefined); // undefined: a missing key
  const hotArb = fc.constantFrom(...(values.length > 0 ? values : HOTTEST)) as fc.Arbitrary<Json>;
  const scalarArb: fc.Arbitrary<Json> = fc.oneof(
    { weight: 10, arbitrary: hotArb },
    { weight: 8, arbitrary: fc.constantFrom(...HOT).map((v) => v as Json) },
    { weight: 3, arbitrary: fc.constantFrom(...STRINGS) },
    { weight: 3, arbitrary: fc.constantFrom(...EVENT_NUMBERS) },
    { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_NUMBERS).map((t) => new Raw(t)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 3 }) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, min: -1e12, max: 1e12 }) },
  );
  const arrayArb: fc.Arbitrary<Json> = fc.array(scalarArb, { maxLength: 3 });
  /** A nested object ("o", the context): the usual keys, and now and then a key named like a method. */
  const innerArb: fc.Arbitrary<Json> = objArb([
    ...USUAL_KEYS.filter((k) => k !== "o" && k !== "arr").map((k) => [k, scalarArb, 60] as const),
    ...AWKWARD_KEYS.map((k) => [k, scalarArb, 2] as const),
  ]);
  const dataValueArb = (key: string): fc.Arbitrary<Json> =>
    key === "o"
      ? fc.oneof(
          { weight: 12, arbitrary: innerArb },
          { weight: 1, arbitrary: scalarArb },
          { weight: 1, arbitrary: arrayArb },
        )
      : key === "arr"
        ? fc.oneof({ weight: 3, arbitrary: arrayArb }, { weight: 1, arbitrary: scalarArb })
        : fc.oneof(
            { weight: key === "level" || key === "result" ? 120 : 0, arbitrary: hotArb },
            { weight: 60, arbitrary: scalarArb },
            { weight: 3, arbitrary: arrayArb },
            { weight: 3, arbitrary: innerArb },
            { weight: 1, arbitrary: bigArb },
          );
  const dataArb: fc.Arbitrary<Json> = fc.oneof(
    {
      weight: 30,
      arbitrary: objArb([
        ...USUAL_KEYS.map((k) => [k, dataValueArb(k), k === "o" || k === "level" ? 85 : 70] as const),
        ...AWKWARD_KEYS.map((k) => [k, dataValueArb(k), 2] as const),
      ]),
    },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: arrayArb },
    { weight: 1, arbitrary: scalarArb },
  );
  return objArb([
    ["schema_version", fc.constant("2023110110010101"), 60],
    ["game", fc.oneof({ weight: 6, arbitrary: fc.constant("foe") }, { weight: 1, arbitrary: scalarArb }), 85],
    ["event_name", fc.constant("fight"), 85],
    [
      "market",
      fc.oneof(
        { weight: 3, arbitrary: hotArb },
        { weight: 2, arbitrary: fc.constantFrom("de", "7", "loss", 5) },
        { weight: 2, arbitrary: scalarArb },
      ),
      70,
    ],
    [
      "player_id",
      fc.oneof(
        { weight: 12, arbitrary: hotArb },
        { weight: 12, arbitrary: scalarArb },
        { weight: 1, arbitrary: bigArb },
      ),
      70,
    ],
    ["created_at", fc.constant("2023-11-20T11:00:00.00Z"), 60],
    ["context", innerArb, 70],
    ["data", dataArb, 95],
    ...TOP_AWKWARD.map((k) => [k, scalarArb, 2] as const),
  ]).map(toJson);
}

// ---------------------------------------------------------------------------------------------------------------
// The engine: one compiler and one sandbox for the whole file, each filter compiled and loaded once.

const engine = loadEngineModule();
const compiler = new FilterCompiler(
  engine,
  join(mkdtempSync(join(tmpdir(), "rtcrm-predicate-")), "filters-compiled"),
);
const sandbox = new Sandbox(engine);
const LIMITS: Limits = { fuel: 1_000_000, memoryBytes: 16 * 1024 * 1024, deadlineMs: 1_000 };

interface Loaded {
  readonly compiled: CompiledFilter;
  /** The sandbox id of the reference run: the filter alone, in a context of its own. */
  readonly id: string;
}
/**
 * Filters loaded in the sandbox, least recently used first. Only the latest are kept: every context a sandbox holds
 * slows down its garbage collections, and a run generates thousands of filters.
 */
const loaded = new Map<string, Loaded>();
const MAX_LOADED = 100;

function load(source: string): Loaded {
  let l = loaded.get(source);
  if (l) {
    loaded.delete(source);
  } else {
    const compiled = compiler.compileSync(source);
    const id = `ref:${compiled.hash}`;
    const result = sandbox.load(id, compiled.module);
    assert.ok(result.ok, `${source}: ${result.ok ? "" : result.message}`);
    l = { compiled, id };
  }
  loaded.set(source, l);
  for (const [k, v] of loaded) {
    if (loaded.size <= MAX_LOADED) break;
    loaded.delete(k);
    sandbox.unload(v.id);
  }
  return l;
}

/** The sandbox's answer for `source` on the whole event `json`: the reference. */
function reference(source: string, json: string): FilterOutcome {
  return sandbox.evaluate(load(source).id, json, LIMITS);
}

/** The interpreter's answer as the engine computes it (batch-evaluator.ts): UNDECIDED when root() is null. */
function interpreted(source: string, json: string): boolean | Undecided {
  const { predicate } = load(source).compiled;
  assert.ok(predicate, `not a predicate filter: ${source}`);
  const root = new EventView(json).root();
  return root ? interpretPredicate(predicate.expr, new PredicateEvent(root)) : UNDECIDED;
}

const show = (answer: boolean | Undecided): string => (answer === UNDECIDED ? "UNDECIDED" : String(answer));
const describeOutcome = (o: FilterOutcome): string => (o.message ? `${o.kind} (${o.message})` : o.kind);
const pct = (n: number, of: number): string => `${((100 * n) / Math.max(of, 1)).toFixed(1)}%`;

/** Runs scaled by RTCRM_PROPERTY_RUNS (a factor, e.g. 10 for a long hunt); the seed by RTCRM_PROPERTY_SEED. */
const SCALE = Number(process.env.RTCRM_PROPERTY_RUNS ?? "1");
const SEED =
  process.env.RTCRM_PROPERTY_SEED === undefined ? undefined : Number(process.env.RTCRM_PROPERTY_SEED);
const params = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns: Math.max(1, Math.round(numRuns * SCALE)),
  ...(SEED === undefined ? {} : { seed: SEED }),
});

// ---------------------------------------------------------------------------------------------------------------
// 1. The interpreter gives the sandbox's answer whenever it decides.

test("the interpreter's answer is the sandbox's whenever it decides (property)", (t) => {
  const stats = {
    filters: 0,
    accepted: 0,
    pairs: 0,
    matches: 0,
    decided: 0,
    decidedTrue: 0,
    undecidedThrew: 0,
    bigRoot: 0,
  };
  const rejected: string[] = [];
  fc.assert(
    fc.property(
      HOT_SETS.chain((hot) =>
        fc.tuple(filterArb(0.5, hot), fc.array(eventArbOf(hot), { minLength: 1, maxLength: 6 })),
      ),
      ([source, events]) => {
        stats.filters++;
        let compiled: CompiledFilter;
        try {
          compiled = load(source).compiled;
        } catch (error) {
          rejected.push(`${source}: ${String(error)}`);
          return;
        }
        if (!compiled.predicate) {
          rejected.push(source);
          return;
        }
        stats.accepted++;
        for (const json of events) {
          stats.pairs++;
          const outcome = reference(source, json);
          const answer = interpreted(source, json);
          if (outcome.kind === "match") stats.matches++;
          if (answer === UNDECIDED) {
            if (outcome.kind === "threw") stats.undecidedThrew++;
            if (new EventView(json).root() === null) stats.bigRoot++;
            continue;
          }
          stats.decided++;
          if (answer) stats.decidedTrue++;
          const expected =
            outcome.kind === "match" ? true : outcome.kind === "no-match" ? false : outcome.kind;
          assert.equal(
            answer,
            expected,
            `the interpreter disagrees with the sandbox\n  filter:      ${source}\n  event:       ${json}\n` +
              `  sandbox:     ${describeOutcome(outcome)}\n  interpreter: ${show(answer)}`,
          );
        }
      },
    ),
    { ...params(400), includeErrorInReport: true },
  );
  t.diagnostic(
    `filters: ${stats.filters}, accepted as predicates: ${stats.accepted} (${pct(stats.accepted, stats.filters)})`,
  );
  t.diagnostic(
    `pairs: ${stats.pairs}, matched in the sandbox: ${stats.matches} (${pct(stats.matches, stats.pairs)}), ` +
      `decided by the interpreter: ${stats.decided} (${pct(stats.decided, stats.pairs)}, ${stats.decidedTrue} of them true); ` +
      `undecided where the sandbox threw: ${stats.undecidedThrew}; undecided for events with big integers: ${stats.bigRoot}`,
  );
  assert.ok(
    stats.accepted >= 0.95 * stats.filters,
    `only ${stats.accepted} of ${stats.filters} generated filters are predicates:\n${rejected.slice(0, 10).join("\n")}`,
  );
  assert.ok(
    stats.decided >= 0.5 * stats.pairs,
    `the interpreter decided only ${stats.decided} of ${stats.pairs} pairs`,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// 2. A batch (index, interpreter, fallback to the sandbox) gives every campaign the sandbox's outcome.

/** Filters for the index: mostly `read === literal && …`, over few reads and few literals, so that they group. */
const indexReadArbOf = (hot: readonly Lit[]): fc.Arbitrary<Read> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(call(call(PARAM, "getData"), "get", keyArg("level"))) },
    { weight: 3, arbitrary: fc.constant(call(call(PARAM, "getData"), "get", keyArg("result"))) },
    { weight: 3, arbitrary: fc.constant(member(member(PARAM, "data"), "level")) },
    { weight: 2, arbitrary: fc.constant(call(PARAM, "getMarket")) },
    { weight: 2, arbitrary: fc.constant(member(PARAM, "playerId")) },
    { weight: 1, arbitrary: fc.constant(call(call(PARAM, "getData"), "containsKey", keyArg("level"))) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...HOTTEST, Infinity), styleArb)
        .map(([lit, style]) => call(call(PARAM, "getData"), "getOrDefault", keyArg("level"), { lit, style })),
    },
    { weight: 2, arbitrary: filterArbsOf(hot).readArb },
  );
/** Filters whose first conjunct is an index key, with literals mostly from `hot`, so that events hit buckets. */
const indexedFilterArbOf = (hot: readonly Lit[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      indexReadArbOf(hot),
      fc.oneof(
        { weight: 14, arbitrary: fc.constantFrom(...hot) },
        { weight: 2, arbitrary: fc.constantFrom<Lit>(7, "7", 0, Infinity, undefined) },
        { weight: 1, arbitrary: filterArbsOf(hot).litArb },
      ),
      fc.boolean(),
      fc.array(filterArbsOf(hot).atomArb, { maxLength: 1 }),
      fc.constantFrom(...PARAMS),
      fc.nat({ max: FORMS.length - 1 }),
    )
    .map(([read, lit, swap, rest, param, form]) => {
      const l: Expr = { t: "lit", lit, style: 0 };
      const r: Expr = { t: "read", read };
      const first: Expr = { t: "compare", op: "===", left: swap ? l : r, right: swap ? r : l };
      const body = rest.reduce<Expr>((left, right) => ({ t: "and", left, right }), first);
      return (FORMS[form] as (p: string, b: string) => string)(param, print(body, param));
    });
const batchFilterArbOf = (hot: readonly Lit[]): fc.Arbitrary<string> =>
  fc.oneof({ weight: 4, arbitrary: indexedFilterArbOf(hot) }, { weight: 1, arbitrary: filterArb(0.5, hot) });

/**
 * A batch: 1–40 campaigns whose filters are drawn from a pool of up to 16 (campaigns sharing a filter share its
 * answer and its sandbox call), 1–4 events, and one or two candidate lists (subsets of the campaigns, in any order).
 */
const batchArb = fc
  .subarray([...HOTTEST, 7, "7", Infinity, undefined] as Lit[], { minLength: 1, maxLength: 2 })
  .chain((hot) =>
    fc.tuple(
      fc.array(batchFilterArbOf(hot), { minLength: 1, maxLength: 16 }),
      fc.array(eventArbOf(hot), { minLength: 1, maxLength: 4 }),
    ),
  )
  .chain(([pool, events]) =>
    fc
      .array(fc.constantFrom(...pool), { minLength: 1, maxLength: 40, size: "medium" })
      .map((filters) => ({ filters, events })),
  )
  .chain(({ filters, events }) =>
    fc
      .array(fc.shuffledSubarray([...filters.keys()], { minLength: 1 }), { minLength: 1, maxLength: 2 })
      .chain((lists) =>
        fc
          .array(fc.nat({ max: lists.length - 1 }), { minLength: events.length, maxLength: events.length })
          .map((listOf) => ({ filters, events, lists, listOf })),
      ),
  );

/**
 * How a batch's filters reach the sandbox: the call the BatchEvaluator makes, and what is done with the filters of the
 * batch's routes before it (a worker registers those it is sent) and after it (a worker trims what it holds).
 */
interface SandboxPath {
  readonly call: SandboxCall;
  readonly before?: (refs: readonly FilterRef[]) => void;
  readonly after?: () => void;
}

/** The filters a worker holds and its sandbox call, as worker.ts makes them (shared contexts, projected events). */
const workerFilters = new FilterRegistry(sandbox, MAX_LOADED);
/** Registers `refs` as a worker registers the filters it is sent whole (a new version replaces the old one). */
function workerTakes(refs: readonly FilterRef[]): void {
  for (const ref of refs) workerFilters.register(ref);
}
/** The reference for the worker's path: its sandbox call, on the filters it registered. */
const workerPath: SandboxPath = {
  call: workerFilters.call,
  before: workerTakes,
  after: () => workerFilters.trim([]),
};
/** The filter run alone on the whole event: what the batch must agree with. */
const wholeEventCall: SandboxCall = (ref, view) => ({
  outcome: sandbox.evaluate(load(ref.campaign.filter).id, view.json, LIMITS),
  micros: 0,
});
const wholeEventPath: SandboxPath = { call: wholeEventCall };

/** Campaign `id` with filter `source`, as the engine hands it to a worker; its rules never skip an event. */
function campaignRef(id: number, source: string): FilterRef {
  const parsed = parseCampaign({
    campaign_id: id,
    enabled: true,
    game: "foe",
    event_name: "fight",
    filter: source,
  });
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return filterRef(parsed.campaign, load(source).compiled, LIMITS);
}

interface BatchStats {
  batches: number;
  filters: number;
  indexKeys: number;
  lookups: number;
  lookupsDecided: number;
  hits: number;
  counts: EvaluationCounts;
}

interface Batch {
  /** Each campaign's filter source (campaign i + 1). */
  readonly filters: readonly string[];
  readonly events: readonly string[];
  /** Routes (lists of positions into `filters`: the campaigns routed), and each event's route. */
  readonly lists: readonly (readonly number[])[];
  readonly listOf: readonly number[];
}

/** Evaluates `b` with a BatchEvaluator calling the sandbox through `path`, and checks it against the reference. */
function checkBatch({ filters, events, lists, listOf }: Batch, path: SandboxPath, stats: BatchStats): void {
  stats.batches++;
  const refs: FilterRef[] = filters.map((source, i) => campaignRef(i + 1, source));
  stats.filters += refs.length;
  stats.indexKeys += refs.filter((r) => r.predicate?.index).length;
  // Each list as the route the campaign set would hand out: one array of the campaigns, shared by its events.
  const routes: (readonly FilterRef[])[] = lists.map((list) => list.map((pos) => refs[pos] as FilterRef));
  const routeIndex = new Map(routes.map((route, r) => [route, r]));
  const batch: BatchEvent[] = events.map((json, i) => ({
    json,
    game: "foe",
    eventName: "fight",
    nowMs: 1_700_000_000_000,
    route: routes[listOf[i] as number] as readonly FilterRef[],
  }));

  // The plan partitions the route: each position in exactly one group or in the rest.
  for (const route of routes) {
    const plan = routePlan(route, true);
    const seen = [...plan.rest, ...plan.groups.flatMap((g) => g.all)].sort((a, b) => a - b);
    assert.deepEqual(seen, [...route.keys()], "the route plan must visit every candidate position once");
    for (const g of plan.groups)
      assert.deepEqual(
        [...g.buckets.values()].flat().sort((a, b) => a - b),
        [...g.all].sort((a, b) => a - b),
      );
  }
  for (const [i, json] of events.entries()) {
    const root = new EventView(json).root();
    const pe = root ? new PredicateEvent(root) : null;
    for (const g of routePlan(batch[i]?.route ?? [], true).groups) {
      stats.lookups++;
      const value = pe ? pe.read(g.readKey, g.read) : UNDECIDED;
      if (value === UNDECIDED) continue;
      stats.lookupsDecided++;
      if (g.buckets.has(value as Lit)) stats.hits++;
    }
  }

  path.before?.([...new Set(routes.flat())]);
  const evaluator = new BatchEvaluator(path.call, new Quarantine({ after: 1_000_000, windowMs: 60_000 }));
  const wire = evaluator.evaluate(
    routes.map((route) => evaluator.plan(route)),
    encodeEvents(batch, (route) => routeIndex.get(route) as number),
  );
  path.after?.();
  for (const k of Object.keys(stats.counts) as (keyof EvaluationCounts)[]) stats.counts[k] += wire.counts[k];
  const rows = decodeOutcomes(wire, batch.length);
  for (const [i, e] of batch.entries()) {
    const got = new Map<number, FilterOutcomeKind>();
    for (const { candidate, outcome } of rows[i] ?? []) {
      assert.ok(!got.has(candidate), `position ${candidate} reported twice`);
      got.set(candidate, outcome.kind);
    }
    for (const [pos, ref] of e.route.entries()) {
      const source = ref.campaign.filter;
      const expected = reference(source, e.json);
      const actual = got.get(pos) ?? "no-match";
      if (actual !== expected.kind) {
        const others = e.route.map((r) => `    ${r.campaign.filter}`).join("\n");
        assert.fail(
          `the batch disagrees with the sandbox run alone\n  filter:  ${source}\n  event:   ${e.json}\n` +
            `  sandbox: ${describeOutcome(expected)}\n  batch:   ${actual}` +
            (expected.kind !== "threw" ? ` (interpreter alone: ${show(interpreted(source, e.json))})` : "") +
            `\n  the batch's filters:\n${others}`,
        );
      }
    }
  }
}

const batchProperty = (path: SandboxPath, stats: BatchStats) =>
  fc.property(batchArb, (batch) => checkBatch(batch, path, stats));

const newBatchStats = (): BatchStats => ({
  batches: 0,
  filters: 0,
  indexKeys: 0,
  lookups: 0,
  lookupsDecided: 0,
  hits: 0,
  counts: { routed: 0, indexed: 0, skipped: 0, interpreted: 0, sandboxCalls: 0, shared: 0, quarantined: 0 },
});

function reportBatch(t: { diagnostic: (m: string) => void }, s: BatchStats): void {
  const c = s.counts;
  t.diagnostic(
    `batches: ${s.batches}, filters: ${s.filters}, with an index key: ${s.indexKeys} (${pct(s.indexKeys, s.filters)})`,
  );
  t.diagnostic(
    `index lookups: ${s.lookups}, decided: ${s.lookupsDecided}, hit a bucket: ${s.hits} (${pct(s.hits, s.lookupsDecided)} of decided)`,
  );
  t.diagnostic(
    `pairs routed: ${c.routed}, left out by the index: ${c.indexed} (${pct(c.indexed, c.routed)}), ` +
      `interpreted: ${c.interpreted} (${pct(c.interpreted, c.routed)}), sandbox calls: ${c.sandboxCalls}, shared: ${c.shared}`,
  );
}

test("a batch gives every campaign the outcome of its filter run alone on the whole event (property)", (t) => {
  const stats = newBatchStats();
  fc.assert(batchProperty(wholeEventPath, stats), { ...params(70), includeErrorInReport: true });
  reportBatch(t, stats);
  assert.ok(stats.indexKeys >= 0.5 * stats.filters, "too few generated filters have an index key");
  assert.ok(stats.hits >= 0.15 * stats.lookupsDecided, "too few index lookups hit a bucket");
});

test("the worker's path (shared contexts, projected events) gives the same outcomes (property)", (t) => {
  const stats = newBatchStats();
  fc.assert(batchProperty(workerPath, stats), { ...params(40), includeErrorInReport: true });
  reportBatch(t, stats);
});

// ---------------------------------------------------------------------------------------------------------------
// 3. Campaigns on one event share what is worked out once: an answer per predicate key, a read per read key. Filters
//    that differ only in literals JavaScript tells apart must not share them.

/** Literals that JavaScript tells apart but that are easy to confuse (in text, under ===, as Map keys). */
const SIBLINGS: readonly (readonly Lit[])[] = [
  [null, undefined, Infinity, -Infinity],
  [0, -0, "0", "", false, "-0"],
  [1, "1", true, 1.0000000000000002],
  [5, "5", " 5 ", "5.0"],
  ["loss", "Loss", "loss ", "loss\u0000"],
  [1e21, "1e21", "1e+21", 1e21 + 2 ** 20],
];

function mapLiterals(e: Expr, f: (lit: Lit) => Lit): Expr {
  switch (e.t) {
    case "lit":
      return { ...e, lit: f(e.lit) };
    case "read":
      return { t: "read", read: mapReadLiterals(e.read, f) };
    case "not":
    case "typeof":
    case "paren":
      return { t: e.t, arg: mapLiterals(e.arg, f) };
    case "compare":
      return { ...e, left: mapLiterals(e.left, f), right: mapLiterals(e.right, f) };
    case "and":
    case "or":
      return { t: e.t, left: mapLiterals(e.left, f), right: mapLiterals(e.right, f) };
  }
}

/** The fallbacks of getOrDefault (the keys stay). */
function mapReadLiterals(r: Read, f: (lit: Lit) => Lit): Read {
  switch (r.t) {
    case "param":
    case "string":
      return r;
    case "member":
      return { ...r, of: mapReadLiterals(r.of, f) };
    case "call":
      return {
        ...r,
        of: mapReadLiterals(r.of, f),
        args: r.args.map((a, i) => (r.method === "getOrDefault" && i === 1 ? { ...a, lit: f(a.lit) } : a)),
      };
  }
}

/** 2–5 campaigns whose filters are one tree with literals swapped among siblings, on events holding the siblings. */
const siblingsArb: fc.Arbitrary<Batch> = fc.constantFrom(...SIBLINGS).chain((group) => {
  const { atomArb, bodyArb, exprArb } = filterArbsOf(group);
  return fc
    .record({
      body: fc.oneof(
        { weight: 2, arbitrary: atomArb },
        {
          weight: 2,
          arbitrary: fc
            .tuple(fc.constantFrom("and" as const, "or" as const), atomArb, atomArb)
            .map(([t, left, right]): Expr => ({ t, left, right })),
        },
        { weight: 1, arbitrary: bodyArb(0.5, exprArb) },
      ),
      param: fc.constantFrom(...PARAMS),
      form: fc.nat({ max: FORMS.length - 1 }),
      picks: fc.array(fc.array(fc.nat({ max: 2 * group.length - 1 }), { minLength: 8, maxLength: 8 }), {
        minLength: 2,
        maxLength: 5,
      }),
      events: fc.array(eventArbOf(group), { minLength: 1, maxLength: 3 }),
    })
    .map(({ body, param, form, picks, events }) => {
      const filters = picks.map((choices) => variantOf(body, group, choices, param, form));
      return { filters, events, lists: [[...filters.keys()]], listOf: events.map(() => 0) };
    });
});

/** `body` with its literals replaced by members of `group` where `choices` says so, as a filter source. */
function variantOf(
  body: Expr,
  group: readonly Lit[],
  choices: readonly number[],
  param: string,
  form: number,
): string {
  let n = 0;
  const variant = mapLiterals(body, (lit) => {
    const c = choices[n++ % choices.length] as number;
    return c < group.length ? group[c] : lit;
  });
  return (FORMS[form] as (p: string, b: string) => string)(param, print(variant, param));
}

/** Whether two recognised trees are the same, literals compared with Object.is. */
function sameTree(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b);
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return (
    keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && sameTree(x[k], y[k]))
  );
}

test("equal predicate keys and read keys are equal trees, literals compared with Object.is (property)", (t) => {
  let equalKeys = 0;
  let equalReadKeys = 0;
  const pairArb = fc.constantFrom(...SIBLINGS).chain((group) => {
    const choices = fc.array(fc.nat({ max: 2 * group.length - 1 }), { minLength: 8, maxLength: 8 });
    const { bodyArb, exprArb } = filterArbsOf(group);
    return fc
      .tuple(bodyArb(0.5, exprArb), choices, choices)
      .map(
        ([body, a, b]) =>
          [variantOf(body, group, a, "event", 0), variantOf(body, group, b, "event", 0)] as const,
      );
  });
  fc.assert(
    fc.property(pairArb, ([a, b]) => {
      const pa = recognisePredicate(validateFilterSource(a).fn);
      const pb = recognisePredicate(validateFilterSource(b).fn);
      assert.ok(pa && pb, `not predicates: ${a} / ${b}`);
      if (pa.key === pb.key) {
        equalKeys++;
        assert.ok(
          sameTree(pa.expr, pb.expr),
          `different filters with one predicate key:\n  ${a}\n  ${b}\n  key: ${pa.key}`,
        );
      }
      if (pa.index && pb.index && pa.index.readKey === pb.index.readKey) {
        equalReadKeys++;
        assert.ok(
          sameTree(pa.index.read, pb.index.read),
          `different reads with one read key:\n  ${a}\n  ${b}\n  read key: ${pa.index.readKey}`,
        );
      }
    }),
    { ...params(3000), includeErrorInReport: true },
  );
  t.diagnostic(`pairs with equal predicate keys: ${equalKeys}, with equal index read keys: ${equalReadKeys}`);
});

test("campaigns whose filters differ only in literals get their own answers in a batch (property)", (t) => {
  const stats = newBatchStats();
  fc.assert(
    fc.property(siblingsArb, (batch) => {
      checkBatch(batch, wholeEventPath, stats);
    }),
    { ...params(60), includeErrorInReport: true },
  );
  reportBatch(t, stats);
});

// ---------------------------------------------------------------------------------------------------------------
// 4. Examples that always run.

function agree(source: string, json: string): { sandbox: FilterOutcome; interpreter: boolean | Undecided } {
  return { sandbox: reference(source, json), interpreter: interpreted(source, json) };
}

test("a data key named like a method shadows it: the sandbox throws, the interpreter does not decide", () => {
  const r = agree(
    "function(event) { return event.getData().get('level') === 5 }",
    '{"data":{"get":1,"level":5}}',
  );
  assert.equal(r.sandbox.kind, "threw");
  assert.equal(r.interpreter, UNDECIDED);
  const top = agree("e => e.getData().get('level') === 5", '{"getData":1,"data":{"level":5}}');
  assert.equal(top.sandbox.kind, "threw");
  assert.equal(top.interpreter, UNDECIDED);
});

test("getData() of an event without data is null: a read of it throws, the interpreter does not decide", () => {
  const r = agree("function(event) { return event.getData().get('level') === 5 }", '{"game":"foe"}');
  assert.equal(r.sandbox.kind, "threw");
  assert.equal(r.interpreter, UNDECIDED);
  const isNull = agree("e => e.getData() === null", '{"game":"foe"}');
  assert.deepEqual([isNull.sandbox.kind, isNull.interpreter], ["match", true]);
});

test("relational comparisons convert strings to numbers as JavaScript does", () => {
  const cases: [string, boolean][] = [
    ["e => '10' < 9", false],
    ["e => '10' > 9", true],
    ["e => e.data.s < 9", false],
    ["e => e.data.s >= 10", true],
    ["e => e.data.s > '9'", false],
    ["e => e.data.s < 'a'", true],
  ];
  for (const [source, expected] of cases) {
    const r = agree(source, '{"data":{"s":"10"}}');
    assert.deepEqual([r.sandbox.kind, r.interpreter], [expected ? "match" : "no-match", expected], source);
  }
  for (const [s, expected] of [
    [" 7 ", true],
    ["7e0", true],
    ["0x7", true],
    ["-0x7", false],
    ["", false],
    ["\ufeff7", true],
    ["\u180e7", false],
  ] as const) {
    const source = `e => e.data.s <= 7 && e.data.s >= 7`;
    const r = agree(source, JSON.stringify({ data: { s } }));
    assert.deepEqual(
      [r.sandbox.kind, r.interpreter],
      [expected ? "match" : "no-match", expected],
      JSON.stringify(s),
    );
  }
});

test("-0 equals 0, in filters and in events", () => {
  for (const [source, json] of [
    ["e => -0 === 0", "{}"],
    ["e => e.data.n === 0", '{"data":{"n":-0}}'],
    ["e => e.data.n === -0", '{"data":{"n":0}}'],
    ["e => e.data.n <= 0 && e.data.n >= -0", '{"data":{"n":-0.0}}'],
  ]) {
    const r = agree(source as string, json as string);
    assert.deepEqual([r.sandbox.kind, r.interpreter], ["match", true], source);
  }
});

test("typeof null is 'object'", () => {
  for (const source of [
    "e => typeof null === 'object'",
    "e => typeof e.data.k === 'object'",
    "e => typeof e.getData().get('k') === 'object'",
  ]) {
    const r = agree(source, '{"data":{"k":null}}');
    assert.deepEqual([r.sandbox.kind, r.interpreter], ["match", true], source);
  }
  const missing = agree("e => typeof e.data.k", '{"data":{}}');
  assert.deepEqual([missing.sandbox.kind, missing.interpreter], ["no-match", false]);
});

test("an event with an integer beyond 2^53 goes to the sandbox whole", () => {
  const json = '{"player_id":9007199254740993,"data":{"level":5}}';
  assert.equal(new EventView(json).root(), null);
  const r = agree("e => typeof e.playerId === 'bigint'", json);
  assert.deepEqual([r.sandbox.kind, r.interpreter], ["match", UNDECIDED]);
  const level = agree("e => e.getData().get('level') === 5", json);
  assert.deepEqual([level.sandbox.kind, level.interpreter], ["match", UNDECIDED]);
});

test("1e400 and null are different literals: campaigns comparing with them do not share answers or reads", () => {
  const batch = (filters: string[], json: string): Batch => ({
    filters,
    events: [json],
    lists: [[...filters.keys()]],
    listOf: [0],
  });
  const key = (source: string): string | undefined => load(source).compiled.predicate?.key;
  assert.notEqual(key("e => e.data.k !== null"), key("e => e.data.k !== 1e400"));
  assert.notEqual(key("e => e.data.k !== -1e400"), key("e => e.data.k !== 1e400"));
  const stats = newBatchStats();
  // Not index keys (!==): both are interpreted, and their answers are kept per predicate key.
  checkBatch(
    batch(["e => e.data.k !== null", "e => e.data.k !== 1e400"], '{"data":{"k":null}}'),
    wholeEventPath,
    stats,
  );
  // One index group: the value of the read is kept per read key, and the fallback is part of the read.
  checkBatch(
    batch(
      ["e => e.data.getOrDefault('k', null) === 1e400", "e => e.data.getOrDefault('k', 1e400) === 1e400"],
      '{"data":{}}',
    ),
    wholeEventPath,
    stats,
  );
});

test("the worker's sandbox call gives the answer the filter gives on the whole event", () => {
  for (const [source, json] of [
    // A key named like a method must stay in the projection: it hides the method.
    ["e => e.getData().get('level') === 5", '{"data":{"get":1,"level":5}}'],
    ["e => e.getData().get('level') === 5", '{"getData":1,"data":{"level":5}}'],
    ["e => e.playerId === 5", '{"playerId":5,"player_id":6}'],
    // A number beyond the doubles is Infinity in both parsers; JSON.stringify writes it as null.
    ["e => e.getData().get('level') === 1e400", '{"data":{"level":1e400}}'],
    ["e => e.data.level < -1e308", '{"data":{"level":-1e400}}'],
  ]) {
    const expected = reference(source as string, json as string);
    const ref = campaignRef(1, source as string);
    workerTakes([ref]);
    const worker = workerFilters.call(ref, new EventView(json as string)).outcome;
    assert.equal(
      worker.kind,
      expected.kind,
      `${source} on ${json}: whole event ${describeOutcome(expected)}`,
    );
  }
});
