import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artefactHash, FilterCompiler } from "../../../src/compile/filter-compiler.js";
import { FilterError } from "../../../src/errors.js";
import { loadEngineModule } from "../../../src/sandbox/engine-module.js";
import { readFilterModuleInfo } from "../../../src/sandbox/filter-module.js";

const SOURCE = "function(event) { return event.getData().get('result') === 'loss' }";
const engine = loadEngineModule();
const freshDir = () => join(mkdtempSync(join(tmpdir(), "rtcrm-fc-")), "filters-compiled");

test("a filter is compiled once into a content-addressed WebAssembly artefact", () => {
  const dir = freshDir();
  const compiler = new FilterCompiler(engine, dir);
  const a = compiler.compileSync(SOURCE);
  assert.equal(a.hash, artefactHash(engine.version, SOURCE));
  assert.deepEqual(readdirSync(dir), [`${a.hash}.wasm`]);
  assert.equal(readFilterModuleInfo(a.module).engineVersion, engine.version);
  const again = compiler.compileSync(SOURCE);
  assert.equal(again, a);
  assert.deepEqual(compiler.stats, { compiled: 1, reused: 0, cached: 1 });
});

test("a forgotten filter leaves the memory cache and is read back from its artefact", () => {
  const compiler = new FilterCompiler(engine, freshDir());
  compiler.compileSync(SOURCE);
  compiler.forget(SOURCE);
  compiler.compileSync(SOURCE);
  assert.deepEqual(compiler.stats, { compiled: 1, reused: 1, cached: 0 });
});

test("after a restart the artefact is reused, not recompiled", () => {
  const dir = freshDir();
  const first = new FilterCompiler(engine, dir).compileSync(SOURCE);
  const mtime = statSync(first.path).mtimeMs;
  const restarted = new FilterCompiler(engine, dir);
  const second = restarted.compileSync(SOURCE);
  assert.equal(second.hash, first.hash);
  assert.deepEqual(restarted.stats, { compiled: 0, reused: 1, cached: 0 });
  assert.equal(statSync(second.path).mtimeMs, mtime, "the file was not rewritten");
});

test("a changed engine version invalidates the artefact", () => {
  const dir = freshDir();
  const first = new FilterCompiler(engine, dir).compileSync(SOURCE);
  const otherEngine = { ...engine, version: "0".repeat(64) };
  const other = new FilterCompiler(otherEngine, dir);
  const second = other.compileSync(SOURCE);
  assert.notEqual(second.hash, first.hash);
  assert.deepEqual(other.stats, { compiled: 1, reused: 0, cached: 0 });
  assert.equal(readdirSync(dir).length, 2);
});

test("a damaged artefact is compiled again", async () => {
  const { writeFileSync } = await import("node:fs");
  const dir = freshDir();
  const first = new FilterCompiler(engine, dir).compileSync(SOURCE);
  writeFileSync(first.path, "garbage");
  const again = new FilterCompiler(engine, dir);
  again.compileSync(SOURCE);
  assert.deepEqual(again.stats, { compiled: 1, reused: 0, cached: 0 });
});

test("a filter that cannot compile is rejected with message, line and column, and writes nothing", () => {
  const dir = freshDir();
  const compiler = new FilterCompiler(engine, dir);
  assert.throws(
    () => compiler.compileSync("function(event) {\n  return event.getData().get('x') ==== 1\n}"),
    (e: unknown) =>
      e instanceof FilterError && e.position?.line === 2 && typeof e.position.column === "number",
  );
  assert.throws(() => compiler.compileSync("'not a function'"), FilterError);
  assert.deepEqual(readdirSync(dir), []);
});

test("typeof probes of host globals pass validation and are true in the sandbox, as in the seed's Nashorn", () => {
  const compiler = new FilterCompiler(engine, freshDir());
  const sandbox = compiler.sandbox();
  for (const source of [
    "function(e) { return typeof process === 'undefined' }",
    "function(e) { return typeof require === 'undefined' && typeof module === 'undefined' }",
    "(e) => typeof WebAssembly === 'undefined' && typeof fetch === 'undefined' && typeof setTimeout === 'undefined'",
  ]) {
    const filter = compiler.compileSync(source);
    assert.ok(sandbox.load("probe", filter.module).ok, source);
    const outcome = sandbox.evaluate("probe", '{"game":"foe"}', {
      fuel: 1_000_000,
      memoryBytes: 16 * 1024 * 1024,
      deadlineMs: 60_000,
    });
    assert.equal(outcome.kind, "match", `${source}: ${JSON.stringify(outcome)}`);
    sandbox.unload("probe");
  }
});
