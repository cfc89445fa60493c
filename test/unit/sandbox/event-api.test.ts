import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EVENT, SEED_FILTER, makeEvent, newSandbox, run } from "./helpers.js";

const sandbox = newSandbox();
const matches = (source: string, event: string = EVENT): boolean => {
  const outcome = run(sandbox, source, event);
  assert.ok(outcome.kind === "match" || outcome.kind === "no-match", JSON.stringify(outcome));
  return outcome.kind === "match";
};

describe("event API seen by filters", () => {
  it("runs the seed example", () => {
    assert.equal(matches(SEED_FILTER, JSON.stringify(makeEvent({ data: { result: "loss" } }))), true);
    assert.equal(matches(SEED_FILTER, JSON.stringify(makeEvent({ data: { result: "win" } }))), false);
  });

  it("has a getter for every field", () => {
    const e = makeEvent();
    const getters: Record<string, string> = {
      getSchemaVersion: "schema_version",
      getEventId: "event_id",
      getSystemType: "system_type",
      getSystemName: "system_name",
      getGame: "game",
      getMarket: "market",
      getPlayerId: "player_id",
      getEventType: "event_type",
      getEventName: "event_name",
      getEventScope: "event_scope",
      getCreatedAt: "created_at",
      getReceivedAt: "received_at",
      getHostname: "hostname",
    };
    for (const [getter, field] of Object.entries(getters)) {
      assert.equal(
        matches(`function(event) { return event.${getter}() === ${JSON.stringify(e[field])} }`),
        true,
        getter,
      );
    }
    assert.equal(
      matches(
        "function(event) { return event.getContext().get('session') === 's-1' && event.getData().get('rounds') === 3 }",
      ),
      true,
    );
    const noData = JSON.stringify({ game: "foe" });
    assert.equal(
      matches("function(event) { return event.getData() === null && event.getPlayerId() === null }", noData),
      true,
    );
  });

  it("has camelCase bean properties and plain JS access", () => {
    assert.equal(
      matches(
        "function(e) { return e.playerId === 12345 && e.eventName === 'fight' && e.schemaVersion === '2023110110010101' && e.systemName === 'foe-backend' && e.createdAt === e.created_at && e.game === 'foe' && e.data.result === 'loss' && e.player_id === 12345 }",
      ),
      true,
    );
    assert.equal(
      matches("function(e) { return e.getData().result === 'loss' && e.context.nested.deep.x === 1 }"),
      true,
    );
  });

  it("gives maps the java.util.Map methods", () => {
    const checks = [
      "d.get('result') === 'loss'",
      "d.get('nope') === null",
      "d.containsKey('result') && !d.containsKey('nope')",
      "d.getOrDefault('nope', 7) === 7 && d.getOrDefault('rounds', 7) === 3",
      "d.size() === 3 && !d.isEmpty()",
      "d.keySet().contains('rounds') && d.keySet().size() === 3 && d.keySet().length === 3",
      "d.values().contains('loss') && d.values().size() === 3",
      "d.containsValue('loss')",
      "d.entrySet()[0].getKey() === 'result' && d.entrySet()[0].getValue() === 'loss'",
      "e.getContext().get('nested').get('deep').get('x') === 1",
      "e.getContext().get('nested').isEmpty() === false",
    ];
    for (const check of checks)
      assert.equal(matches(`function(e) { var d = e.getData(); return ${check} }`), true, check);
    assert.equal(
      matches("function(e) { return JSON.parse('{}').get === undefined }"),
      true,
      "JSON.parse in filters is plain",
    );
  });

  it("gives arrays the java.util.List methods", () => {
    const checks = [
      "a.get(1) === 40",
      "a.size() === 3 && !a.isEmpty()",
      "a.contains(7) && !a.contains(8)",
      "e.getContext().get('tags').get(0) === 'pvp'",
      "[].isEmpty()",
      "(function() { try { a.get(3); return false } catch (x) { return x instanceof RangeError } })()",
    ];
    for (const check of checks)
      assert.equal(
        matches(`function(e) { var a = e.getData().get('damage'); return ${check} }`),
        true,
        check,
      );
  });

  it("leaks nothing enumerable", () => {
    const expectedData = JSON.stringify(makeEvent()["data"]);
    assert.equal(
      matches(`function(e) { return JSON.stringify(e.getData()) === ${JSON.stringify(expectedData)} }`),
      true,
    );
    assert.equal(matches(`function(e) { return JSON.stringify(e) === ${JSON.stringify(EVENT)} }`), true);
    assert.equal(
      matches(`function(e) { return Object.keys(e.data).join() === 'result,rounds,damage' }`),
      true,
    );
    assert.equal(
      matches(
        `function(e) { var k = []; for (var x in e) k.push(x); return k.join() === ${JSON.stringify(Object.keys(makeEvent()).join())} }`,
      ),
      true,
    );
    assert.equal(
      matches(
        "function(e) { var k = []; for (var x in e.data.damage) k.push(x); return k.join() === '0,1,2' }",
      ),
      true,
    );
    assert.equal(
      matches(
        "function(e) { var o = {}; for (var x in o) return false; return Object.keys({a: 1}).length === 1 }",
      ),
      true,
    );
  });

  it("leaves object literals, descriptors and proxies alone", () => {
    assert.equal(
      matches(
        "function(e) { var o = {}; Object.defineProperty(o, 'x', { value: 1 }); var p = new Proxy({ y: 2 }, {}); o.size = 3; return o.x === 1 && p.y === 2 && o.size === 3 }",
      ),
      true,
    );
  });

  it("runs filters in strict mode", () => {
    assert.equal(matches("function(e) { return this === undefined }"), true);
    assert.equal(run(sandbox, "function(e) { undeclared = 1; return true }").kind, "threw");
  });

  it("keeps integers beyond 2^53 exact", () => {
    const big = JSON.stringify(makeEvent({ player_id: 0 })).replace(
      '"player_id":0',
      '"player_id":12345678901234567890',
    );
    assert.equal(
      matches("function(e) { return String(e.getPlayerId()) === '12345678901234567890' }", big),
      true,
    );
    assert.equal(
      matches(
        "function(e) { return e.getPlayerId() === 12345678901234567890n && e.playerId === 12345678901234567890n }",
        big,
      ),
      true,
    );
    assert.equal(
      matches("function(e) { return e.getPlayerId() === 12345 && typeof e.getPlayerId() === 'number' }"),
      true,
    );
    const nested =
      '{"data":{"ids":[-98765432109876543210,9007199254740991,1.5e300],"s":"12345678901234567890"}}';
    assert.equal(
      matches(
        "function(e) { var a = e.data.ids; return a[0] === -98765432109876543210n && a[1] === 9007199254740991 && a[2] === 1.5e300 && e.data.s === '12345678901234567890' }",
        nested,
      ),
      true,
    );
  });

  it("rejects events that are not JSON objects", () => {
    for (const bad of ["{", "[1,2]", "42", ""]) {
      const outcome = run(sandbox, SEED_FILTER, bad);
      assert.equal(outcome.kind, "bad-event", bad);
    }
    assert.equal(run(sandbox, SEED_FILTER).kind, "match");
  });
});
