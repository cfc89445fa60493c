// Checks a filter's source before it reaches QuickJS, with positions a CRM manager can act on:
// it must be exactly one function (`function(event) {...}` or an arrow), in the ES2020 that the
// sandbox's QuickJS understands, in strict mode, and use nothing the sandbox forbids.
import * as acorn from "acorn";
import { FilterError, type SourcePosition } from "../errors.js";

/**
 * Host globals a filter might reach for; none exists in the sandbox, so naming one is an error at compile time
 * (except as the operand of `typeof`, which reads nothing).
 */
const FORBIDDEN_GLOBALS: ReadonlyMap<string, string> = new Map([
  ["require", "modules cannot be loaded in a filter"],
  ["module", "modules cannot be loaded in a filter"],
  ["exports", "modules cannot be loaded in a filter"],
  ["process", "a filter cannot reach the host process"],
  ["Buffer", "a filter cannot reach the host"],
  ["WebAssembly", "a filter cannot create WebAssembly modules"],
  ["fetch", "a filter cannot use the network"],
  ["XMLHttpRequest", "a filter cannot use the network"],
  ["setTimeout", "a filter cannot use timers: it must answer synchronously"],
  ["setInterval", "a filter cannot use timers: it must answer synchronously"],
  ["setImmediate", "a filter cannot use timers: it must answer synchronously"],
  ["queueMicrotask", "a filter must answer synchronously"],
  ["eval", "eval is not allowed in a filter"],
  ["Function", "the Function constructor is not allowed in a filter"],
  ["std", "the QuickJS std module is not available"],
  ["os", "the QuickJS os module is not available"],
]);

// The source is parsed inside this prefix so that strict-mode rules apply, as in the seed's Nashorn.
const PREFIX = '"use strict"; (';

export interface ValidatedFilter {
  /** Names of the function's parameters, e.g. ["event"]. */
  readonly params: readonly string[];
  /** The function's syntax tree (acorn ESTree). */
  readonly fn: AstNode;
}

function positionOf(offset: number, source: string): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export type AstNode = acorn.Node & Record<string, unknown>;
type Node = AstNode;

/** Every node below `node`, with the scope-declared names seen on the way (enough to tell free identifiers). */
export function walk(
  node: Node,
  visit: (n: Node, parent: Node | null) => void,
  parent: Node | null = null,
): void {
  visit(node, parent);
  for (const key of Object.keys(node)) {
    if (key === "loc" || key === "start" || key === "end" || key === "type") continue;
    const child = node[key];
    if (Array.isArray(child)) {
      for (const c of child)
        if (c && typeof c === "object" && typeof (c as Node).type === "string") walk(c as Node, visit, node);
    } else if (child && typeof child === "object" && typeof (child as Node).type === "string") {
      walk(child as Node, visit, node);
    }
  }
}

/** Whether identifier `node` (under `parent`) refers to a variable, rather than naming a property or a label. */
export function isReference(node: Node, parent: Node | null): boolean {
  if (!parent) return true;
  switch (parent.type) {
    case "MemberExpression":
      return parent.object === node || parent.computed === true;
    case "Property":
      return parent.value === node && parent.shorthand !== true
        ? true
        : parent.computed === true && parent.key === node;
    case "MethodDefinition":
    case "PropertyDefinition":
      return parent.computed === true && parent.key === node;
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return false;
    default:
      return true;
  }
}

/**
 * `typeof process`: the one use of a bare name that reads nothing from it. It gives "undefined" in the sandbox, as
 * in the seed's Nashorn, so such a probe is harmless; `typeof process.env` reads process and is not this.
 */
export function isTypeofOperand(node: Node, parent: Node | null): boolean {
  return parent?.type === "UnaryExpression" && parent.operator === "typeof" && parent.argument === node;
}

