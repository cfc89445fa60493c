import { test } from "node:test";
import assert from "node:assert/strict";
import { validateFilterSource } from "../../../src/compile/validate-filter.js";
import { FilterError } from "../../../src/errors.js";

function rejects(source: string, message: RegExp, line?: number, column?: number): void {
  assert.throws(
    () => validateFilterSource(source),
    (error: unknown) => {
      assert.ok(error instanceof FilterError, String(error));
      assert.match(error.message, message);
      if (line !== undefined) assert.equal(error.position?.line, line, "line");
      if (column !== undefined) assert.equal(error.position?.column, column, "column");
      assert.equal(error.code, "RTCRM_FILTER_INVALID");
      return true;
    },
  );
}

test("seed-style, ES5 and modern filters are accepted", () => {
  for (const source of [
    "function(event) { return event.getData().get('result') === 'loss' }",
    "function (e) { var n = 0; for (var i = 0; i < e.getData().get('items').size(); i++) n++; return n > 2; }",
    "(e) => e.data?.result ?? false",
    "function(e) { const { data: { result } } = e; return [1, 2].includes(result) || `${result}` === 'loss'; }",
    "function(e) { var require = 1; return require === 1 }",
  ]) {
    assert.deepEqual(validateFilterSource(source).params.length, 1, source);
  }
});

test("a syntax error gives message, line and column in the filter's own text", () => {
  rejects("function(event) {\n  return event.x ===;\n}", /syntax error/, 2, 21);
  rejects("function(event) { return 'unterminated }", /syntax error/, 1, 26);
});

test("strict mode applies, as in the seed", () => {
  rejects("function(e) { with (e) { return true } }", /strict mode/, 1, 15);
  rejects("function(e) { return 010 }", /syntax error/);
});

test("the source must be exactly one function", () => {
  rejects("42", /must be a function/, 1, 1);
  rejects("var x = 1", /syntax error|function/);
  rejects("function(e) { return true }; doSomething()", /./);
  rejects("   ", /empty/);
});

test("forbidden features are named, with their position", () => {
  rejects("function(e) { return require('fs') }", /require is not available/, 1, 22);
  rejects("function(e) {\n return process.env }", /process is not available/, 2, 9);
  rejects("function(e) { return import('fs') }", /import\(\) is not allowed/);
  rejects("function(e) { setTimeout(function(){}, 1); return true }", /timers/);
  rejects("function(e) { return eval('1') }", /eval/);
  rejects("function(e) { return Function('return this')() }", /Function constructor/);
  rejects("function(e) { return new WebAssembly.Memory({initial: 1}) }", /WebAssembly/);
  rejects("async function(e) { return true }", /async/);
  rejects("function*(e) { yield true }", /generator/);
});

test("a forbidden name used as a property or a local is fine", () => {
  validateFilterSource(
    "function(e) { return e.data.process === 'x' && e.getData().get('require') !== null }",
  );
  validateFilterSource("function(e) { var process = e.data; return process.ok }");
});

test("typeof of a forbidden global is a harmless probe and is accepted, as the seed's Nashorn answers it", () => {
  for (const source of [
    "function(e) { return typeof process === 'undefined' }",
    "(e) => typeof WebAssembly === 'undefined' && typeof require !== 'function'",
    "function(e) { return typeof (fetch) === 'undefined' }",
    "function(e) { var t = typeof setTimeout; return t === 'undefined' }",
  ]) {
    assert.equal(validateFilterSource(source).params.length, 1, source);
  }
});

test("every other use of a forbidden global stays rejected, typeof of a member of one included", () => {
  rejects("function(e) { return typeof process.env === 'undefined' }", /process is not available/, 1, 29);
  rejects("function(e) { return typeof require('fs') }", /require is not available/, 1, 29);
  rejects(
    "function(e) { return typeof process === 'undefined' || process.exit(1) }",
    /process is not available/,
    1,
    56,
  );
  rejects("function(e) { return typeof typeof WebAssembly.Memory }", /WebAssembly is not available/);
  rejects("function(e) { return typeof [process][0] }", /process is not available/, 1, 30);
  rejects("function(e) { return void process }", /process is not available/);
});
