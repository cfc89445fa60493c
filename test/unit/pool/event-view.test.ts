import assert from "node:assert/strict";
import { test } from "node:test";
import { accessKey, fieldAccess } from "../../../src/compile/field-access.js";
import { validateFilterSource } from "../../../src/compile/validate-filter.js";
import { EventView } from "../../../src/pool/event-view.js";

const filter = (source: string) => {
  const access = fieldAccess(validateFilterSource(source).fn);
  return { access, accessKey: accessKey(access) };
};
const level = filter("e => e.getData().get('level') === 5");

test("a filter is handed the fields it reads", () => {
  const json = JSON.stringify({ event_id: "4e8e-4464-e123", data: { level: 5, gold: 1 }, market: "de" });
  assert.equal(new EventView(json).for(level), '{"data":{"level":5}}');
});

test("numbers JSON cannot write back as read keep the event whole: beyond the double range, negative zero", () => {
  for (const json of [
    '{"data":{"level":1e400}}',
    '{"data":{"level":-0}}',
    '{"data":{"level":-0.0e3}}',
    '{"data":{"x":[1,-0],"level":5}}',
  ])
    assert.equal(new EventView(json).for(level), json, json);
  // Look-alikes in strings or other tokens do not.
  for (const json of ['{"data":{"level":0},"id":"4e8e-4464"}', '{"data":{"level":-10},"at":"2026-01-01"}'])
    assert.notEqual(new EventView(json).for(level), json, json);
});

test("the interpreter reads the event as V8 parses it, unless it may hold integers beyond 2^53", () => {
  assert.deepEqual(new EventView('{"data":{"level":1e400}}').root(), { data: { level: Infinity } });
  assert.equal(new EventView('{"player_id":9007199254740993}').root(), null);
  assert.equal(new EventView("[1,2]").root(), null);
});
