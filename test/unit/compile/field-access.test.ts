import { test } from "node:test";
import assert from "node:assert/strict";
import { accessKey, fieldAccess, project } from "../../../src/compile/field-access.js";
import { validateFilterSource } from "../../../src/compile/validate-filter.js";

const key = (source: string) => accessKey(fieldAccess(validateFilterSource(source).fn));

test("static reads of the event give the fields the filter needs", () => {
  assert.equal(
    key("function(event) { return event.getData().get('result') === 'loss' }"),
    '{"data":{"get":1,"result":1},"getData":1}',
  );
  assert.equal(
    key("(e) => e.data.result === 'win' && e.getMarket() === 'de'"),
    '{"data":{"result":1},"getMarket":1,"market":1}',
  );
  assert.equal(
    key("(e) => e.playerId > 5 && e.eventName === 'x'"),
    '{"eventName":1,"event_name":1,"playerId":1,"player_id":1}',
  );
  assert.equal(
    key("(e) => e.getData().containsKey('boss')"),
    '{"data":{"boss":1,"containsKey":1},"getData":1}',
  );
  assert.equal(
    key("(e) => e.getData().getOrDefault('gold', 0) > 1"),
    '{"data":{"getOrDefault":1,"gold":1},"getData":1}',
  );
  assert.equal(key("(e) => e.data?.boss?.name === 'x'"), '{"data":{"boss":{"name":1}}}');
  assert.equal(key("(e) => e.data['result'] === 1"), '{"data":{"result":1}}');
  assert.equal(key("({ data, playerId }) => data.x === playerId"), '{"data":1,"playerId":1,"player_id":1}');
  assert.equal(key("function() { return true }"), "{}");
});

test("a value used as a whole is taken whole at that level", () => {
  assert.equal(key("(e) => e.getData().size() > 3"), '{"data":1,"getData":1}');
  assert.equal(key("(e) => Object.keys(e.data.items).length"), '{"data":{"items":1}}');
  assert.equal(
    key("(e) => { for (const it of e.data.items) if (it.qty) return true; return false }"),
    '{"data":{"items":1}}',
  );
  assert.equal(key("(e) => e.data.items.get(0).qty > 1"), '{"data":{"items":1}}');
  assert.equal(key("(e) => e.getHostname().split('.')[0] === 'x'"), '{"getHostname":1,"hostname":1}');
});

test("whenever the access cannot be known, the filter gets the whole event", () => {
  for (const source of [
    "(e) => JSON.stringify(e).length > 10",
    "(e) => { var d = e; return d.data.x }",
    "(e) => e[Object.keys(e)[0]] !== null",
    "(e) => e.get(e.getGame()) !== null && e.data[e.game] === 1",
    "function(e) { return arguments[0].data.x }",
    "(e) => e.size() > 3",
    "(e) => e.__proto__ !== null",
    "(e, f) => e.data.x",
    "({ ...rest }) => rest.data",
  ]) {
    assert.equal(key(source), "*", source);
  }
});

test("a key of the event named like a getter or method it calls is kept: it hides that method", () => {
  const access = fieldAccess(validateFilterSource("(e) => e.getData().get('level') === 5").fn);
  assert.ok(access);
  assert.deepEqual(project({ getData: 5, data: { level: 5 } }, access), { getData: 5, data: { level: 5 } });
  assert.deepEqual(project({ data: { get: 1, level: 5, x: 2 } }, access), { data: { get: 1, level: 5 } });
  assert.deepEqual(project({ data: { level: 5 } }, access), { data: { level: 5 } });
});

test("a projection keeps the requested keys that exist, with their values", () => {
  const access = fieldAccess(
    validateFilterSource("(e) => e.data.result && e.data.boss.hp && e.market && e.nope").fn,
  );
  assert.ok(access);
  const event = { game: "foe", market: "de", data: { result: "loss", gold: 5, boss: { hp: 3, name: "x" } } };
  assert.deepEqual(project(event, access), { market: "de", data: { result: "loss", boss: { hp: 3 } } });
  assert.deepEqual(project({ data: "text" }, access), { data: "text" }, "a non-object is taken as it is");
});

test("the getters the analysis knows are the ones the sandbox's prelude defines", async () => {
  const { readFileSync } = await import("node:fs");
  const { EVENT_FIELDS } = await import("../../../src/compile/field-access.js");
  const prelude = readFileSync(new URL("../../../../wasm/prelude.js", import.meta.url), "utf8");
  const list = /var FIELDS = \[([^\]]*)\]/.exec(prelude)?.[1] ?? "";
  assert.deepEqual(
    [...list.matchAll(/["']([a-z_]+)["']/g)].map((m) => m[1]),
    EVENT_FIELDS,
  );
});
