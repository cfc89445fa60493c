// The web UI end to end, as a person uses it: real headless Chromium, the UI server as its own process, a
// real engine (with its metrics endpoint) and the shared broker. Screenshots of each step go to
// test-artifacts/ui/.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { Page } from "playwright-core";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/logging/logger.js";
import { exampleCampaign, exampleEvent } from "../../src/client/examples.js";
import { startUiServer } from "../../src/ui/ui-server.js";
import { freePort, openBrowser, screenshot, startUi, WAIT_MS } from "../helpers/ui-process.js";
import {
  createEngineTopics,
  deleteEngineTopics,
  engineFixture,
  engineSetup,
} from "../helpers/engine-process.js";
import { consumeUntil, produce, readToEnd, within, type Received } from "../helpers/kafka.js";

const row = (page: Page, id: number) => page.locator(`#campaigns tbody tr[data-campaign-id="${id}"]`);

/** The text of an Ace editor of the page (the test's TypeScript has no DOM types: the page code is a string). */
async function editorText(page: Page, editor: "filterEditor" | "eventEditor"): Promise<string> {
  return (await page.evaluate(`window.rtcrm.${editor}.getValue()`)) as string;
}

async function setEditorText(
  page: Page,
  editor: "filterEditor" | "eventEditor",
  text: string,
): Promise<void> {
  await page.evaluate(`window.rtcrm.${editor}.setValue(${JSON.stringify(text)}, 1)`);
}

const VARIANTS = '[{"name": "A", "weight": 50}, {"name": "B", "weight": 50}]';

/** The form's delivery-rule inputs, by their ids. */
const RULE_INPUTS = {
  capMax: "#f-cap-max",
  capPeriod: "#f-cap-period",
  holdout: "#f-holdout",
  variants: "#f-variants",
  maxAge: "#f-max-age",
  priority: "#f-priority",
} as const;
type RuleInputs = Record<keyof typeof RULE_INPUTS, string>;

async function fillRules(page: Page, rules: Partial<RuleInputs>): Promise<void> {
  for (const [name, value] of Object.entries(rules))
    await page.fill(RULE_INPUTS[name as keyof RuleInputs], value);
}

async function rulesInForm(page: Page): Promise<RuleInputs> {
  const shown = {} as RuleInputs;
  for (const [name, selector] of Object.entries(RULE_INPUTS))
    shown[name as keyof RuleInputs] = await page.inputValue(selector);
  return shown;
}

type Counts = { matches: number; triggers: number; capped: number; heldOut: number; expired: number };
const COUNT_CELLS: Record<keyof Counts, string> = {
  matches: "td.matches",
  triggers: "td.triggers",
  capped: "td.capped",
  heldOut: "td.held-out",
  expired: "td.expired",
};

/** Waits until the campaign's row shows these counts (all at once), then checks them one by one. */
async function waitForCounts(page: Page, id: number, counts: Partial<Counts>): Promise<void> {
  const cells = Object.entries(counts).map(([k, n]) => [COUNT_CELLS[k as keyof Counts], String(n)]);
  const selector = `#campaigns tbody tr[data-campaign-id="${id}"]`;
  await page
    .waitForFunction(
      `(() => { const r = document.querySelector(${JSON.stringify(selector)}); return r !== null && ${JSON.stringify(cells)}.every(([c, n]) => r.querySelector(c)?.textContent === n); })()`,
    )
    .catch(async (error: unknown) => {
      const shown = await row(page, id)
        .innerText()
        .catch(() => "no row");
      throw new Error(`campaign ${id}: expected ${JSON.stringify(counts)}; the row: ${shown}`, {
        cause: error,
      });
    });
  for (const [cell, n] of cells)
    assert.equal(
      await row(page, id)
        .locator(cell ?? "")
        .textContent(),
      n,
      cell,
    );
}

/** The campaign form's answer to "Send to Kafka" once it has one ("Sent campaign …" or "Not sent: …"). */
async function sendResult(page: Page): Promise<string> {
  await page.waitForFunction(
    `/^(Sent campaign|Not sent)/.test(document.getElementById("campaign-result").textContent)`,
  );
  return (await page.locator("#campaign-result").textContent()) ?? "";
}

/** Puts `event` in the event editor and sends it; resolves when the page says it was sent. */
async function sendEventFromPage(page: Page, event: object): Promise<void> {
  const before = (await page.locator("#event-result").textContent()) ?? "";
  await setEditorText(page, "eventEditor", JSON.stringify(event, null, 2));
  await page.click("#event-send");
  await page.waitForFunction(
    `(() => { const t = document.getElementById("event-result").textContent; return t.startsWith("Sent to ") && t !== ${JSON.stringify(before)}; })()`,
  );
}

