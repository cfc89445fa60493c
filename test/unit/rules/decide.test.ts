// decide(): the delivery rules as one pure function of (event, player state, clock). Caps per player for a
// campaign's lifetime and per rolling period, holdouts, the global cap with priorities, expiry, variants.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { NO_RULES, type DeliveryRules, type FrequencyCap } from "../../../src/campaigns/delivery-rules.js";
import {
  bucket,
  decide,
  isHeldOut,
  pickVariant,
  type DecideInput,
  type Delivery,
  type RuleCampaign,
} from "../../../src/rules/decide.js";
import { emptyState, type PlayerState } from "../../../src/rules/player-state.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 2026-01-01T00:00:00Z: the clock of these tests starts here. */
const T0 = Date.UTC(2026, 0, 1);

const TRIGGER: Delivery = { kind: "trigger", variant: null };
const CAPPED: Delivery = { kind: "capped", cap: "campaign" };
const GLOBAL: Delivery = { kind: "capped", cap: "global" };
const HELD_OUT: Delivery = { kind: "held-out" };
const EXPIRED: Delivery = { kind: "expired" };

const AB_1_2 = [
  { name: "A", weight: 1 },
  { name: "B", weight: 2 },
];

const cap = (max: number, periodMs: number | null = null): FrequencyCap => ({
  max,
  periodMs,
  period: periodMs === null ? null : `PT${periodMs / SECOND}S`,
});

function campaign(campaignId: number, rules: Partial<DeliveryRules> = {}): RuleCampaign {
  return { campaignId, rules: { ...NO_RULES, ...rules } };
}

/** One player and their state, deciding event after event as the clock moves. */
class Player {
  readonly state: PlayerState = emptyState();
  constructor(
    readonly id: string,
    readonly globalCap: FrequencyCap | null = null,
  ) {}

  /** The deliveries of one event at `nowMs` (created then, unless `createdMs` says otherwise). */
  at(nowMs: number, candidates: readonly RuleCampaign[], createdMs: number | null = nowMs): Delivery[] {
    const input: DecideInput = { playerId: this.id, nowMs, createdMs, candidates, globalCap: this.globalCap };
    return decide(input, this.state).deliveries;
  }
}

/** Players whose hash puts them in (or out of) campaign `id`'s holdout of `percent`. */
function playersWhere(id: number, percent: number, heldOut: boolean, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (isHeldOut(id, `p${i}`, percent) === heldOut) out.push(`p${i}`);
  return out;
}

test("once per player: the first match triggers, every later one is capped, whenever it comes", () => {
  const once = campaign(1, { frequencyCap: cap(1) });
  const alice = new Player("alice");
  assert.deepEqual(alice.at(T0, [once]), [TRIGGER]);
  assert.deepEqual(alice.at(T0 + SECOND, [once]), [CAPPED]);
  assert.deepEqual(alice.at(T0 + 400 * DAY, [once]), [CAPPED], "a lifetime cap has no period to wait out");
  // Another player, another campaign: their own counts.
  assert.deepEqual(new Player("bob").at(T0 + SECOND, [once]), [TRIGGER]);
  assert.deepEqual(alice.at(T0 + 2 * SECOND, [campaign(2, { frequencyCap: cap(1) })]), [TRIGGER]);
});

test("N per rolling period: a trigger counts until one period after it, as the clock moves", () => {
  const twoPerHour = [campaign(1, { frequencyCap: cap(2, HOUR) })];
  const p = new Player("p");
  assert.deepEqual(p.at(T0, twoPerHour), [TRIGGER]);
  assert.deepEqual(p.at(T0 + 10 * MINUTE, twoPerHour), [TRIGGER]);
  assert.deepEqual(p.at(T0 + 20 * MINUTE, twoPerHour), [CAPPED]);
  assert.deepEqual(p.at(T0 + HOUR - 1, twoPerHour), [CAPPED], "the first trigger still counts");
  assert.deepEqual(p.at(T0 + HOUR, twoPerHour), [TRIGGER], "exactly one period later it no longer counts");
  assert.deepEqual(p.at(T0 + HOUR + 5 * MINUTE, twoPerHour), [CAPPED]);
  assert.deepEqual(p.at(T0 + HOUR + 10 * MINUTE, twoPerHour), [TRIGGER], "rolling: the 10-minute one left");
  // A capped match is not remembered: it never pushes the next trigger further out.
  assert.deepEqual(p.state.campaigns.get(1)?.times, [T0 + HOUR, T0 + HOUR + 10 * MINUTE]);
});

