// Templated campaigns, as a CRM team makes them: a handful of filter templates, each instantiated many times
// with other constants, other dates (some not started yet, some ended, some disabled) and other ids, spread
// over the (game, event_name) routes with a skew, so that a busy route such as foe/fight gets hundreds. Seeded
// and reproducible; the first n campaigns of a larger count are the n campaigns of a smaller one, so the cases
// of a scaling run grow one set rather than draw new ones.
//
// The sources are exact on purpose: the engine is being taught to recognise simple comparisons (templates a-e)
// and to share identical stateless sources (f, g, and every repeated constant of a-e). Spacing, quotes and
// operators must stay as they are here for the measurements of that work to mean what they say.
import { EVENT_NAMES, GAMES, rng } from "./generator.js";

/**
 * The generator's markets in its order (most frequent first). generator.ts keeps its list private; this is
 * the same eight, and a market missing from the events would only make template c never match.
 */
const MARKETS = ["de", "us", "fr", "pl", "br", "jp", "es", "it"] as const;

export type TemplateName =
  | "a:level==N"
  | "b:level==N&&loss"
  | "c:market&&gold>G"
  | "d:loss&&level>=L"
  | "e:score>S"
  | "f:rare-items (shared)"
  | "g:whale-tags(K)";

interface Template {
  readonly name: TemplateName;
  /** Share of the campaigns made from this template. */
  readonly weight: number;
  readonly source: (random: () => number) => string;
}

const int = (random: () => number, from: number, count: number, step = 1): number =>
  from + step * Math.floor(random() * count);

// Selectivity per call on the generator's events (level uniform 0..199, result one of three, gold uniform
// 0..99,999, score uniform 0..9,999.99, market Zipf over eight, 0-7 items each rare with p 0.1, 0-3 tags of
// five): the constants keep every template at about 0.1-2 % (g: 12-26 %, hence its small share), so that
// triggers per event stay around one at 10,000 campaigns. Each trigger is a Kafka record: a workload whose
// triggers grew with the campaigns would measure the producer, not the evaluation.
export const TEMPLATES: readonly Template[] = [
  {
    name: "a:level==N",
    weight: 0.23,
    // 200 levels: at most 200 distinct sources, p = 0.5 %.
    source: (r) => `function(event) { return event.getData().get('level') === ${int(r, 0, 200)} }`,
  },
  {
    name: "b:level==N&&loss",
    weight: 0.16,
    source: (r) =>
      `function(event) { return event.getData().get('level') === ${int(r, 0, 200)} && event.getData().get('result') === 'loss' }`,
  },
  {
    name: "c:market&&gold>G",
    weight: 0.2,
    // G 95,000..99,900 in steps of 100 (p 0.1-5 %) times the market's share (4.6-37 %).
    source: (r) =>
      `(event) => event.getMarket() === '${MARKETS[int(r, 0, MARKETS.length)] as string}' && event.getData().get('gold') > ${int(r, 95_000, 50, 100)}`,
  },
  {
    name: "d:loss&&level>=L",
    weight: 0.14,
    // L 190..199: p (200 - L) / 200 / 3 = 0.17-1.7 %.
    source: (r) =>
      `function(event) { return event.getData().get('result') === 'loss' && event.getData().get('level') >= ${int(r, 190, 10)} }`,
  },
  {
    name: "e:score>S",
    weight: 0.12,
    // S 9,850..9,990 in steps of 10: p 0.1-1.5 %.
    source: (r) => `function(event) { return event.getData().get('score') > ${int(r, 9_850, 15, 10)} }`,
  },
  {
    name: "f:rare-items (shared)",
    weight: 0.135,
    // One source for every campaign of this template (p 0.7 %): they differ only in dates and ids.
    source: () =>
      "function(event) { let n = 0; for (const it of event.getData().get('items')) if (it.rare) n++; return n >= 3; }",
  },
  {
    name: "g:whale-tags(K)",
    weight: 0.015,
    // K 1..3: three distinct sources; p 26 %, 21 % and 12 %, which is why this template is rare.
    source: (r) =>
      `function(event) { const t = event.getData().get('tags'); return t.indexOf('whale') >= 0 && t.length >= ${int(r, 1, 3)}; }`,
  },
];

export interface TemplatedCampaign {
  readonly campaign_id: number;
  readonly enabled: boolean;
  readonly game: string;
  readonly event_name: string;
  readonly start_date: string;
  readonly end_date?: string;
  readonly filter: string;
  readonly template: TemplateName;
  readonly state: "active" | "not-started" | "ended" | "disabled";
}

/**
 * Zipf-like with exponent `s` (weight 1/(i+1)^s). Campaigns follow the traffic, but less steeply than the
 * events (s 1): a CRM team puts many campaigns on its busiest routes and some on quiet ones, never all on
 * foe/fight. With s 0.85, foe/fight gets about 7 % of the campaigns (about 700 of 10,000).
 */
function skewedIndex(random: () => number, n: number, s: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += 1 / (i + 1) ** s;
  let x = random() * total;
  for (let i = 0; i < n; i++) {
    x -= 1 / (i + 1) ** s;
    if (x <= 0) return i;
  }
  return n - 1;
}