const keyAndEnabled = (r: Received) => [
  r.key,
  r.value === null ? "tombstone" : (JSON.parse(r.value) as { enabled: boolean }).enabled,
];

test("web UI: create a campaign with delivery rules, send events, see the trigger live and the rules counted; a bad filter is shown and not sent", async (t) => {
  const metricsPort = await freePort();
  const fixture = await engineFixture(t, "ui", { http_port: metricsPort, http_host: "127.0.0.1" });
  const { topics } = fixture;
  await fixture.start();
  const ui = await startUi(t, fixture.configPath);
  const browser = await openBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("response", (r) => {
    if (r.status() >= 400 && !r.url().includes("/api/")) pageErrors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  // Confirmations are accepted; an alert is how the page reports a failed write, so it fails the test.
  page.on("dialog", (d) => {
    if (d.type() === "alert") pageErrors.push(`alert: ${d.message()}`);
    void d.accept();
  });
  page.setDefaultTimeout(WAIT_MS);

  // 1. The page opens with the seed's examples in both editors and follows the topics.
  await page.goto(ui.url);
  await page.locator("#kafka-status", { hasText: "Kafka: connected" }).waitFor();
  await page.locator("#campaign-topic", { hasText: topics.campaign_topic }).waitFor();
  await screenshot(page, "opened");

  // 2. Create the example campaign in the UI with delivery rules; the engine accepts it (status topic) and the
  // row says so, rules included.
  // The page opened with the example already: clear it, so that the wait below is for this click's answer
  // (which would otherwise land later and reset the rules filled in next).
  await page.fill("#f-campaign-id", "");
  await page.click("#campaign-example");
  await page.waitForFunction(`document.getElementById("f-campaign-id").value === "4711"`);
  assert.match(await editorText(page, "filterEditor"), /result'\) === 'loss'/);
  await fillRules(page, {
    capMax: "1",
    capPeriod: "PT24H",
    variants: VARIANTS,
    maxAge: "PT10M",
    priority: "2",
  });
  await page.click("#campaign-send");
  assert.match(await sendResult(page), /^Sent campaign 4711/);
  await row(page, 4711).locator(".badge", { hasText: "accepted" }).waitFor();
  assert.deepEqual(await row(page, 4711).locator("td.rules div").allTextContents(), [
    "cap 1 per PT24H",
    "variants A 50 / B 50",
    "max age PT10M",
    "priority 2",
  ]);
  await screenshot(page, "campaign-accepted");

  // After a reload, Edit shows the rules again, and sending them unchanged writes the same record.
  await page.reload();
  await page.locator("#kafka-status", { hasText: "Kafka: connected" }).waitFor();
  // The page opens with the next example (4712): wait for it, or it could land over the campaign being edited.
  await page.waitForFunction(`document.getElementById("f-campaign-id").value === "4712"`);
  await row(page, 4711).locator(".badge", { hasText: "accepted" }).waitFor();
  await row(page, 4711).locator("button[data-action=edit]").click();
  await page.locator("#campaign-heading", { hasText: "Edit campaign 4711" }).waitFor();
  assert.deepEqual(await rulesInForm(page), {
    capMax: "1",
    capPeriod: "PT24H",
    holdout: "",
    variants: JSON.stringify(JSON.parse(VARIANTS)),
    maxAge: "PT10M",
    priority: "2",
  });
  await page.click("#campaign-send");
  await page.locator("#campaign-result", { hasText: "Sent campaign 4711" }).waitFor();

  // 3. Send the example event from the UI; the trigger appears live, as a sentence (with the player's variant)
  // and as the raw record.
  // The page opened with an example already: wait for the new one (its own event_id), not the old one.
  const opened = await editorText(page, "eventEditor");
  await page.click("#event-example");
  await page.waitForFunction(
    `window.rtcrm.eventEditor.getValue() !== ${JSON.stringify(opened)} && window.rtcrm.eventEditor.getValue().includes('"event_id"')`,
  );
  const eventId = (JSON.parse(await editorText(page, "eventEditor")) as { event_id: string }).event_id;
  await page.click("#event-send");
  await page.locator("#event-result", { hasText: `Sent to ${topics.event_topic}` }).waitFor();
  const alert = page.locator("#trigger-alerts li").first();
  await alert.waitFor();
  const sentence =
    /^Trigger campaign 4711 \(variant ([AB])\) for player 12345 in game foe and market de!$/.exec(
      (await alert.textContent())?.trim() ?? "",
    );
  assert.ok(sentence, `the alert: ${await alert.textContent()}`);
  const raw = page.locator("#raw-triggers .raw-line", { hasText: eventId });
  await raw.waitFor();
  const shown = JSON.parse((await raw.textContent()) ?? "") as {
    campaign: { campaign_id: number };
    variant: string;
  };
  assert.equal(shown.campaign.campaign_id, 4711);
  assert.equal(shown.variant, sentence[1]);
  // The page shows what is on the trigger topic, byte for byte.
  const [trigger] = await consumeUntil([topics.trigger_topic], (r) => r.length >= 1);
  assert.equal(await raw.textContent(), trigger?.value);
  assert.match(trigger?.value ?? "", new RegExp(`"event_id":"${eventId}"`));

  // The per-campaign counters come from the engine's /metrics, and the chart from their increase.
  await page.locator("#metrics-status", { hasText: "Counters: live" }).waitFor();
  await waitForCounts(page, 4711, { matches: 1, triggers: 1, capped: 0, heldOut: 0, expired: 0 });
  await row(page, 4711).locator('td.rate svg.spark[data-total="1"][data-peak="1"]').waitFor();

  // The same player again: the cap (1 per PT24H) holds the trigger back.
  await sendEventFromPage(page, exampleEvent(Date.now()));
  await waitForCounts(page, 4711, { matches: 2, triggers: 1, capped: 1, heldOut: 0, expired: 0 });
  // Another player, with an event an hour old: older than max_event_age (PT10M), so it expires.
  await sendEventFromPage(page, {
    ...exampleEvent(Date.now()),
    player_id: 99,
    created_at: new Date(Date.now() - 3_600_000).toISOString(),
  });
  await waitForCounts(page, 4711, { triggers: 1, capped: 1, heldOut: 0, expired: 1 });
  await screenshot(page, "trigger-live");

  // A holdout of 100% for wins: out of range first (the engine's reason shows, nothing is sent), then 100.
  await page.click("#campaign-new");
  await page.fill("#f-campaign-id", "4715");
  await page.fill("#f-game", "foe");
  await page.fill("#f-event-name", "fight");
  await setEditorText(
    page,
    "filterEditor",
    "function(event) {\n  return event.getData().get('result') === 'win'\n}",
  );
  await page.fill("#f-holdout", "150");
  await page.locator("#campaign-problems li", { hasText: "holdout_percent" }).waitFor();
  await page.click("#campaign-send");
  await page.locator("#campaign-result", { hasText: "Not sent" }).waitFor();
  await page.fill("#f-holdout", "100");
  await page.waitForFunction(`document.querySelectorAll("#campaign-problems li").length === 0`);
  await page.click("#campaign-send");
  await row(page, 4715).locator(".badge", { hasText: "accepted" }).waitFor();
  assert.deepEqual(await row(page, 4715).locator("td.rules div").allTextContents(), ["holdout 100%"]);
  await sendEventFromPage(page, { ...exampleEvent(Date.now()), data: { result: "win" } });
  await waitForCounts(page, 4715, { matches: 1, triggers: 0, capped: 0, heldOut: 1, expired: 0 });
  await row(page, 4715).locator('td.rate svg.spark[data-total="0"]').waitFor();
  // Nothing of the last three events reached the trigger topic; the chart of 4711 still counts its one trigger.
  await row(page, 4711).locator('td.rate svg.spark[data-total="1"]').waitFor();
  await screenshot(page, "rules-counted");

  // 4. A filter with a syntax error: the error (with its line) shows before anything is sent ...
  await page.click("#campaign-new");
  await page.fill("#f-campaign-id", "4712");
  await page.fill("#f-game", "foe");
  await page.fill("#f-event-name", "fight");
  await setEditorText(
    page,
    "filterEditor",
    "function(event) {\n  return event.getData(.get('result') === 'loss'\n}",
  );
  const problem = page.locator("#campaign-problems li");
  await problem.filter({ hasText: "syntax error" }).waitFor();
  assert.equal((await problem.allTextContents()).length, 1);
  assert.match((await problem.textContent()) ?? "", /^line 2, column 24: filter: syntax error/);
  await page.locator("#filter-editor .ace_gutter-cell.ace_error", { hasText: "2" }).waitFor();
  await screenshot(page, "syntax-error");
  // ... and Send refuses.
  await page.click("#campaign-send");
  await page.locator("#campaign-result", { hasText: "Not sent" }).waitFor();
  await screenshot(page, "syntax-error-not-sent");

  // The server refuses it too, should a page skip its check.
  const direct = await fetch(`${ui.url}/api/campaigns/4712`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      campaign_id: 4712,
      enabled: true,
      game: "foe",
      event_name: "fight",
      filter: "function(event) {\n  return event.getData(.get('result') === 'loss'\n}",
    }),
  });
  assert.equal(direct.status, 422);
  const refused = (await direct.json()) as { problems: { line?: number; message: string }[] };
  assert.equal(refused.problems[0]?.line, 2);

  // A campaign the engine rejects (written around the UI): shown with the engine's reason.
  await produce(topics.campaign_topic, [
    {
      key: "4714",
      value: JSON.stringify({
        campaign_id: 4714,
        enabled: true,
        game: "foe",
        event_name: "fight",
        filter: "x => true",
        end_date: "soon",
        frequency_cap: { max: 0 },
      }),
    },
  ]);
  const rejected = page.locator('#rejected li[data-campaign-id="4714"]');
  await rejected.filter({ hasText: "end_date must be an ISO-8601 instant" }).waitFor();
  assert.match((await rejected.textContent()) ?? "", /frequency_cap\.max/);
  await row(page, 4714).locator(".badge", { hasText: "rejected" }).waitFor();

  // 5. Fix the filter, save as 4713 (the sentinel that proves 4712 never reached the topic), disable 4711.
  await page.fill("#f-campaign-id", "4713");
  await setEditorText(
    page,
    "filterEditor",
    "function(event) {\n  return event.getData().get('result') === 'win'\n}",
  );
  await page.waitForFunction(`document.querySelectorAll("#campaign-problems li").length === 0`);
  await page.click("#campaign-send");
  await row(page, 4713).locator(".badge", { hasText: "accepted" }).waitFor();
  // A campaign without rules, edited and sent unchanged, is the same record (written twice, compared below).
  await row(page, 4713).locator("button[data-action=edit]").click();
  await page.locator("#campaign-heading", { hasText: "Edit campaign 4713" }).waitFor();
  assert.deepEqual(Object.values(await rulesInForm(page)), ["", "", "", "", "", ""]);
  await page.click("#campaign-send");
  await page.locator("#campaign-result", { hasText: "Sent campaign 4713" }).waitFor();
  await row(page, 4711).locator("button[data-action=toggle]", { hasText: "Disable" }).click();
  await row(page, 4711).locator("td.enabled", { hasText: "no" }).waitFor();
  await row(page, 4711).locator(".badge", { hasText: "accepted" }).waitFor();
  await screenshot(page, "campaigns");

  // 6. Delete 4713 from the list: a tombstone on the topic, the row goes.
  await row(page, 4713).locator("button[data-action=delete]").click();
  await row(page, 4713).waitFor({ state: "detached" });
  // Everything the UI wrote, in order: 4712 (syntax error) is not there, though the page and a direct
  // request both tried before 4713 was written.
  const written = await consumeUntil([topics.campaign_topic], (r) =>
    r.some((x) => x.key === "4713" && x.value === null),
  );
  assert.deepEqual(written.map(keyAndEnabled), [
    ["4711", true],
    ["4711", true],
    ["4715", true],
    ["4714", true],
    ["4713", true],
    ["4713", true],
    ["4711", false],
    ["4713", "tombstone"],
  ]);
  // The rules go after the seed's fields, only those filled in; a form round trip changes no byte.
  const [rules1, rules2, holdout, , seed1, seed2, disabled] = written.map((r) => r.value ?? "");
  const withRules = JSON.parse(rules1 ?? "") as Record<string, unknown>;
  assert.deepEqual(Object.keys(withRules), [
    ...["campaign_id", "enabled", "game", "event_name", "start_date", "end_date", "filter"],
    ...["frequency_cap", "variants", "max_event_age", "priority"],
  ]);
  assert.deepEqual(
    [withRules.frequency_cap, withRules.variants, withRules.max_event_age, withRules.priority],
    [{ max: 1, period: "PT24H" }, JSON.parse(VARIANTS), "PT10M", 2],
  );
  assert.equal(rules2, rules1);
  assert.deepEqual(JSON.parse(disabled ?? ""), { ...withRules, enabled: false });
  assert.deepEqual(Object.keys(JSON.parse(holdout ?? "") as object), [
    ...["campaign_id", "enabled", "game", "event_name", "filter", "holdout_percent"],
  ]);
  assert.deepEqual(Object.keys(JSON.parse(seed1 ?? "") as object), [
    ...["campaign_id", "enabled", "game", "event_name", "filter"],
  ]);
  assert.equal(seed2, seed1);
  // The capped, expired and held-out events triggered nothing: one trigger in all.
  assert.deepEqual(
    (await readToEnd(topics.trigger_topic)).map((r) => r.headers["rtcrm-campaign-id"]),
    ["4711"],
  );
  await screenshot(page, "final");
  assert.deepEqual(pageErrors, []);
});

