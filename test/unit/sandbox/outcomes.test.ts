import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EVENT, LIMITS, SEED_FILTER, loadFilter, newSandbox, run } from "./helpers.js";

const sandbox = newSandbox();
const seed = loadFilter(sandbox, SEED_FILTER);
/** The seed filter still answers correctly on the same sandbox. */
function assertHealthy(after: string): void {
  assert.equal(sandbox.evaluate(seed, EVENT, LIMITS).kind, "match", `seed filter after ${after}`);
  assert.equal(
    sandbox.evaluate(seed, EVENT.replace('"loss"', '"win"'), LIMITS).kind,
    "no-match",
    `seed filter after ${after}`,
  );
}

describe("filter outcomes", () => {
  it("matches only on boolean true", () => {
    assert.equal(run(sandbox, "function(e) { return true }").kind, "match");
    for (const value of [
      "'true'",
      "1",
      "{}",
      "undefined",
      "null",
      "[true]",
      "new Boolean(true)",
      "Promise.resolve(true)",
      "e",
      "false",
    ]) {
      const outcome = run(sandbox, `function(e) { return ${value} }`);
      assert.equal(outcome.kind, "no-match", value);
      assert.equal(outcome.message, undefined);
    }
  });

  it("reports throws of any value with a message", () => {
    const cases: [string, string][] = [
      ["throw new Error('boom')", "Error: boom"],
      ["throw new TypeError('bad type')", "TypeError: bad type"],
      ["throw 42", "42"],
      ["throw null", "null"],
      ["throw undefined", "undefined"],
      ["throw 'text'", "text"],
      ["throw {a: 1}", '{"a":1}'],
      ["throw Symbol('s')", "Symbol()"],
      [
        "return e.getData().get('result').nope.deeper",
        "TypeError: cannot read property 'deeper' of undefined",
      ],
    ];
    for (const [body, message] of cases) {
      const outcome = run(sandbox, `function(e) { ${body} }`);
      assert.equal(outcome.kind, "threw", body);
      assert.equal(outcome.message, message, body);
    }
    assertHealthy("throws");
  });

  it("counts fuel in interrupt polls", () => {
    // a call is one poll; a loop iteration is two here (the condition's jump and the jump back)
    const outcome = run(sandbox, "function(e) { for (var i = 0; i < 1000; i++) {} return true }");
    assert.equal(outcome.kind, "match");
    assert.ok(outcome.fuelUsed >= 2000 && outcome.fuelUsed < 2010, String(outcome.fuelUsed));
    const small = run(sandbox, "function(e) { for (var i = 0; i < 1000; i++) {} return true }", EVENT, {
      ...LIMITS,
      fuel: 1999,
    });
    assert.equal(small.kind, "out-of-fuel");
    assert.equal(small.fuelUsed, 2000);
  });

  describe("hostile filters", () => {
    const hostile: [string, string, FilterKind][] = [
      ["infinite loop", "function(e) { while (true) {} }", "out-of-fuel"],
      ["long loop", "function(e) { for (var i = 0; i < 1e9; i++) {} return true }", "out-of-fuel"],
      [
        "try/catch/finally around an infinite loop",
        "function(e) { try { while (true) {} } catch (x) { return true } finally { return true } }",
        "out-of-fuel",
      ],
      ["retrying catch", "function(e) { for (;;) { try { while (true) {} } catch (x) {} } }", "out-of-fuel"],
      ["catastrophic regexp", "function(e) { return /(a+)+b/.test('a'.repeat(40) + 'c') }", "out-of-fuel"],
      [
        "huge array-like",
        "function(e) { return Array.prototype.indexOf.call({ length: 2 ** 52 }, 1) }",
        "out-of-fuel",
      ],
      [
        "never-settling promise",
        "function(e) { return new Promise(function() { while (true) {} }) }",
        "out-of-fuel",
      ],
      ["deep recursion", "function f(e) { return f(e) + 1 }", "stack-overflow"],
      [
        "recursion catching its overflow",
        "function(e) { function g() { try { return g() } catch (x) { return g() } } return g() }",
        "stack-overflow",
      ],
      [
        "recursion via getters",
        "function(e) { var o = { get x() { return o.x } }; return o.x }",
        "stack-overflow",
      ],
      [
        "allocating until OOM",
        "function(e) { var a = []; while (true) a.push('xxxxxxxxxxxxxxxx' + a.length) }",
        "out-of-memory",
      ],
      [
        "OOM caught and ignored",
        "function(e) { var a = []; try { while (true) a.push(new Array(1000)) } catch (x) { a = null; return true } }",
        "out-of-memory",
      ],
      ["huge string", "function(e) { return 'x'.repeat(1e9).length > 0 }", "out-of-memory"],
      ["doubling string", "function(e) { var s = 'x'; while (true) s = s + s }", "out-of-memory"],
      ["huge array", "function(e) { return new Array(1e8).fill(1).length > 0 }", "out-of-memory"],
    ];
    for (const [name, source, kind] of hostile) {
      it(`${name} -> ${kind}`, () => {
        // memory tests get plenty of fuel so that memory runs out first
        const limits = kind === "out-of-memory" ? { ...LIMITS, fuel: 1e9 } : LIMITS;
        const outcome = run(sandbox, source, EVENT, limits);
        assert.equal(outcome.kind, kind, JSON.stringify(outcome));
        assertHealthy(name);
        if (kind === "out-of-fuel") assert.ok(outcome.fuelUsed > LIMITS.fuel);
      });
    }

    it("recreates the context after a stop, so the same filter works again", () => {
      const id = loadFilter(
        sandbox,
        "function(e) { if (e.data.result === 'loss') { while (true) {} } globalThis.n = (globalThis.n || 0) + 1; return globalThis.n === 1 }",
      );
      assert.equal(sandbox.evaluate(id, EVENT, LIMITS).kind, "out-of-fuel");
      const win = EVENT.replace('"loss"', '"win"');
      assert.equal(sandbox.evaluate(id, win, LIMITS).kind, "match");
      assert.equal(
        sandbox.evaluate(id, win, LIMITS).kind,
        "no-match",
        "state kept between normal evaluations",
      );
    });
  });

  describe("no way out", () => {
    const probes = [
      "typeof process === 'undefined'",
      "typeof require === 'undefined'",
      "typeof module === 'undefined' && typeof exports === 'undefined'",
      "typeof setTimeout === 'undefined' && typeof setInterval === 'undefined' && typeof queueMicrotask === 'undefined'",
      "typeof WebAssembly === 'undefined'",
      "typeof std === 'undefined' && typeof os === 'undefined' && typeof scriptArgs === 'undefined'",
      "typeof fetch === 'undefined' && typeof XMLHttpRequest === 'undefined'",
      "globalThis.constructor === Object",
      "Function('return this')() === globalThis",
      "typeof Function('return this')().process === 'undefined'",
      "typeof (0, eval)('this').process === 'undefined'",
      "Object.getOwnPropertyNames(globalThis).every(function(n) { return !/process|require|WebAssembly|std|os/.test(n) || n === 'isPrototypeOf' })",
      "Date.now() === 0",
    ];
    for (const probe of probes) {
      it(probe, () => {
        assert.equal(run(sandbox, `function(e) { return ${probe} }`).kind, "match");
      });
    }
    it("import() does not load anything", () => {
      const outcome = run(
        sandbox,
        "function(e) { var p = import('fs'); return typeof p.then === 'function' }",
      );
      assert.equal(outcome.kind, "match");
      assertHealthy("import()");
    });
  });
});

type FilterKind = "out-of-fuel" | "out-of-memory" | "stack-overflow";
