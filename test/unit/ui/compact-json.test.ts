import { test } from "node:test";
import assert from "node:assert/strict";
import { compactJson } from "../../../src/ui/compact-json.js";

test("pretty JSON becomes one line; strings, escapes and the digits of big numbers stay as written", () => {
  const pretty =
    '{\n  "a" : [ 1 ,\t2 ],\r\n  "s": "x  y \\" z\\\\",\n  "big": 123456789012345678901234567890\n}\n';
  const compact = compactJson(pretty);
  assert.equal(compact, '{"a":[1,2],"s":"x  y \\" z\\\\","big":123456789012345678901234567890}');
  assert.deepEqual(JSON.parse(compact), JSON.parse(pretty));
  assert.equal(compactJson('"\\\\" '), '"\\\\"');
});