/** Reads Server-Sent Events from `url` until stopped. */
async function sseReader(t: TestContext, url: string) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const events: { event: string; data: unknown }[] = [];
  const waiters: {
    match: (e: { event: string; data: unknown }) => boolean;
    resolve: (e: unknown) => void;
  }[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event === undefined || data === undefined) continue;
        const e = { event, data: JSON.parse(data) as unknown };
        events.push(e);
        for (const w of waiters.splice(0))
          if (w.match(e)) w.resolve(e.data);
          else waiters.push(w);
      }
    }
  })().catch(() => undefined);
  t.after(async () => {
    controller.abort();
    await reading;
  });
  return {
    events,
    next<T>(what: string, match: (e: { event: string; data: unknown }) => boolean): Promise<T> {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen.data as T);
      return within(
        WAIT_MS,
        `server-sent event: ${what}`,
        new Promise<T>((resolve) => waiters.push({ match, resolve: (d) => resolve(d as T) })),
      );
    },
  };
}

test("web UI server API: checks before writing, refuses foreign pages, pushes changes, says when counters are missing", async (t) => {
  const setup = engineSetup("ui-api");
  await createEngineTopics(setup.topics);
  t.after(() => deleteEngineTopics(setup.topics));
  const closedPort = await freePort();
  const ui = await startUiServer({
    config: loadConfig({ file: setup.configPath, env: {} }).config,
    log: createLogger("warn", { service: "rtcrm-ui-test" }),
    port: 0,
    host: "127.0.0.1",
    metricsUrls: [`http://127.0.0.1:${closedPort}/metrics`],
    metricsIntervalMs: 200,
  });
  t.after(() => within(30_000, "ui close", ui.close()));
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(ui.url + path, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    return {
      status: r.status,
      body: (await r.json()) as Record<string, unknown> & {
        problems?: { message: string; line?: number; column?: number; where?: string }[];
      },
    };
  };
  const live = await sseReader(t, `${ui.url}/api/live`);
  const snapshot = await live.next<{
    topics: { campaign_topic: string };
    metrics: { available: boolean; problem: string };
  }>("snapshot", (e) => e.event === "snapshot");
  assert.equal(snapshot.topics.campaign_topic, setup.topics.campaign_topic);
  await live.next(
    "kafka connected",
    (e) => e.event === "kafka" && (e.data as { connected: boolean }).connected,
  );
  // No engine answers on the metrics URL: the page is told why, not shown zeros.
  type Metrics = {
    available: boolean;
    problem: string;
    exposed: string[];
    triggerRate: { observed: number };
  };
  let metrics: Metrics | undefined;
  for (const deadline = Date.now() + WAIT_MS; Date.now() < deadline; await sleep(100)) {
    metrics = (await call("GET", "/api/state")).body.metrics as Metrics;
    if (metrics.problem !== "not read yet") break;
  }
  assert.equal(metrics?.available, false);
  assert.match(metrics?.problem ?? "", /connection refused/);
  // Nothing read, so no count is claimed (the page shows "–") and the chart has no point yet.
  assert.deepEqual(metrics?.exposed, []);
  assert.equal(metrics?.triggerRate.observed, 0);

  const good = exampleCampaign(Date.now());
  const bad = {
    ...good,
    campaign_id: 4712,
    start_date: "tomorrow",
    filter: "function(event) {\n  return require('fs')\n}",
  };
  assert.deepEqual((await call("POST", "/api/check", good)).body, { ok: true, problems: [] });
  const checked = await call("POST", "/api/check", bad);
  assert.equal(checked.body.ok, false);
  assert.deepEqual(
    checked.body.problems?.map((p) => [p.where, p.line, p.column]),
    [
      ["campaign", undefined, undefined],
      ["filter", 2, 10],
    ],
  );
  assert.equal((await call("POST", "/api/check", "{ not json")).body.ok, false);
  // Delivery rules are checked by the engine's own validation: every bad value with its reason.
  const badRules = await call("POST", "/api/check", {
    ...good,
    frequency_cap: { max: -1, period: "1 day" },
    holdout_percent: 101,
    variants: [{ name: "A", weight: 0 }],
    max_event_age: "10 minutes",
    priority: 1.5,
  });
  assert.deepEqual(
    badRules.body.problems?.map((p) => [p.where, /^[a-z_]+/.exec(p.message)?.[0]]),
    [
      ["campaign", "frequency_cap"],
      ["campaign", "frequency_cap"],
      ["campaign", "holdout_percent"],
      ["campaign", "variants"],
      ["campaign", "max_event_age"],
      ["campaign", "priority"],
    ],
  );
  // The filter runs once on an example event under the engine's limits: one that never returns is refused.
  const looping = await call("POST", "/api/check", { ...good, filter: "function(e) { for (;;) {} }" });
  assert.equal(looping.body.ok, false);
  assert.deepEqual(
    looping.body.problems?.map((p) => [p.where, p.line]),
    [["filter", undefined]],
  );
  assert.match(
    looping.body.problems?.[0]?.message ?? "",
    /^filter: (ran out of fuel|did not finish within the call deadline) on the example event/,
  );

  // Nothing is written for a campaign that fails its check, a foreign page, a body not sent as JSON, or an id
  // that differs from the URL's.
  assert.equal((await call("PUT", "/api/campaigns/4712", bad)).status, 422);
  assert.equal(
    (await call("PUT", "/api/campaigns/4711", good, { origin: "http://evil.example" })).status,
    403,
  );
  assert.equal(
    (await call("DELETE", "/api/campaigns/4711", undefined, { origin: "http://evil.example" })).status,
    403,
  );
  const plain = await fetch(`${ui.url}/api/campaigns/4711`, {
    method: "PUT",
    headers: { "content-type": "text/plain" },
    body: JSON.stringify(good),
  });
  assert.equal(plain.status, 415);
  assert.equal((await call("PUT", "/api/campaigns/4713", good)).status, 400);
  assert.equal((await call("GET", "/api/nothing")).status, 404);

  // A good one is written, and every open page hears of it from the topic.
  assert.deepEqual((await call("PUT", "/api/campaigns/4711", good)).body, { ok: true, campaignId: 4711 });
  const pushed = await live.next<{ entry: { value: unknown; source: string } }>(
    "campaign 4711",
    (e) => e.event === "campaign" && (e.data as { campaignId: number }).campaignId === 4711,
  );
  assert.deepEqual(pushed.entry.value, good);
  assert.equal(pushed.entry.source, `${setup.topics.campaign_topic}/0/0`);
  // The next example does not overwrite it.
  assert.equal((await call("GET", "/api/examples/campaign")).body.campaign_id, 4712);
  assert.equal((await call("DELETE", "/api/campaigns/4711")).status, 200);
  await live.next(
    "campaign 4711 deleted",
    (e) => e.event === "campaign" && (e.data as { entry: unknown }).entry === null,
  );
  const campaignRecords = await consumeUntil([setup.topics.campaign_topic], (r) => r.length >= 2);
  assert.deepEqual(campaignRecords.map(keyAndEnabled), [
    ["4711", true],
    ["4711", "tombstone"],
  ]);

  // Events: what the engine would dead-letter is refused with its reason; a good one goes out on one line.
  const notObject = await call("POST", "/api/events", "[1]");
  assert.equal(notObject.status, 422);
  assert.match(notObject.body.problems?.[0]?.message ?? "", /not a JSON object/);
  const noGame = await call("POST", "/api/events", { event_name: "fight" });
  assert.equal(noGame.body.problems?.[0]?.message, "game is missing");
  const event = { ...exampleEvent(Date.now()), player_id: "__BIG__" };
  const pretty = JSON.stringify(event, null, 2).replace('"__BIG__"', "123456789012345678901");
  const sent = await call("POST", "/api/events", pretty);
  assert.equal(sent.status, 200);
  assert.equal(sent.body.partition, 0);
  const [record] = await consumeUntil([setup.topics.event_topic], (r) => r.length >= 1);
  assert.equal(record?.value, JSON.stringify(event).replace('"__BIG__"', "123456789012345678901"));
});
