// The campaign set built from the campaign topic: last write per key wins, routing by (game, event_name),
// removals reported so that filters can be unloaded, quarantined versions kept out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CampaignSet,
  type ActiveCampaign,
  type CampaignRecord,
  type CampaignSetOptions,
} from "../../../src/campaigns/campaign-set.js";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { artefactHash, FilterCompiler } from "../../../src/compile/filter-compiler.js";
import { loadEngineModule } from "../../../src/sandbox/engine-module.js";
import { campaign } from "../../helpers/campaigns.js";

const engine = loadEngineModule();
const compiler = new FilterCompiler(engine, join(mkdtempSync(join(tmpdir(), "rtcrm-cs-")), "fc"));
const LOSS = "(e) => e.data.result === 'loss'";
const WIN = "(e) => e.data.result === 'win'";
const NOW = new Date("2024-03-01T12:00:00.000Z");

interface Harness {
  readonly set: CampaignSet;
  readonly removed: ActiveCampaign[];
}

function harness(over: Partial<CampaignSetOptions> = {}): Harness {
  const removed: ActiveCampaign[] = [];
  const set = new CampaignSet({
    compiler,
    limitsFor: (id) => ({ fuel: 1_000 + id, memoryBytes: 2_000 + id, deadlineMs: 3_000 + id }),
    onRemoved: (r) => removed.push(r),
    now: () => NOW,
    ...over,
  });
  return { set, removed };
}

let offset = 0;
/** A campaign record keyed by its id (or `key`), as the campaign topic holds it. */
function rec(value: Record<string, unknown> | string | null, key?: string | null): CampaignRecord {
  const id = typeof value === "object" && value !== null ? value.campaign_id : undefined;
  return {
    key: key === undefined ? (id === undefined ? null : String(id)) : key,
    value: value === null ? null : Buffer.from(typeof value === "string" ? value : JSON.stringify(value)),
    source: `campaigns/0/${offset++}`,
  };
}

const ids = (campaigns: Iterable<ActiveCampaign>): number[] =>
  [...campaigns].map((a) => a.campaign.campaignId);

test("a valid campaign is accepted, with its version, artefact, source and time", async () => {
  const { set, removed } = harness();
  const record = rec(campaign(1, LOSS));
  const status = await set.apply(record);
  const active = set.get(1);
  assert.ok(active);
  assert.deepEqual(status, {
    campaign_id: 1,
    status: "accepted",
    version: active.campaign.versionKey,
    filter_artefact: artefactHash(engine.version, LOSS),
    source: record.source,
    at: NOW.toISOString(),
  });
  assert.equal(active.artefact, artefactHash(engine.version, LOSS));
  assert.ok(active.module instanceof WebAssembly.Module);
  assert.equal(active.campaign.filter, LOSS);
  assert.deepEqual(
    { fuel: active.fuel, memoryBytes: active.memoryBytes, deadlineMs: active.deadlineMs },
    { fuel: 1_001, memoryBytes: 2_001, deadlineMs: 3_001 },
    "the limits come from limitsFor(campaign id)",
  );
  assert.equal(set.size, 1);
  assert.deepEqual(ids(set.all()), [1]);
  assert.deepEqual(removed, []);
});

test("events are routed by (game, event_name) to their campaigns only, in campaign id order", async () => {
  const { set } = harness();
  for (const r of [
    campaign(30, LOSS),
    campaign(4, WIN),
    campaign(12, LOSS, { event_name: "quest" }),
    campaign(7, LOSS, { game: "elvenar" }),
    campaign(9, WIN),
  ]) {
    assert.equal((await set.apply(rec(r))).status, "accepted");
  }
  assert.deepEqual(ids(set.route("foe", "fight")), [4, 9, 30]);
  assert.deepEqual(ids(set.route("foe", "quest")), [12]);
  assert.deepEqual(ids(set.route("elvenar", "fight")), [7]);
  assert.deepEqual(set.route("elvenar", "quest"), []);
  assert.deepEqual(set.route("fo", "efight"), [], "game and event name do not run into each other");
  assert.deepEqual(set.route("FOE", "fight"), [], "names are compared exactly");
  assert.equal(set.size, 5);
});

test("a disabled or out-of-window campaign is still in the set (evaluation decides on dates and enabled)", async () => {
  const { set } = harness();
  await set.apply(rec(campaign(1, LOSS, { enabled: false })));
  await set.apply(rec(campaign(2, LOSS, { start_date: null, end_date: "2000-01-01T00:00:00Z" })));
  assert.deepEqual(ids(set.route("foe", "fight")), [1, 2]);
  assert.equal(set.get(1)?.campaign.enabled, false);
});

