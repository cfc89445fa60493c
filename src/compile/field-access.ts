// Which fields of the event a filter can read, found from its syntax tree at compile time. Most of a
// sandboxed evaluation is QuickJS parsing the event; a filter that reads `event.getData().get('result')`
// is given `{"data":{"result":…}}` instead of the whole event, with the same answer. Whenever the access
// cannot be known (the event passed on, enumerated, indexed by a computed key, ...), the filter gets it all.
import type { AstNode } from "./validate-filter.js";
import { walk } from "./validate-filter.js";

/** `null`: the whole event. Otherwise a trie of keys: `true` marks a subtree taken whole. */
export type FieldTrie = Map<string, FieldTrie | true>;
export type FieldAccess = FieldTrie | null;

/** The event fields with getters; the same list as in wasm/prelude.js (a test keeps them equal). */
export const EVENT_FIELDS = [
  "schema_version",
  "event_id",
  "system_type",
  "system_name",
  "game",
  "market",
  "player_id",
  "event_type",
  "event_name",
  "event_scope",
  "created_at",
  "received_at",
  "hostname",
  "context",
  "data",
];
const camel = (f: string) => f.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
/** getGame -> game, ..., and the bean properties playerId -> player_id. */
const GETTERS = new Map(EVENT_FIELDS.map((f) => [`get${camel(f)[0]?.toUpperCase()}${camel(f).slice(1)}`, f]));
const BEANS = new Map(EVENT_FIELDS.filter((f) => camel(f) !== f).map((f) => [camel(f), f]));
/** Map methods whose string-literal first argument names the one key they read. */
const KEYED = new Set(["get", "getOrDefault", "containsKey"]);
const UNSAFE_KEYS = new Set(["__proto__"]);

function staticKey(member: AstNode): string | null {
  const property = member.property as AstNode;
  if (member.computed !== true) return property.type === "Identifier" ? (property.name as string) : null;
  return property.type === "Literal" && typeof property.value === "string" ? property.value : null;
}

/**
 * The path the expression rooted at the event parameter reads; [] with `whole` when it escapes at the root. The
 * names of the getters and methods it calls on the way go to `shadows` as paths too: a key of the event with such a
 * name hides the method (the call then throws), so the projection must keep it when the event has it.
 */
function pathOf(ident: AstNode, parents: Map<AstNode, AstNode>, shadows: string[][]): string[] {
  const path: string[] = [];
  let node = ident;
  for (;;) {
    const parent = parents.get(node);
    if (!parent || parent.type !== "MemberExpression" || parent.object !== node) return path;
    const key = staticKey(parent);
    if (key === null) return path;
    const grand = parents.get(parent);
    if (grand && grand.type === "CallExpression" && grand.callee === parent) {
      const args = grand.arguments as AstNode[];
      const first = args[0];
      if (path.length === 0 && GETTERS.has(key) && args.length === 0) {
        shadows.push([key]);
        path.push(GETTERS.get(key) as string);
      } else if (KEYED.has(key) && first?.type === "Literal" && typeof first.value === "string") {
        shadows.push([...path, key]);
        path.push(first.value);
        if (key === "containsKey") return path;
      } else {
        return path; // another method on this value: it needs the value whole
      }
      node = grand;
      continue;
    }
    const bean = path.length === 0 ? BEANS.get(key) : undefined;
    if (bean !== undefined) shadows.push([key]);
    path.push(bean ?? key);
    node = parent;
  }
}

function add(trie: FieldTrie, path: string[]): void {
  let t = trie;
  for (const [i, key] of path.entries()) {
    const existing = t.get(key);
    if (existing === true) return;
    if (i === path.length - 1) {
      t.set(key, true);
      return;
    }
    const next: FieldTrie = existing ?? new Map();
    t.set(key, next);
    t = next;
  }
}

/** The fields the filter `fn` (validated) can read from its first parameter. */
export function fieldAccess(fn: AstNode): FieldAccess {
  const params = fn.params as AstNode[];
  const param = params[0];
  if (!param) return new Map();
  if (params.length > 1) return null;
  if (param.type === "ObjectPattern") {
    const trie: FieldTrie = new Map();
    for (const prop of param.properties as AstNode[]) {
      if (prop.type !== "Property" || prop.computed === true) return null;
      const key = prop.key as AstNode;
      const name =
        key.type === "Identifier" ? (key.name as string) : typeof key.value === "string" ? key.value : null;
      if (name === null || UNSAFE_KEYS.has(name)) return null;
      add(trie, [BEANS.get(name) ?? name]);
      if (BEANS.has(name)) add(trie, [name]); // an own key of that name hides the bean property
    }
    return trie;
  }
  if (param.type !== "Identifier") return null;
  const name = param.name as string;

  const parents = new Map<AstNode, AstNode>();
  let usesArguments = false;
  const uses: AstNode[] = [];
  walk(fn.body as AstNode, (n, parent) => {
    if (parent) parents.set(n, parent);
    if (n.type === "Identifier" && n.name === "arguments") usesArguments = true;
    if (n.type === "Identifier" && n.name === name) uses.push(n);
  });
  if (usesArguments) return null;
  const trie: FieldTrie = new Map();
  for (const use of uses) {
    const parent = parents.get(use);
    // Property names and object-literal keys that merely spell the name are not uses of the event.
    if (parent?.type === "MemberExpression" && parent.property === use && parent.computed !== true) continue;
    if (
      parent?.type === "Property" &&
      parent.key === use &&
      parent.shorthand !== true &&
      parent.computed !== true
    )
      continue;
    const shadows: string[][] = [];
    const path = pathOf(use, parents, shadows);
    if (path.length === 0 || path.some((k) => UNSAFE_KEYS.has(k))) return null;
    add(trie, path);
    for (const shadow of shadows) if (!shadow.some((k) => UNSAFE_KEYS.has(k))) add(trie, shadow);
  }
  return trie;
}

/** A stable text form of the access, to share one projection between filters that read the same fields. */
export function accessKey(access: FieldAccess): string {
  const plain = (t: FieldTrie): unknown =>
    Object.fromEntries(
      [...t].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v === true ? 1 : plain(v)]),
    );
  return access === null ? "*" : JSON.stringify(plain(access));
}

/** The part of `event` (parsed) that `access` reads; keys absent in the event stay absent. */
export function project(event: Record<string, unknown>, access: FieldTrie): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, sub] of access) {
    if (!Object.prototype.hasOwnProperty.call(event, key)) continue;
    const value = event[key];
    out[key] =
      sub === true || value === null || typeof value !== "object" || Array.isArray(value)
        ? value
        : project(value as Record<string, unknown>, sub);
  }
  return out;
}
