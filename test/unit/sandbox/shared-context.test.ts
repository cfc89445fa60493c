// Stateless filters share one context (frozen built-ins, frozen prelude prototypes) and, per event, one decoded
// and frozen copy of the event. The host only sends filters there that compile/stateless.ts proves stateless; these
// tests show what the sandbox does on its own when a filter there tries to keep or leave something anyway.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileFilterModule } from "../../../src/sandbox/index.js";
import type { Sandbox } from "../../../src/sandbox/sandbox.js";
import { EVENT, LIMITS, engine, makeEvent, newSandbox } from "./helpers.js";

let counter = 0;
function loadShared(sandbox: Sandbox, source: string): string {
  const compiled = compileFilterModule(sandbox, source, engine);
  assert.ok(compiled.ok, compiled.ok ? "" : compiled.message);
  const id = `s${++counter}`;
  const loaded = sandbox.load(id, compiled.module, true);
  assert.ok(loaded.ok, loaded.ok ? "" : loaded.message);
  return id;
}

describe("the shared context of stateless filters", () => {
  it("answers as a filter in a context of its own does", () => {
    const sandbox = newSandbox();
    const sources = [
      "function(e) { return e.getData().get('result') === 'loss' }",
      "function(e) { let n = 0; for (const d of e.data.damage) n += d; return n > 50 }",
      "(e) => JSON.stringify(e.getContext()).length > 10 && e.getMarket().equals('de')",
      "function(e) { return e.getData().get('rounds') > 5 }",
    ];
    const win = JSON.stringify(makeEvent({ data: { result: "win", rounds: 9, damage: [1] } }));
    for (const source of sources) {
      const own = compileFilterModule(sandbox, source, engine);
      assert.ok(own.ok);
      sandbox.load(`own-${source}`, own.module);
      const shared = loadShared(sandbox, source);
      for (const event of [EVENT, win, EVENT]) {
        const a = sandbox.evaluate(`own-${source}`, event, LIMITS);
        const b = sandbox.evaluate(shared, event, LIMITS);
        assert.equal(b.kind, a.kind, source);
      }
    }
  });

  it("gives every filter of one event the same decoded event, which none can change", () => {
    const sandbox = newSandbox();
    const writer = loadShared(sandbox, "function(e) { e.data.result = 'win'; return true }");
    const sorter = loadShared(sandbox, "function(e) { e.data.damage.reverse(); return true }");
    const reader = loadShared(
      sandbox,
      "function(e) { return e.data.result === 'loss' && e.data.damage[0] === 12 && Object.isFrozen(e) }",
    );
    assert.equal(sandbox.evaluate(reader, EVENT, LIMITS).kind, "match");
    const wrote = sandbox.evaluate(writer, EVENT, LIMITS);
    assert.equal(wrote.kind, "threw");
    assert.match(wrote.message ?? "", /read-only|not extensible|frozen/);
    assert.equal(sandbox.evaluate(sorter, EVENT, LIMITS).kind, "threw");
    assert.equal(sandbox.evaluate(reader, EVENT, LIMITS).kind, "match", "the event is as decoded");
  });

  it("leaves nothing in globals or prototypes for another filter", () => {
    const sandbox = newSandbox();
    const polluters = [
      "function(e) { globalThis.kept = 1; return true }",
      "function(e) { Object.prototype.polluted = 1; return true }",
      "function(e) { Array.prototype.get = function() { return 'evil' }; return true }",
      "function(e) { Object.getPrototypeOf(e).getGame = function() { return 'evil' }; return true }",
      "function(e) { Math.abs = function() { return 7 }; return true }",
      "function(e) { e.getData.kept = 1; return true }",
    ];
    for (const source of polluters) {
      const outcome = sandbox.evaluate(loadShared(sandbox, source), EVENT, LIMITS);
      assert.equal(outcome.kind, "threw", source);
    }
    const reader = loadShared(
      sandbox,
      "function(e) { return typeof kept === 'undefined' && ({}).polluted === undefined && e.data.damage.get(0) === 12 && e.getGame() === 'foe' && Math.abs(-2) === 2 && e.getData.kept === undefined }",
    );
    assert.equal(sandbox.evaluate(reader, EVENT, LIMITS).kind, "match");
  });

  it("decodes the event again when it changes, and keeps the limits of each call", () => {
    const sandbox = newSandbox();
    const loss = loadShared(sandbox, "function(e) { return e.getData().get('result') === 'loss' }");
    const loop = loadShared(sandbox, "function(e) { while (true) {} }");
    const win = JSON.stringify(makeEvent({ data: { result: "win" } }));
    assert.equal(sandbox.evaluate(loss, EVENT, LIMITS).kind, "match");
    assert.equal(sandbox.evaluate(loss, win, LIMITS).kind, "no-match");
    assert.equal(sandbox.evaluate(loop, win, { ...LIMITS, fuel: 10_000 }).kind, "out-of-fuel");
    assert.equal(
      sandbox.evaluate(loss, win, LIMITS).kind,
      "no-match",
      "after a stop the shared context still serves",
    );
    assert.equal(sandbox.evaluate(loss, EVENT, LIMITS).kind, "match");
    assert.equal(sandbox.evaluate(loop, EVENT, { ...LIMITS, fuel: 10_000 }).kind, "out-of-fuel");
    assert.equal(sandbox.evaluate(loss, EVENT, LIMITS).kind, "match");
  });

  it("turns big integers into BigInt once, before the freeze", () => {
    const sandbox = newSandbox();
    const big = loadShared(sandbox, "function(e) { return e.getData().get('n') === 9007199254740993n }");
    const event = EVENT.replace('"rounds":3', '"rounds":3,"n":9007199254740993');
    assert.equal(sandbox.evaluate(big, event, LIMITS).kind, "match");
    assert.equal(sandbox.evaluate(big, event, LIMITS).kind, "match");
  });
});
