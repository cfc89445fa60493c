import assert from "node:assert/strict";
import { test } from "node:test";
import { recognisePredicate } from "../../../src/compile/predicate.js";
import { validateFilterSource } from "../../../src/compile/validate-filter.js";
import {
  interpretPredicate,
  PredicateEvent,
  UNDECIDED,
} from "../../../src/evaluation/predicate-interpreter.js";

const predicate = (source: string) => recognisePredicate(validateFilterSource(source).fn);

test("the subset: comparisons of event reads with literals, with && || ! typeof", () => {
  for (const source of [
    "function(event) { return event.getData().get('level') === 5 }",
    "(e) => e.getMarket() === 'de' && e.getData().get('gold') > 100",
    "e => !(e.playerId < -3) || typeof e.data.boss === 'undefined'",
    "function(e) { return e.getData().containsKey('boss') && e.getData().getOrDefault('hp', 0) >= 10 }",
    "function(e) { return e.data.level !== null && e['game'] === 'foe' && e.data.tags.length > 1 }",
    "function(e) { return undefined === e.getData().get('x') }",
  ])
    assert.notEqual(predicate(source), null, source);
});

test("anything else goes to the sandbox", () => {
  for (const source of [
    "function(e) { const d = e.getData(); return d.get('level') === 5 }",
    "function(e) { return e.getData().get('level') == 5 }",
    "function(e) { return e.getData().get('level') + 1 === 6 }",
    "function(e) { return e.getData().get(e.getGame()) === 5 }",
    "function(e) { return e.getData().keySet().length > 1 }",
    "function(e) { return /x/.test(e.getGame()) }",
    "function(e) { return e.data?.level === 5 }",
    "function(e, f) { return true }",
    "function(e) { if (e.data) return true; return false }",
    "function(e) { return e.data.level === 5n }",
  ])
    assert.equal(predicate(source), null, source);
});

test("the index key is the first conjunct when it is read === literal", () => {
  assert.deepEqual(
    predicate("e => e.getData().get('level') === 5 && e.getMarket() === 'de'")?.index?.value,
    5,
  );
  assert.equal(predicate("e => 'de' === e.getMarket()")?.index?.value, "de");
  assert.equal(predicate("e => e.getData().get('level') > 5 && e.getMarket() === 'de'")?.index, null);
  assert.equal(predicate("e => e.getMarket() === 'de' || e.getMarket() === 'fr'")?.index, null);
  const a = predicate("e => e.getData().get('level') === 5");
  const b = predicate("(event) => event.getData().get('level') === 7");
  assert.equal(a?.index?.readKey, b?.index?.readKey, "one read for both");
  assert.notEqual(a?.key, b?.key);
  assert.notEqual(predicate("e => e.data.x === 0")?.key, predicate("e => e.data.x === -0")?.key);
});

test("the interpreter answers, or hands the case to the sandbox", () => {
  const answer = (source: string, event: Record<string, unknown>) => {
    const p = predicate(source);
    assert.ok(p, source);
    return interpretPredicate(p.expr, new PredicateEvent(event));
  };
  const event = { market: "de", data: { level: 5, tags: ["a", "b"], o: { k: 1 } } };
  assert.equal(answer("e => e.getData().get('level') === 5", event), true);
  assert.equal(answer("e => e.getData().get('level') === '5'", event), false);
  assert.equal(answer("e => e.getData().get('level') < '10'", event), true, "'10' converts to a number");
  assert.equal(answer("e => e.getData().get('missing') === null", event), true);
  assert.equal(answer("e => e.getData().getOrDefault('missing', 3) === 3", event), true);
  assert.equal(answer("e => e.getData().get('level') || false", event), false, "only boolean true matches");
  assert.equal(answer("e => typeof e.getData().get('o') === 'object'", event), true);
  assert.equal(answer("e => e.data.tags.length === 2", event), true);
  assert.equal(answer("e => e.getData().get('o').get('k') === 1", event), true);
  // Cases the interpreter does not model: the sandbox decides.
  assert.equal(answer("e => e.getData().get('level') === 5", { data: { get: 1, level: 5 } }), UNDECIDED);
  assert.equal(answer("e => e.getData().get('level') === 5", { market: "de" }), UNDECIDED, "null.get throws");
  assert.equal(answer("e => e.getData().get('o') < 3", event), UNDECIDED, "an object converted");
  assert.equal(answer("e => e.data.toString === undefined", event), UNDECIDED);
  assert.equal(answer("e => e.getData() === null", { getData: 1 }), UNDECIDED);
});
