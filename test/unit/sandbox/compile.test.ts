import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildFilterModule, readFilterModuleInfo } from "../../../src/sandbox/index.js";
import { EVENT, LIMITS, SEED_FILTER, engine, newSandbox } from "./helpers.js";

const sandbox = newSandbox();

describe("compile", () => {
  it("compiles an anonymous function to bytecode", () => {
    const result = sandbox.compile(SEED_FILTER);
    assert.ok(result.ok);
    assert.ok(result.bytecode.length > 10);
    const again = sandbox.compile(SEED_FILTER);
    assert.ok(again.ok);
    assert.deepEqual(again.bytecode, result.bytecode, "deterministic bytecode");
  });

  it("accepts arrow functions, comments and trailing line comments", () => {
    for (const source of [
      "e => e.game === 'foe'",
      "// leading\nfunction (event) {\n  return true; // trailing\n} // end",
      "function named(e) { return true }",
    ]) {
      const result = sandbox.compile(source);
      assert.ok(result.ok, source);
    }
  });

  it("reports syntax errors with message and line", () => {
    const result = sandbox.compile("function(event) {\n  var x = 1;\n  return x +* 2;\n}");
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.match(result.message, /SyntaxError/);
    assert.equal(result.line, 3);
  });

  it("rejects sources that are not a function", () => {
    for (const source of ["42", "var x = 1", "'function'", "", "function(e) { return 1 }; 42"]) {
      const result = sandbox.compile(source);
      assert.equal(result.ok, false, source);
    }
    const notFn = sandbox.compile("42");
    assert.equal(!notFn.ok && notFn.message, "filter is not a function");
  });

  it("bounds the top-level code of a source", () => {
    const result = sandbox.compile("(function() { while (true) {} })(), function(e) { return true }");
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.message : "", /fuel/);
  });
});

describe("filter modules", () => {
  it("carry the bytecode and metadata and link into the engine memory", () => {
    const compiled = sandbox.compile(SEED_FILTER);
    assert.ok(compiled.ok);
    const bytes = buildFilterModule(compiled.bytecode, { engineVersion: engine.version, campaignId: 4711 });
    assert.equal(WebAssembly.validate(bytes), true);
    const module = new WebAssembly.Module(bytes);
    const info = readFilterModuleInfo(module);
    assert.equal(info.engineVersion, engine.version);
    assert.equal(info.bytecodeLength, compiled.bytecode.length);
    assert.equal(info["campaignId"], 4711);
    assert.deepEqual(
      WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`),
      ["env.memory:memory", "env.base:global"],
    );

    // instantiating copies the bytecode to `base` in the given memory
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(module, {
      env: { memory, base: new WebAssembly.Global({ value: "i32", mutable: false }, 1000) },
    });
    assert.equal((instance.exports["length"] as WebAssembly.Global).value, compiled.bytecode.length);
    assert.deepEqual(new Uint8Array(memory.buffer, 1000, compiled.bytecode.length), compiled.bytecode);

    assert.deepEqual(sandbox.load("m", module), { ok: true });
    assert.equal(sandbox.evaluate("m", EVENT, LIMITS).kind, "match");
  });

  it("refuses modules for another engine and non-filter modules", () => {
    const compiled = sandbox.compile(SEED_FILTER);
    assert.ok(compiled.ok);
    const foreign = new WebAssembly.Module(
      buildFilterModule(compiled.bytecode, { engineVersion: "0".repeat(64) }),
    );
    const result = sandbox.load("foreign", foreign);
    assert.equal(result.ok, false);
    const outcome = sandbox.evaluate("foreign", EVENT, LIMITS);
    assert.equal(outcome.kind, "threw");
    const empty = new WebAssembly.Module(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
    assert.equal(sandbox.load("empty", empty).ok, false);
  });
});
