// A corpus of seed-style filters, each next to the same logic written directly in TypeScript, evaluated on
// generated events (fast-check): the sandboxed answer must equal the TypeScript one for every event.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FilterCompiler } from "../../../src/compile/filter-compiler.js";
import { loadEngineModule } from "../../../src/sandbox/engine-module.js";
import { Sandbox } from "../../../src/sandbox/sandbox.js";
import { EventView } from "../../../src/pool/event-view.js";

interface Item {
  id: string;
  qty: number;
}
interface Ev {
  game: string;
  market: string;
  player_id: number;
  event_name: string;
  created_at: string;
  context: Record<string, string>;
  data: {
    result: string;
    level: number;
    gold?: number;
    items: Item[];
    tags: string[];
    boss?: { name: string; hp: number };
  };
}

/** [filter source, the same logic in TypeScript] */
const CORPUS: [string, (e: Ev) => boolean][] = [
  ["function(event) { return event.getData().get('result') === 'loss' }", (e) => e.data.result === "loss"],
  ["function(event) { return event.data.result === 'win' }", (e) => e.data.result === "win"],
  [
    "function(e) { return e.getGame() === 'foe' && e.getMarket() === 'de' }",
    (e) => e.game === "foe" && e.market === "de",
  ],
  ["function(e) { return e.getPlayerId() % 2 === 0 }", (e) => e.player_id % 2 === 0],
  ["function(e) { return e.getData().get('level') > 50 }", (e) => e.data.level > 50],
  ["function(e) { return e.getData().getOrDefault('gold', 0) >= 1000 }", (e) => (e.data.gold ?? 0) >= 1000],
  ["function(e) { return e.getData().containsKey('boss') }", (e) => e.data.boss !== undefined],
  [
    "function(e) { var b = e.getData().get('boss'); return b !== null && b.get('hp') < 10 }",
    (e) => e.data.boss !== undefined && e.data.boss.hp < 10,
  ],
  ["function(e) { return e.getData().get('items').size() > 2 }", (e) => e.data.items.length > 2],
  [
    "function(e) { var items = e.getData().get('items'); for (var i = 0; i < items.size(); i++) { if (items.get(i).get('qty') > 5) return true; } return false; }",
    (e) => e.data.items.some((x) => x.qty > 5),
  ],
  ["function(e) { return e.getData().get('tags').contains('vip') }", (e) => e.data.tags.includes("vip")],
  ["function(e) { return e.data.tags.indexOf('new') >= 0 }", (e) => e.data.tags.indexOf("new") >= 0],
  ["function(e) { return e.getContext().get('platform') === 'ios' }", (e) => e.context.platform === "ios"],
  ["function(e) { return e.getContext().isEmpty() }", (e) => Object.keys(e.context).length === 0],
  ["function(e) { return e.getData().keySet().size() >= 5 }", (e) => Object.keys(e.data).length >= 5],
  ["function(e) { return e.getMarket().toUpperCase() === 'DE' }", (e) => e.market.toUpperCase() === "DE"],
  ["function(e) { return e.getEventName().indexOf('fi') === 0 }", (e) => e.event_name.indexOf("fi") === 0],
  [
    "function(e) { return e.getCreatedAt().substring(0, 4) === '2023' }",
    (e) => e.created_at.substring(0, 4) === "2023",
  ],
  ["function(e) { return e.playerId > 500 }", (e) => e.player_id > 500],
  ["function(e) { return e.eventName === 'fight' }", (e) => e.event_name === "fight"],
  [
    "function(e) { return (e.getGame() + '-' + e.getMarket()) === 'foe-de' }",
    (e) => `${e.game}-${e.market}` === "foe-de",
  ],
  [
    "function(e) { return Math.floor(e.getData().getOrDefault('gold', 0) / 100) % 3 === 0 }",
    (e) => Math.floor((e.data.gold ?? 0) / 100) % 3 === 0,
  ],
  [
    "function(e) { var d = e.getData(); return d.get('result') === 'loss' || (d.get('result') === 'draw' && d.get('level') > 10) }",
    (e) => e.data.result === "loss" || (e.data.result === "draw" && e.data.level > 10),
  ],
  ["function(e) { return /^f/.test(e.getGame()) }", (e) => /^f/.test(e.game)],
  [
    "function(e) { switch (e.getMarket()) { case 'de': case 'fr': return true; default: return false; } }",
    (e) => e.market === "de" || e.market === "fr",
  ],
  ["({ data }) => data.level % 7 === 3", (e) => e.data.level % 7 === 3],
  [
    "(e) => `${e.market}:${e.data.result}` === 'de:loss'",
    (e) => `${e.market}:${e.data.result}` === "de:loss",
  ],
  ["(e) => e.data.boss?.name === 'dragon'", (e) => e.data.boss?.name === "dragon"],
  ["(e) => (e.data.gold ?? 0) > 500", (e) => (e.data.gold ?? 0) > 500],
  [
    "(e) => e.data.items.filter((x) => x.qty > 1).length >= 2",
    (e) => e.data.items.filter((x) => x.qty > 1).length >= 2,
  ],
  [
    "(e) => e.data.items.reduce((s, x) => s + x.qty, 0) > 10",
    (e) => e.data.items.reduce((s, x) => s + x.qty, 0) > 10,
  ],
  [
    "function(e) { return JSON.stringify(e.data.tags).length > 12 }",
    (e) => JSON.stringify(e.data.tags).length > 12,
  ],
  ["function(e) { return Object.keys(e.getData()).length === 4 }", (e) => Object.keys(e.data).length === 4],
  [
    "function(e) { var n = 0; for (var k in e.data) n++; return n > 4 }",
    (e) => Object.keys(e.data).length > 4,
  ],
  ["function(e) { return e.getData().get('missing') === null }", () => true],
  [
    "function(e) { return typeof e.getPlayerId() === 'number' && e.getPlayerId() < 1000 }",
    (e) => e.player_id < 1000,
  ],
  [
    "function(e) { return e.getData().getOrDefault('gold', 0) / 3 > 100.5 }",
    (e) => (e.data.gold ?? 0) / 3 > 100.5,
  ],
  [
    "function(e) { let [first] = e.data.tags; const { hp = 0 } = e.data.boss || {}; return first === 'vip' || hp > 50 }",
    (e) => e.data.tags[0] === "vip" || (e.data.boss?.hp ?? 0) > 50,
  ],
  [
    "function(e) { return e.getMarket().equals('us') || e.getMarket().equalsIgnoreCase('FR') }",
    (e) => e.market === "us" || e.market === "fr",
  ],
  [
    "function(e) { return new Set(e.data.tags).size !== e.data.tags.length }",
    (e) => new Set(e.data.tags).size !== e.data.tags.length,
  ],
];