function pickTemplate(random: () => number): Template {
  let x = random();
  for (const t of TEMPLATES) {
    x -= t.weight;
    if (x <= 0) return t;
  }
  return TEMPLATES[TEMPLATES.length - 1] as Template;
}

const DAY_MS = 86_400_000;
const DATED = ["active", "not-started", "ended"] as const;

/** An instant `days` (fractional) after `from`, to the minute, as a CRM tool writes it. */
function instant(from: string, days: number): string {
  const ms = Date.parse(from) + Math.floor((days * DAY_MS) / 60_000) * 60_000;
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/**
 * The engine checks dates against its own clock (processing time), and so does the expectation, taken when
 * the workload is written: every date is years away from any plausible "now" of a run (2026-2029), so a
 * campaign is in the same state for both.
 */
function dates(random: () => number, state: TemplatedCampaign["state"]): { start: string; end?: string } {
  switch (state) {
    case "not-started":
      return {
        start: instant("2031-01-01T00:00:00Z", random() * 700),
        end: instant("2033-01-01T00:00:00Z", random() * 700),
      };
    case "ended":
      return {
        start: instant("2022-01-01T00:00:00Z", random() * 300),
        end: instant("2023-01-01T00:00:00Z", random() * 700),
      };
    default: {
      const start = instant("2023-01-01T00:00:00Z", random() * 700);
      // One active campaign in ten runs until it is switched off: no end date.
      return random() < 0.1 ? { start } : { start, end: instant("2031-01-01T00:00:00Z", random() * 3_000) };
    }
  }
}

/**
 * `count` templated campaigns with ids from `firstId`. Campaign i depends only on the seed and on i's
 * predecessors, so a smaller count is a prefix of a larger one. 70 % are active; 10 % each not started yet,
 * ended, and disabled (with dates of any kind). The campaign schema has no offer field (an unknown field
 * rejects the campaign), so what differs between two campaigns of one source is their id, state and dates.
 */
export function generateTemplatedCampaigns(seed: number, count: number, firstId = 1): TemplatedCampaign[] {
  const random = rng(seed ^ 0x7e3a);
  return Array.from({ length: count }, (_, i) => {
    const game = GAMES[skewedIndex(random, GAMES.length, 0.85)] as string;
    const eventName = EVENT_NAMES[skewedIndex(random, EVENT_NAMES.length, 0.85)] as string;
    const template = pickTemplate(random);
    const filter = template.source(random);
    const x = random();
    const state = x < 0.7 ? "active" : x < 0.8 ? "not-started" : x < 0.9 ? "ended" : "disabled";
    // A disabled campaign keeps whatever dates it had: the flag decides before the dates do.
    const dated = state === "disabled" ? (DATED[int(random, 0, DATED.length)] ?? "active") : state;
    const when = dates(random, dated);
    return {
      campaign_id: firstId + i,
      enabled: state !== "disabled",
      game,
      event_name: eventName,
      start_date: when.start,
      ...(when.end === undefined ? {} : { end_date: when.end }),
      filter,
      template: template.name,
      state,
    };
  });
}

/** The campaign record as written to the campaign topic (without the generator's `template` and `state`). */
export function templatedRecord(c: TemplatedCampaign): string {
  const { template: _template, state: _state, ...record } = c;
  return JSON.stringify(record);
}

export interface TemplatedFigures {
  campaigns: number;
  active: number;
  distinctSources: number;
  routes: number;
  /** Campaigns of the busiest route and that route. */
  busiestRoute: string;
  busiestRouteCampaigns: number;
  perTemplate: Record<string, { campaigns: number; distinctSources: number }>;
}

const routeKey = (game: string, eventName: string): string => `${game}/${eventName}`;

/** Campaigns per route ("game/event_name"), for the campaigns met per event. */
export function campaignsPerRoute(campaigns: readonly TemplatedCampaign[]): Map<string, number> {
  const routes = new Map<string, number>();
  for (const c of campaigns) {
    const key = routeKey(c.game, c.event_name);
    routes.set(key, (routes.get(key) ?? 0) + 1);
  }
  return routes;
}

export function templatedFigures(campaigns: readonly TemplatedCampaign[]): TemplatedFigures {
  const routes = campaignsPerRoute(campaigns);
  let busiest: [string, number] = ["", 0];
  for (const r of routes) if (r[1] > busiest[1]) busiest = r;
  const perTemplate: Record<string, { campaigns: number; sources: Set<string> }> = {};
  for (const c of campaigns) {
    const t = (perTemplate[c.template] ??= { campaigns: 0, sources: new Set() });
    t.campaigns++;
    t.sources.add(c.filter);
  }
  return {
    campaigns: campaigns.length,
    active: campaigns.filter((c) => c.state === "active").length,
    distinctSources: new Set(campaigns.map((c) => c.filter)).size,
    routes: routes.size,
    busiestRoute: busiest[0],
    busiestRouteCampaigns: busiest[1],
    perTemplate: Object.fromEntries(
      Object.entries(perTemplate)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, t]) => [name, { campaigns: t.campaigns, distinctSources: t.sources.size }]),
    ),
  };
}

export { routeKey };