test("a new version replaces the old one everywhere, and the old version is reported removed", async () => {
  const { set, removed } = harness();
  await set.apply(rec(campaign(5, LOSS)));
  await set.apply(rec(campaign(6, LOSS)));
  const v1 = set.get(5);
  assert.ok(v1);
  const status = await set.apply(rec(campaign(5, WIN)));
  const v2 = set.get(5);
  assert.ok(v2);
  assert.equal(status.status, "accepted");
  assert.equal(status.version, v2.campaign.versionKey);
  assert.notEqual(v2.campaign.versionKey, v1.campaign.versionKey);
  assert.equal(v2.campaign.filter, WIN);
  assert.deepEqual(removed, [v1]);
  assert.equal(set.size, 2);
  assert.deepEqual(
    set.route("foe", "fight").map((a) => a.campaign.versionKey),
    [v2.campaign.versionKey, set.get(6)?.campaign.versionKey],
    "one entry per campaign, the new version",
  );
});

test("a new version on another (game, event_name) moves the campaign to that route", async () => {
  const { set, removed } = harness();
  await set.apply(rec(campaign(5, LOSS)));
  const v1 = set.get(5);
  await set.apply(rec(campaign(5, LOSS, { game: "elvenar", event_name: "quest" })));
  assert.deepEqual(set.route("foe", "fight"), []);
  assert.deepEqual(ids(set.route("elvenar", "quest")), [5]);
  assert.deepEqual(removed, [v1]);
});

test("a route handed out earlier is not changed by later records (a batch keeps the view it routed with)", async () => {
  const { set } = harness();
  await set.apply(rec(campaign(1, LOSS)));
  const before = set.route("foe", "fight");
  await set.apply(rec(campaign(2, LOSS)));
  await set.apply(rec(null, "1"));
  assert.deepEqual(ids(before), [1]);
  assert.deepEqual(ids(set.route("foe", "fight")), [2]);
});

test("a tombstone deletes the campaign and reports it removed; one for an unknown id changes nothing", async () => {
  const { set, removed } = harness();
  await set.apply(rec(campaign(8, LOSS)));
  const active = set.get(8);
  const record = rec(null, "8");
  assert.deepEqual(await set.apply(record), {
    campaign_id: 8,
    status: "deleted",
    source: record.source,
    at: NOW.toISOString(),
  });
  assert.equal(set.get(8), undefined);
  assert.equal(set.size, 0);
  assert.deepEqual(set.route("foe", "fight"), []);
  assert.deepEqual(removed, [active]);

  await set.apply(rec(campaign(9, LOSS)));
  assert.equal((await set.apply(rec(null, "99"))).status, "deleted");
  assert.equal((await set.apply({ key: "8", value: new Uint8Array(0), source: "s" })).status, "deleted");
  assert.deepEqual(ids(set.all()), [9]);
  assert.equal(removed.length, 1, "nothing else was removed");
});

test("a tombstone without a numeric key is rejected, saying what the key must be", async () => {
  const { set } = harness();
  await set.apply(rec(campaign(1, LOSS)));
  for (const key of [null, "one", "1.5", "99999999999999999999"]) {
    const status = await set.apply(rec(null, key));
    assert.equal(status.status, "rejected", String(key));
    assert.equal(status.campaign_id, null);
    assert.match(status.reasons?.[0] ?? "", /tombstone needs the campaign id as key/);
  }
  assert.equal(set.size, 1);
});

test("an invalid record removes the campaign of its key: the latest record decides", async () => {
  const { set, removed } = harness();
  for (const id of [1, 2, 3, 4]) await set.apply(rec(campaign(id, LOSS)));
  const [a1, a2, a3, a4] = [1, 2, 3, 4].map((id) => set.get(id));

  const notJson = await set.apply(rec("{not json", "1"));
  assert.equal(notJson.status, "rejected");
  assert.equal(notJson.campaign_id, 1);
  assert.match(notJson.reasons?.[0] ?? "", /^not valid JSON: /);

  const notUtf8: CampaignRecord = { key: "2", value: Buffer.from([0x7b, 0xff, 0x7d]), source: "s" };
  assert.equal((await set.apply(notUtf8)).status, "rejected");

  const invalid = await set.apply(rec(campaign(3, LOSS, { game: "", enabled: "yes" })));
  assert.equal(invalid.status, "rejected");
  assert.equal(invalid.campaign_id, 3);
  assert.equal(invalid.reasons?.length, 2, "every problem is listed");

  const badFilter = await set.apply(rec(campaign(4, "function(e) { return e.data.x ==== 1 }")));
  assert.equal(badFilter.status, "rejected");
  assert.match(badFilter.reasons?.join("\n") ?? "", /^filter: /m);

  assert.equal(set.size, 0);
  assert.deepEqual(removed, [a1, a2, a3, a4]);
});

