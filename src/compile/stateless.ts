// Whether a filter provably keeps no state between calls, decided from its checked syntax tree. Such a filter gives
// the same answer for the same event every time, in any context: campaigns on one route whose filters have the
// same source (and the same limits) are evaluated once per event and the answer fanned out (pool/route-plan.ts).
//
// State between calls can only live in something that outlives the call: a global, a built-in or its prototype
// (shared by every call in the filter's context), the prelude's methods and prototypes, the function object of the
// filter itself, or a closure made by top-level code. The rules close each door, conservatively: a filter they
// refuse is evaluated per campaign, as before.
// 1. The filter is one function expression (validation ensures it): no top-level code runs before it, so it has
//    no closure state.
// 2. No property is written or deleted anywhere (`a.b = …`, `a[b]++`, `delete a.b`, destructuring into a member):
//    every object a filter can reach that outlives the call is reached through a property.
// 3. No property named `constructor`, `prototype`, `__proto__`, `__defineGetter__`, `__defineSetter__`,
//    `__lookupGetter__`, `__lookupSetter__`, `call`, `apply`, `bind`, `caller`, `callee` is named, and a computed key
//    is a literal or a numeric `for` counter: the filter cannot reach the Function constructor or a prototype.
// 4. Free names are only `undefined`, `NaN`, `Infinity`, `isNaN`, `isFinite`, `parseInt`, `parseFloat`, and the
//    listed pure members of `Math`, `JSON`, `Number`, `String` and `Array` (not `Math.random`, no `Date`): no
//    global object, no nondeterminism. `typeof x` of any name reads nothing.
// 5. No `this` (an arrow's `this` at the top is the global object).
// 6. No method named like one that changes an array in place (push, pop, shift, unshift, splice, sort, reverse,
//    fill, copyWithin) is called: stateless filters of one event share one decoded copy of it, frozen.
// The sandbox backs the rules up: stateless filters share one context whose built-ins and prototypes are frozen.
import { declaredNames, isReference, isTypeofOperand, walk, type AstNode } from "./validate-filter.js";

const FORBIDDEN_KEYS = new Set([
  "constructor",
  "prototype",
  "__proto__",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "call",
  "apply",
  "bind",
  "caller",
  "callee",
]);

const MUTATORS = new Set([
  "push",
  "pop",
  "shift",
  "unshift",
  "splice",
  "sort",
  "reverse",
  "fill",
  "copyWithin",
]);

const FREE_VALUES = new Set(["undefined", "NaN", "Infinity", "isNaN", "isFinite", "parseInt", "parseFloat"]);

const PURE_MEMBERS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  [
    "Math",
    new Set(
      Object.getOwnPropertyNames(Math).filter((name) => name !== "random" && !FORBIDDEN_KEYS.has(name)),
    ),
  ],
  ["JSON", new Set(["parse", "stringify"])],
  [
    "Number",
    new Set([
      "isInteger",
      "isFinite",
      "isNaN",
      "isSafeInteger",
      "parseFloat",
      "parseInt",
      "MAX_SAFE_INTEGER",
      "MIN_SAFE_INTEGER",
      "EPSILON",
      "MAX_VALUE",
      "MIN_VALUE",
      "POSITIVE_INFINITY",
      "NEGATIVE_INFINITY",
      "NaN",
    ]),
  ],
  ["String", new Set(["fromCharCode", "fromCodePoint"])],
  ["Array", new Set(["isArray"])],
]);

