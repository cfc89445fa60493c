import assert from "node:assert/strict";
import { test } from "node:test";
import { isStateless } from "../../../src/compile/stateless.js";
import { validateFilterSource } from "../../../src/compile/validate-filter.js";

const stateless = (source: string): boolean => isStateless(validateFilterSource(source).fn);

test("filters that only read the event and compute are stateless", () => {
  for (const source of [
    "function(event) { return event.getData().get('result') === 'loss' }",
    "(e) => e.getData().get('level') > 10 && e.getMarket() === 'de'",
    "function(e) { let n = 0; for (const it of e.getData().get('items')) if (it.rare) n++; return n >= 3 }",
    "function(e) { const d = e.data.damage; let s = 0; for (let i = 0; i < d.length; i++) s += d[i]; return s > 50 }",
    "function(e) { return Math.max(...e.data.damage) > 30 && JSON.stringify(e).length > 10 }",
    "function(e) { const t = e.getData().get('tags'); return t.indexOf('whale') >= 0 && t.length >= 2 }",
    "function(e) { function inner(x) { return x * 2 } return inner(e.data.level) === 4 }",
    "function(e) { const o = { a: 1 }; return typeof process === 'undefined' && o.a === 1 }",
    "function(e) { try { return e.getData().get('x').get('y') === 1 } catch (err) { return false } }",
    "function(e) { return e.data['level'] === 1 && Number.isInteger(e.data.level) && Array.isArray(e.data.items) }",
  ])
    assert.equal(stateless(source), true, source);
});

test("filters that could keep or leave state, or are not deterministic, are not", () => {
  for (const source of [
    // writes a property (of the event, of a prelude method, of anything reachable)
    "function(e) { e.data.seen = true; return true }",
    "function(e) { e.getData.count = (e.getData.count || 0) + 1; return true }",
    "function f(e) { f.calls = 1; return true }",
    "function(e) { const o = e.data; o.x++; return true }",
    "function(e) { delete e.data.level; return true }",
    "function(e) { [e.data.a] = [1]; return true }",
    "function(e) { for (e.data.k in {a: 1}); return true }",
    // reaches prototypes or the Function constructor
    "function(e) { return e.constructor === Object }",
    "function(e) { return e['__proto__'] !== null }",
    "function(e) { return [].push.call(e.getData, 1) > 0 }",
    "function(e) { const k = e.data.key; return e.data[k] === 1 }",
    "function(e) { return ({ __proto__: e.data }).level === 1 }",
    "function(e) { const { [e.data.k]: v } = e; return v === 1 }",
    // globals, nondeterminism, this
    "function(e) { return globalThis.x === undefined }",
    "function(e) { return Math.random() < 0.5 }",
    "function(e) { return Date.now() > 0 }",
    "function(e) { return Object.keys(e).length > 3 }",
    "(e) => this === undefined",
    // changes an array in place (stateless filters read one frozen copy of the event)
    "function(e) { return e.data.damage.sort()[0] === 12 }",
    "function(e) { const a = []; a.push(1); return a.length === 1 }",
    // a counter written elsewhere is not a numeric index
    "function(e) { const d = e.data.damage; for (let i = 0; i < 2; i++) { i = 'constructor'; return d[i] === 1 } }",
  ])
    assert.equal(stateless(source), false, source);
});
