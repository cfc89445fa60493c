// Who wrote a campaign, against the real broker and a real engine: `rtcrm campaign put|delete` and the web UI's
// API stamp every record with rtcrm-author / rtcrm-written-at / rtcrm-via, the engine's status records repeat the
// stamp, and `rtcrm campaign history` and GET /api/campaigns/:id/history show the versions with their statuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hostname, userInfo } from "node:os";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/logging/logger.js";
import type { CampaignStatus } from "../../src/campaigns/status.js";
import type { CampaignHistory, HistoryVersion } from "../../src/client/campaign-history.js";
import { startUiServer } from "../../src/ui/ui-server.js";
import { SEED_CAMPAIGN_JSON } from "../fixtures/seed.js";
import { engineFixture } from "../helpers/engine-process.js";
import { consumeUntil, produce, readToEnd, within, type Received } from "../helpers/kafka.js";
import { rtcrm as runCli } from "../helpers/cli-process.js";
import { freePort } from "../helpers/ui-process.js";

const seed = JSON.parse(SEED_CAMPAIGN_JSON) as Record<string, unknown>;

/** `rtcrm args...` with `stdin` piped in and `env` added to an environment without RTCRM_* variables. */
const rtcrm = (args: string[], stdin = "", env: Record<string, string> = {}) => runCli(args, { stdin, env });

/** The status records of `topic` once there are `n`. */
async function statuses(topic: string, n: number): Promise<CampaignStatus[]> {
  const received = await consumeUntil([topic], (r) => r.length >= n, 90_000);
  return received.map((r) => JSON.parse(r.value ?? "null") as CampaignStatus);
}

/** A written-at header: ISO-8601 UTC to the millisecond, between two instants taken around the writes. */
function assertWrittenAt(r: Received, from: number, to: number): void {
  const at = r.headers["rtcrm-written-at"] ?? "";
  assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Date.parse(at) >= from && Date.parse(at) <= to, `${at} outside the test's writes`);
}

const stamp = (r: Received) => [r.headers["rtcrm-author"], r.headers["rtcrm-via"]];
const statusStamp = (s: CampaignStatus) => [s.status, s.written_by, s.written_via];

test("rtcrm campaign put and delete stamp their records, the engine repeats the stamp, history shows it", async (t) => {
  const { topics, configPath, start } = await engineFixture(t, "audit-cli");
  const cfg = ["--config", configPath];
  await start();
  const from = Date.now();

  const v1 = await rtcrm(["campaign", "put", "--wait", "--author", "alice", "-", ...cfg], SEED_CAMPAIGN_JSON);
  assert.equal(v1.code, 0, v1.stderr);
  assert.match(v1.stdout, /campaign 4711 accepted by the engine\n$/);
  // Written by other tooling (kcat, a seed script): no headers; the engine rejects it and says why.
  await produce(topics.campaign_topic, [
    { key: "4711", value: JSON.stringify({ ...seed, end_date: "soon" }) },
  ]);
  const v3 = await rtcrm(
    ["campaign", "put", "--wait", "-", ...cfg],
    JSON.stringify({ ...seed, enabled: false }),
    { RTCRM_AUTHOR: "bob" },
  );
  assert.equal(v3.code, 0, v3.stderr);
  // No --author and no RTCRM_AUTHOR: the OS user at this host, and the Kafka user name of the configuration.
  const del = await rtcrm(["campaign", "delete", "4711", ...cfg], "", {
    RTCRM_KAFKA__SASL_USERNAME: "crm-editor",
  });
  assert.equal(del.code, 0, del.stderr);
  const to = Date.now();
  const osAuthor = `${userInfo().username}@${hostname()} (kafka: crm-editor)`;

  const records = await readToEnd(topics.campaign_topic);
  assert.deepEqual(records.map(stamp), [
    ["alice", "cli"],
    [undefined, undefined],
    ["bob", "cli"],
    [osAuthor, "cli"],
  ]);
  assert.equal(records[3]?.value, null, "the delete is a tombstone, stamped too");
  for (const i of [0, 2, 3]) assertWrittenAt(records[i] as Received, from, to);

  // The engine's status record of each: the same stamp, and none for the record without headers.
  const written = await statuses(topics.campaign_status_topic, 4);
  assert.deepEqual(written.map(statusStamp), [
    ["accepted", "alice", "cli"],
    ["rejected", undefined, undefined],
    ["accepted", "bob", "cli"],
    ["deleted", osAuthor, "cli"],
  ]);
  assert.equal(written[0]?.written_at, records[0]?.headers["rtcrm-written-at"]);
  assert.ok(!("written_by" in (written[1] as CampaignStatus)));

  const history = await rtcrm(["campaign", "history", "4711", ...cfg]);
  assert.equal(history.code, 0, history.stderr);
  const lines = history.stdout.trimEnd().split("\n");
  assert.equal(
    lines[0],
    `campaign 4711: 4 records on ${topics.campaign_topic}, 4 status records on ${topics.campaign_status_topic}`,
  );
  assert.match(lines[1] ?? "", /^OFFSET +TIME +RECORD +AUTHOR +VIA +VERSION +STATUS +STATUS_AT +REASONS$/);
  const iso = "\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z";
  assert.match(lines[2] ?? "", new RegExp(`^0 +${iso} +put +alice +cli +[0-9a-f]{12} +accepted +${iso} +-$`));
  assert.match(
    lines[3] ?? "",
    new RegExp(`^1 +${iso} +put +- +- +- +rejected +${iso} +end_date must be an ISO-8601 instant`),
  );
  assert.match(lines[4] ?? "", new RegExp(`^2 +${iso} +put +bob +cli +[0-9a-f]{12} +accepted `));
  const escaped = osAuthor.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  assert.match(lines[5] ?? "", new RegExp(`^3 +${iso} +deleted +${escaped} +cli +- +deleted +${iso} +-$`));
  assert.equal(lines.length, 6);

  const json = await rtcrm(["campaign", "history", "4711", "--json", ...cfg]);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as CampaignHistory;
  assert.equal(parsed.campaign_id, 4711);
  const versions = parsed.timeline as HistoryVersion[];
  assert.deepEqual(
    versions.map((v) => [v.kind, v.offset, v.record, v.written_by, v.statuses.map((s) => s.status)]),
    [
      ["version", 0, "put", "alice", ["accepted"]],
      ["version", 1, "put", undefined, ["rejected"]],
      ["version", 2, "put", "bob", ["accepted"]],
      ["version", 3, "deleted", osAuthor, ["deleted"]],
    ],
  );
  // The version hash is the engine's: the one its status record names.
  assert.equal(versions[0]?.version, versions[0]?.statuses[0]?.version);
  assert.equal(versions[0]?.written_at, records[0]?.headers["rtcrm-written-at"]);
  assert.deepEqual(versions[2]?.value, { ...seed, enabled: false });

  const none = await rtcrm(["campaign", "history", "4799", ...cfg]);
  assert.equal(none.code, 1);
  assert.equal(none.stdout, "");
  assert.match(none.stderr, /campaign 4799: no record on .* \(never written, or compacted away\)/);
});

