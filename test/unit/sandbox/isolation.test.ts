import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EVENT, LIMITS, SEED_FILTER, loadFilter, newSandbox } from "./helpers.js";

describe("isolation and determinism", () => {
  const sandbox = newSandbox();

  it("gives every evaluation a fresh event", () => {
    const mutator = loadFilter(
      sandbox,
      "function(e) { e.data.result = 'win'; e.getData().extra = 1; e.game = 'x'; e.playerId = 7; delete e.context; return true }",
    );
    const reader = loadFilter(
      sandbox,
      "function(e) { return e.data.result === 'loss' && e.data.extra === undefined && e.game === 'foe' && e.getPlayerId() === 12345 && e.context !== undefined }",
    );
    assert.equal(sandbox.evaluate(mutator, EVENT, LIMITS).kind, "match");
    assert.equal(sandbox.evaluate(reader, EVENT, LIMITS).kind, "match", "another filter, same event");
    assert.equal(sandbox.evaluate(mutator, EVENT, LIMITS).kind, "match");
    assert.equal(sandbox.evaluate(mutator, EVENT, LIMITS).kind, "match", "same filter, next event");
    const selfCheck = loadFilter(
      sandbox,
      "function(e) { var fresh = e.data.result === 'loss'; e.data.result = 'changed'; return fresh }",
    );
    for (let i = 0; i < 3; i++) assert.equal(sandbox.evaluate(selfCheck, EVENT, LIMITS).kind, "match");
  });

  it("keeps globals and prototypes per filter", () => {
    const a = loadFilter(
      sandbox,
      "function(e) { globalThis.shared = 42; Object.prototype.polluted = 1; Array.prototype.get = function() { return 'evil' }; return true }",
    );
    const b = loadFilter(
      sandbox,
      "function(e) { return typeof shared === 'undefined' && ({}).polluted === undefined && e.data.damage.get(0) === 12 }",
    );
    assert.equal(sandbox.evaluate(a, EVENT, LIMITS).kind, "match");
    assert.equal(sandbox.evaluate(b, EVENT, LIMITS).kind, "match");
  });

  it("uses the same fuel for the same filter and event, also interleaved", () => {
    const event2 = EVENT.replace('"loss"', '"win"');
    const filterSources = [
      SEED_FILTER,
      "function(e) { var n = 0; for (var k in e.getContext()) n++; return e.getData().keySet().contains('rounds') && n > 2 }",
      "function(e) { return /^foe-backend-\\d+/.test(e.getHostname()) && JSON.stringify(e).length > 10 }",
    ];
    const filters = filterSources.map((source) => loadFilter(sandbox, source));
    // A context's first call can use a few more units than later ones (QuickJS fills a few of the context's caches
    // on first use, e.g. for RegExp and JSON); from then on the fuel is that of the filter and the event alone.
    const fresh = filters.map((id) => sandbox.evaluate(id, EVENT, LIMITS).fuelUsed);
    const first = filters.map((id) => [
      sandbox.evaluate(id, EVENT, LIMITS),
      sandbox.evaluate(id, event2, LIMITS),
    ]);
    for (const [r1, r2] of first) {
      assert.ok(r1 && r2 && r1.fuelUsed > 0 && r2.fuelUsed > 0);
    }
    const noise = loadFilter(
      sandbox,
      "function(e) { var a = []; for (var i = 0; i < 5000; i++) a.push({ i: i }); return false }",
    );
    for (let round = 0; round < 20; round++) {
      filters.forEach((id, i) => {
        sandbox.evaluate(noise, EVENT, LIMITS);
        assert.equal(
          sandbox.evaluate(id, EVENT, LIMITS).fuelUsed,
          first[i]?.[0]?.fuelUsed,
          `filter ${i} event 1 round ${round}`,
        );
        assert.equal(
          sandbox.evaluate(id, event2, LIMITS).fuelUsed,
          first[i]?.[1]?.fuelUsed,
          `filter ${i} event 2 round ${round}`,
        );
      });
    }
    // and in another sandbox (another "worker"), from a fresh context as well
    const other = newSandbox();
    const ids = [SEED_FILTER, ...filterSources.slice(1)].map((source) => loadFilter(other, source));
    assert.deepEqual(
      ids.map((id) => other.evaluate(id, EVENT, LIMITS).fuelUsed),
      fresh,
    );
    assert.deepEqual(
      ids.map((id) => other.evaluate(id, EVENT, LIMITS).fuelUsed),
      first.map((f) => f[0]?.fuelUsed),
    );
  });

  it("does not grow memory over many evaluations", () => {
    const id = loadFilter(
      sandbox,
      "function(e) { var o = { self: null, e: e }; o.self = o; return e.getData().size() === 3 }",
    );
    for (let i = 0; i < 2000; i++) sandbox.evaluate(id, EVENT, LIMITS);
    const before = sandbox.stats().heapBytes;
    for (let i = 0; i < 20000; i++) sandbox.evaluate(id, EVENT, LIMITS);
    assert.ok(
      sandbox.stats().heapBytes < before + 2 * 1024 * 1024,
      `${before} -> ${sandbox.stats().heapBytes}`,
    );
  });

  it("loads, replaces and unloads filters", () => {
    const id = loadFilter(sandbox, "function(e) { return true }", "campaign-1");
    assert.equal(sandbox.has(id), true);
    assert.equal(sandbox.evaluate(id, EVENT, LIMITS).kind, "match");
    loadFilter(sandbox, "function(e) { return false }", "campaign-1");
    assert.equal(sandbox.evaluate(id, EVENT, LIMITS).kind, "no-match");
    assert.equal(sandbox.unload(id), true);
    assert.equal(sandbox.has(id), false);
    assert.throws(() => sandbox.evaluate(id, EVENT, LIMITS));
  });
});