test("many events over days: at most N in any window of one period, and as many as that allows", () => {
  const max = 3;
  const period = 6 * HOUR;
  const ruled = [campaign(9, { frequencyCap: cap(max, period) })];
  const p = new Player("p");
  const triggered: number[] = [];
  // An event every 7 minutes for 3 days.
  for (let t = T0; t < T0 + 3 * DAY; t += 7 * MINUTE) {
    if (p.at(t, ruled)[0]?.kind === "trigger") triggered.push(t);
  }
  for (const [i, t] of triggered.entries()) {
    const inWindow = triggered.filter((u) => u > t - period && u <= t).length;
    assert.ok(inWindow <= max, `${inWindow} triggers in the period ending at trigger ${i}`);
    // Greedy: a trigger comes as soon as the oldest of the last `max` leaves the window.
    if (i >= max) assert.ok(t - (triggered[i - max] as number) < period + 7 * MINUTE);
  }
  // Bursts of 3 (minutes 0, 7, 14), the next at the first event past 6 h after the burst's start (minute 364):
  // bursts at k * 364 minutes for k = 0..11 within 3 days (4320 minutes).
  assert.equal(triggered.length, 12 * max);
});

test("lifetime and period caps of the same max differ only once the period has passed", () => {
  const lifetime = campaign(1, { frequencyCap: cap(2) });
  const daily = campaign(2, { frequencyCap: cap(2, DAY) });
  const p = new Player("p");
  assert.deepEqual(p.at(T0, [lifetime, daily]), [TRIGGER, TRIGGER]);
  assert.deepEqual(p.at(T0 + HOUR, [lifetime, daily]), [TRIGGER, TRIGGER]);
  assert.deepEqual(p.at(T0 + 2 * HOUR, [lifetime, daily]), [CAPPED, CAPPED]);
  assert.deepEqual(p.at(T0 + DAY + HOUR, [lifetime, daily]), [CAPPED, TRIGGER]);
  assert.deepEqual(
    p.state.campaigns.get(1),
    { count: 2, times: [] },
    "a lifetime cap keeps a count, no times",
  );
  assert.equal(p.state.campaigns.get(2)?.count, 0);
});

test("held out: no trigger, counted against the campaign's cap but not against the global cap", () => {
  const [held] = playersWhere(1, 50, true, 1) as [string];
  const [notHeld] = playersWhere(1, 50, false, 1) as [string];
  const global = cap(1, DAY);
  const split = campaign(1, { frequencyCap: cap(1), holdoutPercent: 50 });
  const plain = campaign(2);

  const h = new Player(held, global);
  assert.deepEqual(h.at(T0, [split, plain]), [HELD_OUT, TRIGGER], "the holdout spent none of the global cap");
  assert.deepEqual(h.state.global, [T0], "only the trigger counts globally");
  assert.equal(h.state.campaigns.get(1)?.count, 1, "the holdout counts against the campaign's cap");
  assert.deepEqual(h.at(T0 + DAY, [split]), [CAPPED], "once per player, holdout included");

  const n = new Player(notHeld, global);
  assert.deepEqual(
    n.at(T0, [split, plain]),
    [TRIGGER, GLOBAL],
    "the first trigger takes the one global slot",
  );
  assert.deepEqual(n.at(T0 + 2 * DAY, [split]), [CAPPED]);
});

test("a held-out match of a campaign without a cap changes no state; 0 % holds nobody out, 100 % everyone", () => {
  const [held] = playersWhere(3, 30, true, 1) as [string];
  const state = emptyState();
  const input = (c: RuleCampaign): DecideInput => ({
    playerId: held,
    nowMs: T0,
    createdMs: T0,
    candidates: [c],
    globalCap: null,
  });
  assert.deepEqual(decide(input(campaign(3, { holdoutPercent: 30 })), state), {
    deliveries: [HELD_OUT],
    changed: false,
  });
  assert.deepEqual(decide(input(campaign(3, { holdoutPercent: 0 })), state).deliveries, [TRIGGER]);
  for (let i = 0; i < 200; i++) {
    assert.equal(isHeldOut(3, `q${i}`, 100), true);
    assert.equal(isHeldOut(3, `q${i}`, 0), false);
  }
});

test("holdout share: within statistical bounds of the percent over many players, the same on every call", () => {
  const players = 20_000;
  for (const percent of [10, 50]) {
    let held = 0;
    for (let i = 0; i < players; i++) if (isHeldOut(4711, String(i), percent)) held++;
    const p = percent / 100;
    const sigma = Math.sqrt((p * (1 - p)) / players);
    assert.ok(Math.abs(held / players - p) < 4 * sigma, `${held} of ${players} held out at ${percent} %`);
  }
  // Nested: a player held out at 10 % is held out at 50 % too (raising the share only adds players).
  for (let i = 0; i < 2000; i++)
    if (isHeldOut(4711, String(i), 10)) assert.ok(isHeldOut(4711, String(i), 50));
});