test("a record whose key is not its campaign_id is rejected and removes both campaigns", async () => {
  const { set, removed } = harness();
  await set.apply(rec(campaign(1, LOSS)));
  await set.apply(rec(campaign(2, LOSS)));
  await set.apply(rec(campaign(3, LOSS)));
  const [a1, a2] = [set.get(1), set.get(2)];
  const status = await set.apply(rec(campaign(2, WIN), "1"));
  assert.equal(status.status, "rejected");
  assert.equal(status.campaign_id, 2);
  assert.deepEqual(status.reasons, ["the record key 1 does not match campaign_id 2"]);
  assert.deepEqual(ids(set.all()), [3]);
  assert.deepEqual(removed, [a2, a1]);

  const badKey = await set.apply(rec(campaign(3, WIN), "three"));
  assert.equal(badKey.status, "rejected");
  assert.deepEqual(badKey.reasons, ['the record key must be the campaign id, got "three"']);
  assert.equal(set.size, 0);
});

test("a record without a key is accepted by its campaign_id; a key with spaces around the id is the id", async () => {
  const { set } = harness();
  assert.equal((await set.apply(rec(campaign(1, LOSS), null))).status, "accepted");
  assert.equal((await set.apply(rec(campaign(2, LOSS), " 2 "))).status, "accepted");
  assert.deepEqual(ids(set.all()), [1, 2]);
});

test("a rejected record leaves other campaigns and unrelated routes alone", async () => {
  const { set, removed } = harness();
  await set.apply(rec(campaign(1, LOSS)));
  await set.apply(rec(campaign(2, WIN, { event_name: "quest" })));
  const status = await set.apply(rec(campaign(3, LOSS, { filter: "" })));
  assert.equal(status.status, "rejected");
  assert.deepEqual(removed, [], "campaign 3 was not in the set: nothing is removed");
  assert.deepEqual(ids(set.route("foe", "fight")), [1]);
  assert.deepEqual(ids(set.route("foe", "quest")), [2]);
});

test("a version quarantined earlier is kept out of the set, and the campaign's previous version goes", async () => {
  const looping = campaign(1, "(e) => { while (true) {} }");
  const parsed = parseCampaign(looping);
  assert.ok(parsed.ok);
  const bad = parsed.campaign.versionKey;
  const { set, removed } = harness({
    quarantined: (versionKey) => (versionKey === bad ? "stopped by the watchdog 3 times" : undefined),
  });
  await set.apply(rec(campaign(1, LOSS)));
  const v1 = set.get(1);
  const record = rec(looping);
  assert.deepEqual(await set.apply(record), {
    campaign_id: 1,
    status: "quarantined",
    reasons: ["this version was quarantined earlier: stopped by the watchdog 3 times"],
    version: bad,
    filter_artefact: artefactHash(engine.version, parsed.campaign.filter),
    source: record.source,
    at: NOW.toISOString(),
  });
  assert.equal(set.get(1), undefined);
  assert.deepEqual(set.route("foe", "fight"), []);
  assert.deepEqual(removed, [v1]);

  assert.equal((await set.apply(rec(campaign(1, WIN)))).status, "accepted", "a new version is let in");
  assert.equal(set.get(1)?.campaign.filter, WIN);
});

test("quarantine() takes the current version out of evaluation and reports it removed", async () => {
  const { set, removed } = harness();
  await set.apply(rec(campaign(1, LOSS)));
  await set.apply(rec(campaign(2, LOSS)));
  const active = set.get(1);
  assert.ok(active);
  assert.deepEqual(set.quarantine(1, active.campaign.versionKey, "out of fuel 3 times", "worker"), {
    campaign_id: 1,
    status: "quarantined",
    reasons: ["out of fuel 3 times"],
    version: active.campaign.versionKey,
    filter_artefact: active.artefact,
    source: "worker",
    at: NOW.toISOString(),
  });
  assert.equal(set.get(1), undefined);
  assert.deepEqual(ids(set.route("foe", "fight")), [2]);
  assert.deepEqual(removed, [active]);
  assert.equal(set.size, 1);
});

test("quarantine() of a version that is not the current one, or of an unknown campaign, does nothing", async () => {
  const { set, removed } = harness();
  await set.apply(rec(campaign(1, LOSS)));
  const old = set.get(1);
  assert.ok(old);
  await set.apply(rec(campaign(1, WIN)));
  assert.equal(set.quarantine(1, old.campaign.versionKey, "late report", "worker"), null);
  assert.equal(set.quarantine(2, old.campaign.versionKey, "unknown", "worker"), null);
  assert.equal(set.get(1)?.campaign.filter, WIN);
  assert.deepEqual(removed, [old], "only the replacement removed v1");
});

test("a filter the compiler cannot handle for another reason is rejected with that reason", async () => {
  const failing: CampaignSetOptions["compiler"] = {
    compile: () => Promise.reject(new Error("disk full")),
  };
  const { set } = harness({ compiler: failing });
  const status = await set.apply(rec(campaign(1, LOSS)));
  assert.equal(status.status, "rejected");
  assert.deepEqual(status.reasons, ["filter could not be compiled: disk full"]);
  assert.equal(set.size, 0);
});
