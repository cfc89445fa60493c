// Integers beyond 2^53 in event JSON (e.g. a 64-bit player_id) would be rounded by any JSON parser that
// makes doubles, QuickJS's included. Before the event reaches the engine, integer literals outside
// strings whose value is not a safe integer are rewritten into tagged strings, which the prelude
// (wasm/prelude.js) turns back into BigInt after parsing. Events without 16+ consecutive digits skip
// all of this after one regular-expression test.

/** Must equal TAG in wasm/prelude.js (the JSON form of "\u0000rtcrm:bigint:"). */
const TAG_JSON = "\\u0000rtcrm:bigint:";
const MAYBE_BIG = /\d{16}/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Returns the JSON unchanged (`tagged: false`) or with every unsafe integer literal tagged. */
export function tagBigIntegers(json: string): { json: string; tagged: boolean } {
  if (!MAYBE_BIG.test(json)) return { json, tagged: false };
  let out = "";
  let last = 0;
  let tagged = false;
  const n = json.length;
  let i = 0;
  while (i < n) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // skip a string
      i++;
      while (i < n) {
        const d = json.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i++;
      let integer = true;
      while (i < n) {
        const d = json.charCodeAt(i);
        if (d >= 0x30 && d <= 0x39) i++;
        else if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) {
          integer = false;
          i++;
        } else break;
      }
      const digits = i - start - (c === 0x2d ? 1 : 0);
      const leadingZero = json.charCodeAt(c === 0x2d ? start + 1 : start) === 0x30;
      if (integer && digits >= 16 && !leadingZero) {
        const token = json.slice(start, i);
        let value: bigint;
        try {
          value = BigInt(token);
        } catch {
          continue; // not a valid literal: leave it for the JSON parser to reject
        }
        if (value > MAX_SAFE || value < -MAX_SAFE) {
          out += json.slice(last, start) + '"' + TAG_JSON + token + '"';
          last = i;
          tagged = true;
        }
      }
      continue;
    }
    i++;
  }
  if (!tagged) return { json, tagged: false };
  return { json: out + json.slice(last), tagged: true };
}