test("the web UI's API stamps puts and deletes as via ui, and GET /api/campaigns/:id/history shows them", async (t) => {
  const { topics, configPath, start } = await engineFixture(t, "audit-ui");
  await start();
  const ui = await startUiServer({
    config: loadConfig({ file: configPath, env: {} }).config,
    log: createLogger("warn", { service: "rtcrm-ui-test" }),
    port: 0,
    host: "127.0.0.1",
    metricsUrls: [`http://127.0.0.1:${await freePort()}/metrics`],
  });
  t.after(() => within(30_000, "ui close", ui.close()));
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(ui.url + path, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  const from = Date.now();
  const campaign = { ...seed, campaign_id: 4801 };
  assert.deepEqual(await call("PUT", "/api/campaigns/4801", campaign), {
    status: 200,
    body: { ok: true, campaignId: 4801 },
  });
  assert.equal((await call("DELETE", "/api/campaigns/4801")).status, 200);
  const to = Date.now();

  // Who the UI names depends on its log-in (here none is configured); that it names someone, and the same one
  // on the record, in the status and in the history, does not.
  const records = await readToEnd(topics.campaign_topic);
  const author = records[0]?.headers["rtcrm-author"] ?? "";
  assert.ok(author.length > 0, "the UI names the writer");
  assert.deepEqual(records.map(stamp), [
    [author, "ui"],
    [author, "ui"],
  ]);
  for (const r of records) assertWrittenAt(r, from, to);
  const written = await statuses(topics.campaign_status_topic, 2);
  assert.deepEqual(written.map(statusStamp), [
    ["accepted", author, "ui"],
    ["deleted", author, "ui"],
  ]);

  const history = await call("GET", "/api/campaigns/4801/history");
  assert.equal(history.status, 200);
  const body = history.body as unknown as CampaignHistory;
  assert.equal(body.campaign_topic, topics.campaign_topic);
  assert.deepEqual(
    (body.timeline as HistoryVersion[]).map((v) => [
      v.offset,
      v.record,
      v.written_by,
      v.written_via,
      v.written_at === records[v.offset]?.headers["rtcrm-written-at"],
      v.statuses.map((s) => [s.status, s.source]),
    ]),
    [
      [0, "put", author, "ui", true, [["accepted", `${topics.campaign_topic}/0/0`]]],
      [1, "deleted", author, "ui", true, [["deleted", `${topics.campaign_topic}/0/1`]]],
    ],
  );
  // A campaign never written has an empty history; a path that is not a campaign id is no endpoint.
  const empty = await call("GET", "/api/campaigns/4802/history");
  assert.equal(empty.status, 200);
  assert.deepEqual((empty.body as unknown as CampaignHistory).timeline, []);
  assert.equal((await call("GET", "/api/campaigns/x/history")).status, 404);
});
