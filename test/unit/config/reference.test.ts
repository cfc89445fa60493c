import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { configReference } from "../../../src/config/reference.js";

test("README's configuration reference is the one generated from the schema (npm run docs:config)", () => {
  const readme = readFileSync(new URL("../../../../README.md", import.meta.url), "utf8");
  const start = readme.indexOf("<!-- config-reference:start -->");
  const end = readme.indexOf("<!-- config-reference:end -->");
  assert.ok(start >= 0 && end > start, "README has the config-reference markers");
  const section = readme.slice(start, end).split("\n").slice(1).join("\n").trim();
  assert.equal(section, configReference());
});