/** Names declared anywhere in the filter (parameters, var/let/const, function names, catch params). */
export function declaredNames(root: Node): Set<string> {
  const names = new Set<string>();
  const addPattern = (p: Node | null | undefined): void => {
    if (!p) return;
    switch (p.type) {
      case "Identifier":
        names.add(p.name as string);
        break;
      case "ObjectPattern":
        for (const prop of p.properties as Node[])
          addPattern((prop.type === "RestElement" ? prop.argument : prop.value) as Node);
        break;
      case "ArrayPattern":
        for (const el of p.elements as (Node | null)[]) addPattern(el);
        break;
      case "RestElement":
        addPattern(p.argument as Node);
        break;
      case "AssignmentPattern":
        addPattern(p.left as Node);
        break;
    }
  };
  walk(root, (n) => {
    if (n.type === "VariableDeclarator") addPattern(n.id as Node);
    if (
      n.type === "FunctionDeclaration" ||
      n.type === "FunctionExpression" ||
      n.type === "ArrowFunctionExpression"
    ) {
      if (n.id) addPattern(n.id as Node);
      for (const p of n.params as Node[]) addPattern(p);
    }
    if (n.type === "CatchClause") addPattern(n.param as Node | null);
    if (n.type === "ClassDeclaration" && n.id) addPattern(n.id as Node);
  });
  return names;
}

/**
 * Validates a filter's source; throws FilterError with message, line and column (1-based, in the filter's own
 * text) when it cannot run in the sandbox.
 */
export function validateFilterSource(source: string): ValidatedFilter {
  if (source.trim() === "")
    throw new FilterError("the filter is empty; write a function such as function(event) { return true }");
  const text = PREFIX + source + "\n)";
  const shift = (pos: number): SourcePosition => positionOf(Math.max(0, pos - PREFIX.length), source);
  let program: acorn.Program;
  try {
    program = acorn.parse(text, {
      ecmaVersion: 2020,
      sourceType: "script",
      allowReturnOutsideFunction: false,
    });
  } catch (error) {
    const e = error as SyntaxError & { pos?: number };
    const message = e.message.replace(/\s*\(\d+:\d+\)$/, "");
    if (typeof e.pos === "number" && e.pos >= PREFIX.length + source.length) {
      throw new FilterError(`${message}: the filter must be exactly one function expression`, shift(e.pos));
    }
    throw new FilterError(`syntax error: ${message}`, shift(e.pos ?? PREFIX.length));
  }
  const statement = program.body[1];
  if (program.body.length !== 2 || !statement || statement.type !== "ExpressionStatement") {
    throw new FilterError(
      "the filter must be exactly one function expression, such as function(event) { ... }",
      { line: 1, column: 1 },
    );
  }
  const fn = statement.expression as unknown as Node;
  if (fn.type !== "FunctionExpression" && fn.type !== "ArrowFunctionExpression") {
    throw new FilterError(
      `the filter must be a function such as function(event) { ... }, not ${fn.type.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()}`,
      shift(fn.start),
    );
  }
  if (fn.async === true) {
    throw new FilterError(
      "the filter must not be async: it must return true or false, not a Promise",
      shift(fn.start),
    );
  }
  if (fn.generator === true) {
    throw new FilterError(
      "the filter must not be a generator: it must return true or false",
      shift(fn.start),
    );
  }

  const declared = declaredNames(fn);
  walk(fn, (n, parent) => {
    if (n.type === "ImportExpression")
      throw new FilterError("import() is not allowed in a filter", shift(n.start));
    if (n.type === "MetaProperty")
      throw new FilterError("import.meta is not available in a filter", shift(n.start));
    if (
      n.type === "Identifier" &&
      isReference(n, parent) &&
      !isTypeofOperand(n, parent) &&
      !declared.has(n.name as string)
    ) {
      const why = FORBIDDEN_GLOBALS.get(n.name as string);
      if (why) throw new FilterError(`${n.name as string} is not available: ${why}`, shift(n.start));
    }
  });
  const params = (fn.params as Node[]).map((p) =>
    p.type === "Identifier" ? (p.name as string) : "(pattern)",
  );
  return { params, fn };
}