test("global cap: the highest priority wins, ties go to the lower campaign_id, in the candidates' order", () => {
  const global = cap(2, DAY);
  const candidates = [
    campaign(5),
    campaign(3, { priority: 10 }),
    campaign(4),
    campaign(2),
    campaign(7, { priority: -1 }),
  ];
  const p = new Player("p", global);
  assert.deepEqual(p.at(T0, candidates), [GLOBAL, TRIGGER, GLOBAL, TRIGGER, GLOBAL]);
  // The same candidates in another order: the same winners.
  const reversed = [...candidates].reverse();
  const q = new Player("q", global);
  assert.deepEqual(q.at(T0, reversed), [GLOBAL, TRIGGER, GLOBAL, TRIGGER, GLOBAL]);
  // The rest of the day is spent; the next day has two again, and one event with one candidate takes one.
  assert.deepEqual(p.at(T0 + HOUR, [campaign(3, { priority: 10 })]), [GLOBAL]);
  assert.deepEqual(p.at(T0 + DAY, [campaign(7, { priority: -1 })]), [TRIGGER]);
  assert.deepEqual(p.at(T0 + DAY + 1, candidates), [GLOBAL, TRIGGER, GLOBAL, GLOBAL, GLOBAL]);
  assert.deepEqual(p.state.global, [T0 + DAY, T0 + DAY + 1]);
});

test("global cap: matches capped by their campaign, held out or expired spend none of it", () => {
  const global = cap(1, DAY);
  const [held] = playersWhere(2, 50, true, 1) as [string];
  const p = new Player(held, global);
  const once = campaign(1, { frequencyCap: cap(1), priority: 9 });
  assert.deepEqual(p.at(T0, [once]), [TRIGGER]);
  const candidates = [
    once, // capped by its own cap
    campaign(2, { holdoutPercent: 50, priority: 8 }), // held out
    campaign(3, { maxEventAgeMs: MINUTE, priority: 7 }), // expired
    campaign(4, { priority: -5 }),
  ];
  const next = new Player(held, global);
  next.state.campaigns.set(1, { count: 1, times: [] });
  assert.deepEqual(next.at(T0 + HOUR, candidates, T0), [CAPPED, HELD_OUT, EXPIRED, TRIGGER]);
});

test("global cap without a campaign cap: every match counts, and state changes only with a cap", () => {
  const state = emptyState();
  const input: DecideInput = {
    playerId: "p",
    nowMs: T0,
    createdMs: T0,
    candidates: [campaign(1), campaign(2)],
    globalCap: null,
  };
  assert.deepEqual(decide(input, state), { deliveries: [TRIGGER, TRIGGER], changed: false });
  assert.deepEqual(decide({ ...input, globalCap: cap(5, HOUR) }, state), {
    deliveries: [TRIGGER, TRIGGER],
    changed: true,
  });
  assert.deepEqual(state.global, [T0, T0]);
  const expired = { ...input, candidates: [campaign(3, { maxEventAgeMs: 1 })], createdMs: null };
  assert.deepEqual(decide(expired, state), { deliveries: [EXPIRED], changed: false });
});

test("expired: older than max_event_age by created_at at the rules' clock, or without created_at", () => {
  const fresh = campaign(1, { maxEventAgeMs: 10 * MINUTE });
  const p = new Player("p");
  assert.deepEqual(p.at(T0 + 10 * MINUTE, [fresh], T0), [TRIGGER], "exactly the age is not older");
  assert.deepEqual(p.at(T0 + 10 * MINUTE + 1, [fresh], T0), [EXPIRED]);
  assert.deepEqual(p.at(T0, [fresh], T0 + MINUTE), [TRIGGER], "created after the clock: not old");
  assert.deepEqual(p.at(T0, [fresh], null), [EXPIRED], "no created_at: its age cannot be known");
  // Without max_event_age, neither age nor a missing created_at matters.
  assert.deepEqual(p.at(T0 + 400 * DAY, [campaign(2)], T0), [TRIGGER]);
  assert.deepEqual(p.at(T0, [campaign(2)], null), [TRIGGER]);
});

test("expired comes first: an old event of a capped campaign is expired and counts against nothing", () => {
  const ruled = campaign(1, { maxEventAgeMs: MINUTE, frequencyCap: cap(1) });
  const p = new Player("p");
  assert.deepEqual(p.at(T0 + HOUR, [ruled], T0), [EXPIRED]);
  assert.equal(p.state.campaigns.size, 0);
  assert.deepEqual(p.at(T0 + HOUR, [ruled], T0 + HOUR), [TRIGGER]);
  assert.deepEqual(p.at(T0 + 2 * HOUR, [ruled], T0), [EXPIRED], "expired, not capped");
});