const arbEvent: fc.Arbitrary<Ev> = fc.record({
  game: fc.constantFrom("foe", "elvenar", "forge"),
  market: fc.constantFrom("de", "us", "fr"),
  player_id: fc.integer({ min: 1, max: 2000 }),
  event_name: fc.constantFrom("fight", "finish", "login"),
  created_at: fc.constantFrom("2023-11-20T11:00:00.00Z", "2024-01-02T00:00:00Z"),
  context: fc.oneof(fc.constant({}), fc.record({ platform: fc.constantFrom("ios", "android", "web") })),
  data: fc.record(
    {
      result: fc.constantFrom("loss", "win", "draw"),
      level: fc.integer({ min: 0, max: 100 }),
      gold: fc.integer({ min: 0, max: 3000 }),
      items: fc.array(fc.record({ id: fc.string({ maxLength: 4 }), qty: fc.integer({ min: 0, max: 9 }) }), {
        maxLength: 5,
      }),
      tags: fc.array(fc.constantFrom("vip", "new", "whale", "churn"), { maxLength: 4 }),
      boss: fc.record({ name: fc.constantFrom("dragon", "troll"), hp: fc.integer({ min: 0, max: 100 }) }),
    },
    { requiredKeys: ["result", "level", "items", "tags"] },
  ),
});

test(`${CORPUS.length} seed-style filters give the same answers as TypeScript on generated events`, () => {
  assert.ok(CORPUS.length >= 30);
  const engine = loadEngineModule();
  const compiler = new FilterCompiler(engine, join(mkdtempSync(join(tmpdir(), "rtcrm-corpus-")), "fc"));
  const sandbox = new Sandbox(engine.module, { engineVersion: engine.version });
  const compiled = CORPUS.map(([source], i) => {
    const c = compiler.compileSync(source);
    sandbox.load(`f${i}`, c.module);
    return c;
  });
  assert.ok(compiled.filter((c) => c.access !== null).length >= 30, "most filters read known fields");
  const limits = { fuel: 1_000_000, memoryBytes: 16 << 20, deadlineMs: 1_000 };
  fc.assert(
    fc.property(arbEvent, (event) => {
      const json = JSON.stringify(event);
      const view = new EventView(json);
      CORPUS.forEach(([source, expected], i) => {
        const outcome = sandbox.evaluate(`f${i}`, json, limits);
        assert.ok(
          outcome.kind === "match" || outcome.kind === "no-match",
          `${source}: ${JSON.stringify(outcome)} on ${json}`,
        );
        assert.equal(outcome.kind === "match", expected(event), `${source} on ${json}`);
        // Given only the fields it reads, as the workers hand it over, the filter answers the same.
        const projected = view.for(compiled[i] as (typeof compiled)[number]);
        assert.equal(
          sandbox.evaluate(`f${i}`, projected, limits).kind,
          outcome.kind,
          `${source} on ${projected}`,
        );
      });
    }),
    { numRuns: 300, seed: 4711 },
  );
});