/** Whether the validated filter `fn` provably keeps no state between calls (see the rules above). */
export function isStateless(fn: AstNode): boolean {
  const declared = declaredNames(fn);
  const counters = numericCounters(fn);
  let stateless = true;
  walk(fn, (n, parent) => {
    if (!stateless) return;
    switch (n.type) {
      case "ThisExpression":
        stateless = false;
        return;
      case "AssignmentExpression":
      case "UpdateExpression":
        if (writesProperty((n.type === "AssignmentExpression" ? n.left : n.argument) as AstNode))
          stateless = false;
        return;
      case "ForInStatement":
      case "ForOfStatement":
        if (writesProperty(n.left as AstNode)) stateless = false;
        return;
      case "UnaryExpression":
        if (n.operator === "delete" && (n.argument as AstNode).type === "MemberExpression") stateless = false;
        return;
      case "MemberExpression":
        if (!safeKey(n, counters)) stateless = false;
        return;
      case "CallExpression": {
        const callee = n.callee as AstNode;
        if (callee.type !== "MemberExpression") return;
        const property = callee.property as AstNode;
        const name = callee.computed === true ? property.value : property.name;
        if (typeof name === "string" && MUTATORS.has(name)) stateless = false;
        return;
      }
      case "Property":
        // An object literal's `__proto__: x` sets its prototype; computed keys may name anything.
        if (n.computed === true || keyName(n.key as AstNode) === "__proto__") stateless = false;
        return;
      case "Identifier": {
        const name = n.name as string;
        if (!isReference(n, parent) || declared.has(name) || isTypeofOperand(n, parent)) return;
        if (FREE_VALUES.has(name)) return;
        const members = PURE_MEMBERS.get(name);
        const member = parent?.type === "MemberExpression" && parent.object === n ? parent : null;
        const property = member && member.computed !== true ? (member.property as AstNode) : null;
        if (!members || property?.type !== "Identifier" || !members.has(property.name as string))
          stateless = false;
        return;
      }
    }
  });
  return stateless;
}

/** Whether an assignment target (or destructuring pattern) writes a property. */
function writesProperty(target: AstNode): boolean {
  let writes = false;
  walk(target, (n, parent) => {
    if (n.type !== "MemberExpression") return;
    // `[a[0]] = …` writes a[0]; but in `[x = a.b] = …` the member is a default value, which is only read.
    if (parent?.type === "AssignmentPattern" && parent.right === n) return;
    writes = true;
  });
  return writes;
}

function keyName(key: AstNode): string | null {
  if (key.type === "Identifier") return key.name as string;
  return key.type === "Literal" ? String(key.value) : null;
}

function safeKey(member: AstNode, counters: ReadonlySet<string>): boolean {
  const property = member.property as AstNode;
  if (member.computed !== true) return !FORBIDDEN_KEYS.has(property.name as string);
  if (property.type === "Literal") {
    return (
      typeof property.value === "number" ||
      (typeof property.value === "string" && !FORBIDDEN_KEYS.has(property.value))
    );
  }
  return property.type === "Identifier" && counters.has(property.name as string);
}

/**
 * Names of `for (let i = <number>; …; i++)` counters that nothing else assigns: always numbers, so `a[i]` can only
 * read an element, never a property such as `constructor`.
 */
function numericCounters(fn: AstNode): Set<string> {
  const candidates = new Set<string>();
  walk(fn, (n) => {
    if (n.type !== "ForStatement") return;
    const init = n.init as AstNode | null;
    if (init?.type !== "VariableDeclaration" || init.kind !== "let") return;
    for (const d of init.declarations as AstNode[]) {
      const id = d.id as AstNode;
      const value = d.init as AstNode | null;
      if (id.type === "Identifier" && value?.type === "Literal" && typeof value.value === "number")
        candidates.add(id.name as string);
    }
  });
  // Any other binding or assignment of the name (another declaration, `i = "x"`, `i += s`) disqualifies it.
  const declarations = new Map<string, number>();
  walk(fn, (n) => {
    if (n.type === "VariableDeclarator" && (n.id as AstNode).type === "Identifier") {
      const name = (n.id as AstNode).name as string;
      declarations.set(name, (declarations.get(name) ?? 0) + 1);
    }
    if (n.type === "AssignmentExpression") {
      const left = n.left as AstNode;
      const numeric =
        (n.operator === "+=" || n.operator === "-=") &&
        (n.right as AstNode).type === "Literal" &&
        typeof (n.right as AstNode).value === "number";
      walk(left, (m) => {
        if (m.type === "Identifier" && !numeric) candidates.delete(m.name as string);
      });
    }
    if (
      n.type === "FunctionExpression" ||
      n.type === "ArrowFunctionExpression" ||
      n.type === "FunctionDeclaration"
    )
      for (const p of n.params as AstNode[])
        walk(p, (m) => {
          if (m.type === "Identifier") candidates.delete(m.name as string);
        });
    if (n.type === "CatchClause" && n.param) candidates.delete((n.param as AstNode).name as string);
  });
  for (const [name, count] of declarations) if (count > 1) candidates.delete(name);
  return candidates;
}
