// A seeded, reproducible workload shaped like the seed's: events of 300-1000 bytes from several games,
// tens of event names with a skewed (Zipf-like) distribution, player ids from a large range, nested data;
// campaigns with simple, moderate and heavy filters. Used by the benchmarks and by tests.

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const GAMES = ["foe", "elvenar", "forge", "grepolis", "tribalwars"] as const;
export const EVENT_NAMES = [
  "fight",
  "login",
  "logout",
  "purchase",
  "level_up",
  "quest_complete",
  "quest_start",
  "building_upgrade",
  "research_done",
  "trade",
  "chat",
  "guild_join",
  "guild_leave",
  "battle_won",
  "battle_lost",
  "reward_claim",
  "inventory_change",
  "map_move",
  "friend_add",
  "gift_send",
  "gift_receive",
  "tutorial_step",
  "daily_bonus",
  "season_pass",
  "shop_open",
  "shop_close",
  "ad_view",
  "ad_click",
  "notification_open",
  "settings_change",
  "event_join",
  "event_finish",
  "pvp_start",
  "pvp_end",
  "crafting",
  "expedition",
  "treasure",
  "boss_attack",
] as const;
const MARKETS = ["de", "us", "fr", "pl", "br", "jp", "es", "it"];
const RESULTS = ["loss", "win", "draw"];
const ITEM_KINDS = ["wood", "stone", "gold", "gems", "food", "iron", "silk", "crystal"];

/** Zipf-like choice: index i with weight 1/(i+1). */
function skewed<T>(random: () => number, items: readonly T[]): T {
  const weights = items.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let x = random() * total;
  for (const [i, w] of weights.entries()) {
    x -= w;
    if (x <= 0) return items[i] as T;
  }
  return items[items.length - 1] as T;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function uuid(random: () => number): string {
  const hex = () => Math.floor(random() * 16).toString(16);
  const part = (n: number) => Array.from({ length: n }, hex).join("");
  return `${part(8)}-${part(4)}-4${part(3)}-a${part(3)}-${part(12)}`;
}

export interface GeneratedEvent {
  readonly json: string;
  readonly game: string;
  readonly eventName: string;
}

/**
 * `count` events from `seed`; the same arguments always give the same events. With `only`, every event has that
 * game and event name (the rest as without it).
 */
export function* generateEvents(
  seed: number,
  count: number,
  baseMs = Date.parse("2026-01-01T00:00:00Z"),
  only?: { readonly game: string; readonly eventName: string },
): Generator<GeneratedEvent> {
  const random = rng(seed);
  for (let n = 0; n < count; n++) {
    const drawnGame = skewed(random, GAMES);
    const drawnEventName = skewed(random, EVENT_NAMES);
    const game = only?.game ?? drawnGame;
    const eventName = only?.eventName ?? drawnEventName;
    const created = new Date(baseMs + n * 10).toISOString();
    const items = Array.from({ length: Math.floor(random() * 8) }, () => ({
      kind: pick(random, ITEM_KINDS),
      qty: Math.floor(random() * 50),
      rare: random() < 0.1,
    }));
    const event = {
      schema_version: "2023110110010101",
      event_id: uuid(random),
      system_type: "game",
      system_name: `${game}-backend`,
      game,
      market: skewed(random, MARKETS),
      player_id: 1 + Math.floor(random() * 1_000_000_000),
      event_type: random() < 0.7 ? "progress" : "economy",
      event_name: eventName,
      event_scope: "user",
      created_at: created,
      received_at: created,
      hostname: `${game}-backend-${1 + Math.floor(random() * 20)}.ig.com`,
      context: {
        platform: pick(random, ["ios", "android", "web"]),
        version: `1.${Math.floor(random() * 30)}.0`,
        session: uuid(random).slice(0, 13),
      },
      data: {
        result: pick(random, RESULTS),
        level: Math.floor(random() * 200),
        gold: Math.floor(random() * 100_000),
        score: Math.round(random() * 1e6) / 100,
        items,
        tags: Array.from({ length: Math.floor(random() * 4) }, () =>
          pick(random, ["vip", "new", "whale", "churn_risk", "tester"]),
        ),
        ...(random() < 0.3
          ? { boss: { name: pick(random, ["dragon", "troll", "kraken"]), hp: Math.floor(random() * 100) } }
          : {}),
      },
    };
    yield { json: JSON.stringify(event), game, eventName };
  }
}

export type FilterKind = "simple" | "moderate" | "heavy";

export const FILTERS: Record<FilterKind, readonly string[]> = {
  simple: [
    "function(event) { return event.getData().get('result') === 'loss' }",
    "function(event) { return event.data.level > 100 }",
    "function(event) { return event.getMarket() === 'de' }",
  ],
  moderate: [
    "function(event) { var d = event.getData(); return (d.get('result') === 'loss' && d.get('level') > 50) || (d.getOrDefault('gold', 0) > 90000 && event.getMarket() !== 'us') }",
    "function(event) { var c = event.getContext(); return c.get('platform') === 'ios' && c.get('version').indexOf('1.2') === 0 && event.getData().get('tags').contains('vip') }",
    "function(event) { return event.getHostname().split('.')[0].toUpperCase().indexOf('BACKEND-1') > 0 || event.getData().get('score') * 2 > 15000 }",
  ],
  heavy: [
    "function(event) { var items = event.getData().get('items'); var total = 0; for (var i = 0; i < items.size(); i++) { var it = items.get(i); total += it.get('qty') * (it.get('rare') ? 10 : 1); } return total > 150 }",
    "function(event) { var s = ''; var items = event.data.items; for (var i = 0; i < items.length; i++) { s += items[i].kind + ':' + items[i].qty + ';'; } return s.length > 40 && s.indexOf('gems') >= 0 }",
    "(event) => { const counts = {}; for (const it of event.data.items) { counts[it.kind] = (counts[it.kind] || 0) + it.qty; } return Object.keys(counts).filter((k) => counts[k] > 30).length >= 2 }",
  ],
};

export interface GeneratedCampaign {
  readonly campaign_id: number;
  readonly enabled: boolean;
  readonly game: string;
  readonly event_name: string;
  readonly start_date: string;
  readonly end_date: string;
  readonly filter: string;
  readonly kind: FilterKind;
}

/**
 * `count` campaigns; the first ones target the most frequent (game, event_name) pairs so that they see
 * traffic, the rest spread over all pairs. The mix of kinds is simple : moderate : heavy = 2 : 2 : 1.
 */
export function generateCampaigns(seed: number, count: number, firstId = 1): GeneratedCampaign[] {
  const random = rng(seed ^ 0x5eed);
  const kinds: FilterKind[] = ["simple", "moderate", "simple", "moderate", "heavy"];
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length] as FilterKind;
    const popular = i < 20;
    return {
      campaign_id: firstId + i,
      enabled: true,
      game: popular ? (GAMES[i % 2] as string) : pick(random, GAMES),
      event_name: popular ? (EVENT_NAMES[i % 4] as string) : pick(random, EVENT_NAMES),
      start_date: "2020-01-01T00:00:00Z",
      end_date: "2099-01-01T00:00:00Z",
      // Every campaign has a source of its own, as in real use: each is compiled, cached and linked on its own.
      filter: `/* campaign ${firstId + i} */ ${pick(random, FILTERS[kind])}`,
      kind,
    };
  });
}

/** The campaign record as written to the campaign topic (without the generator's `kind`). */
export function campaignRecord(c: GeneratedCampaign): string {
  const { kind: _kind, ...record } = c;
  return JSON.stringify(record);
}