test("variants: each player always gets the same one, and the shares follow the weights", () => {
  const variants = [
    { name: "A", weight: 1 },
    { name: "B", weight: 3 },
    { name: "C", weight: 6 },
  ];
  const players = 30_000;
  const counts: Record<string, number> = { A: 0, B: 0, C: 0 };
  for (let i = 0; i < players; i++) {
    const v = pickVariant(variants, 42, `player-${i}`);
    counts[v] = (counts[v] ?? 0) + 1;
  }
  for (const { name, weight } of variants) {
    const p = weight / 10;
    const sigma = Math.sqrt((p * (1 - p)) / players);
    const share = (counts[name] ?? 0) / players;
    assert.ok(Math.abs(share - p) < 4 * sigma, `${name}: ${share} for weight share ${p}`);
  }
  // Through decide: in the trigger, and the same for a player on every event and in a fresh state.
  const ab = campaign(42, { variants });
  const p = new Player("player-7");
  const first = p.at(T0, [ab])[0];
  assert.equal(first?.kind, "trigger");
  assert.equal(first.kind === "trigger" ? first.variant : null, pickVariant(variants, 42, "player-7"));
  for (let i = 1; i < 5; i++) assert.deepEqual(new Player("player-7").at(T0 + i * DAY, [ab]), [first]);
  // One variant of weight 1 is everyone's.
  assert.equal(pickVariant([{ name: "only", weight: 1 }], 42, "x"), "only");
});

test("variants of two campaigns are bucketed independently of each other and of the holdout", () => {
  const ab = AB_1_2.map((v) => ({ ...v, weight: 1 }));
  let same = 0;
  let heldA = 0;
  const n = 10_000;
  for (let i = 0; i < n; i++) {
    const player = `u${i}`;
    if (pickVariant(ab, 1, player) === pickVariant(ab, 2, player)) same++;
    if (isHeldOut(1, player, 50) && pickVariant(ab, 1, player) === "A") heldA++;
  }
  const sigma = Math.sqrt(0.25 / n);
  assert.ok(Math.abs(same / n - 0.5) < 4 * sigma, `${same} of ${n} players in the same variant of both`);
  const sigmaQ = Math.sqrt((0.25 * 0.75) / n);
  assert.ok(Math.abs(heldA / n - 0.25) < 4 * sigmaQ, `${heldA} of ${n} held out and in A`);
});

test("determinism: the bucket is the documented sha-256, so every instance and every run agree", () => {
  const expected = (purpose: string, id: number, player: string) =>
    createHash("sha256").update(`${purpose}\u0000${id}\u0000${player}`).digest().readUInt32BE(0) / 2 ** 32;
  for (const [id, player] of [
    [4711, "12345"],
    [-3, ""],
    [Number.MAX_SAFE_INTEGER, "ä player"],
  ] as const) {
    assert.equal(bucket("holdout", id, player), expected("holdout", id, player));
    assert.equal(bucket("variant", id, player), expected("variant", id, player));
    assert.ok(bucket("holdout", id, player) >= 0 && bucket("holdout", id, player) < 1);
  }
  // Pinned values: a change of the hash would move players between groups of running campaigns.
  assert.equal(bucket("holdout", 4711, "12345"), 770904217 / 2 ** 32);
  assert.equal(bucket("variant", 4711, "12345"), 1958775302 / 2 ** 32);
  const run = () => {
    const players = new Map<string, Player>();
    const out: string[] = [];
    const candidates = [
      campaign(1, { frequencyCap: cap(2, HOUR), holdoutPercent: 20 }),
      campaign(2, { variants: AB_1_2, priority: 3 }),
      campaign(3, { maxEventAgeMs: 5 * MINUTE }),
    ];
    for (let i = 0; i < 3000; i++) {
      // 13 players: each sees an event every 260 s, so that caps of 2 per hour are reached.
      const id = `p${i % 13}`;
      const player = players.get(id) ?? new Player(id, cap(2, HOUR));
      players.set(id, player);
      const now = T0 + i * 20 * SECOND;
      out.push(JSON.stringify(player.at(now, candidates, now - (i % 11) * MINUTE)));
    }
    return out;
  };
  const first = run();
  assert.deepEqual(run(), first);
  const kinds = new Set(first.flatMap((d) => (JSON.parse(d) as Delivery[]).map((x) => JSON.stringify(x))));
  for (const k of [HELD_OUT, EXPIRED, CAPPED, GLOBAL, { kind: "trigger", variant: "B" }])
    assert.ok(kinds.has(JSON.stringify(k)), `the run shows ${JSON.stringify(k)}`);
});
