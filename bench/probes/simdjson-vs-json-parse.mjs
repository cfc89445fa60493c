// Probe behind the README dependency table: npm simdjson against V8 JSON.parse on a seed event.
// Run: npm install --no-save simdjson && node bench/probes/simdjson-vs-json-parse.mjs
import { createRequire } from "module";
const require = createRequire(import.meta.url);
const simdjson = require("simdjson");
const ev =
  '{"schema_version":"2023110110010101","event_id":"7a8d0614-4e8e-4464-b439-36e31441a040","system_type":"game","system_name":"foe-backend","game":"foe","market":"de","player_id":12345,"event_type":"progress","event_name":"fight","event_scope":"user","created_at":"2023-11-20T11:00:00.00Z","received_at":"2023-11-20T11:00:02.00Z","hostname":"foe-backend-1.ig.com","context":{},"data":{"result":"loss"}}';
const N = 300000;
function bench(name, fn) {
  for (let i = 0; i < 20000; i++) fn();
  const t = process.hrtime.bigint();
  let x = 0;
  for (let i = 0; i < N; i++) x += fn() ? 1 : 0;
  if (x < 0) console.log(x);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(name, Math.round(N / s), "events/s");
  return N / s;
}
for (let r = 0; r < 3; r++) {
  const a = bench("JSON.parse + game/event_name", () => {
    const o = JSON.parse(ev);
    return o.game === "foe" && o.event_name === "fight";
  });
  const b = bench("simdjson.parse (lazy) + valueForKeyPath", () => {
    const t = simdjson.lazyParse(ev);
    return t.valueForKeyPath("game") === "foe" && t.valueForKeyPath("event_name") === "fight";
  });
  const c = bench("simdjson.parse (full)", () => {
    const o = simdjson.parse(ev);
    return o.game === "foe";
  });
  const d = bench("simdjson.isValid", () => simdjson.isValid(ev));
  console.log(
    "ratios vs JSON.parse: lazy",
    (b / a).toFixed(2),
    "full",
    (c / a).toFixed(2),
    "isValid",
    (d / a).toFixed(2),
  );
}
