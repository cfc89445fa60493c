import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tagBigIntegers } from "../../../src/sandbox/index.js";

describe("tagBigIntegers", () => {
  it("leaves ordinary JSON untouched", () => {
    const json =
      '{"player_id":12345,"f":1.5,"s":"12345678901234567890","max":9007199254740991,"neg":-9007199254740991}';
    assert.deepEqual(tagBigIntegers(json), { json, tagged: false });
  });

  it("tags unsafe integers outside strings only", () => {
    const json =
      '{"a":12345678901234567890,"b":"x\\"12345678901234567890","c":[-9007199254740993,1.2345678901234567890e5]}';
    const { json: out, tagged } = tagBigIntegers(json);
    assert.equal(tagged, true);
    const parsed = JSON.parse(out) as { a: string; b: string; c: [string, number] };
    assert.equal(parsed.a, "\u0000rtcrm:bigint:12345678901234567890");
    assert.equal(parsed.b, 'x"12345678901234567890');
    assert.equal(parsed.c[0], "\u0000rtcrm:bigint:-9007199254740993");
    assert.equal(parsed.c[1], Number("1.2345678901234567890e5"));
  });
});
