// Log-in in the browser (real headless Chromium, the UI server as its own process, the shared broker): the
// page leads to the log-in; a viewer sees everything and writes nothing; an editor writes, and the record
// names her; log-out; and an expired session takes the open page back to the log-in by itself.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { hashPassword } from "../../src/ui/auth/password-hash.js";
import { createEngineTopics, deleteEngineTopics, engineSetup } from "../helpers/engine-process.js";
import { readToEnd } from "../helpers/kafka.js";
import { openBrowser, screenshot, startUi, WAIT_MS } from "../helpers/ui-process.js";

const PASSWORD = "correct horse battery";

async function uiWithLogIn(t: TestContext, name: string, sessionTtlS: number) {
  const hash = await hashPassword(PASSWORD);
  const setup = engineSetup(name, {
    ui_auth: "password",
    ui_users: { alice: hash, victor: hash },
    ui_roles: { alice: "editor" },
    ui_session_ttl_s: sessionTtlS,
  });
  writeFileSync(setup.configPath, JSON.stringify(setup.config));
  await createEngineTopics(setup.topics);
  t.after(() => deleteEngineTopics(setup.topics));
  const ui = await startUi(t, setup.configPath);
  return { url: ui.url, topics: setup.topics };
}

async function logIn(page: Page, user: string, password: string): Promise<void> {
  await page.fill("#login-user", user);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
}

test("web UI log-in: the log-in page, viewer and editor roles, log-out", async (t) => {
  const { url, topics } = await uiWithLogIn(t, "ui-login", 3600);
  const browser = await openBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  page.setDefaultTimeout(WAIT_MS);
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));

  // 1. The page without a session is the log-in; a wrong password says so and lets no one in.
  await page.goto(url);
  await page.waitForURL(/\/login\.html$/);
  await logIn(page, "alice", "not the password");
  await page.locator("#login-result", { hasText: "Not logged in: unknown user or wrong password" }).waitFor();
  assert.match(page.url(), /\/login\.html$/);
  await screenshot(page, "login-refused");

  // 2. A viewer: sees the UI, no write buttons, and the server refuses a write made by hand.
  await logIn(page, "victor", PASSWORD);
  await page.waitForURL(`${url}/`);
  await page.locator("#user", { hasText: "victor (viewer)" }).waitFor();
  await page.locator("#viewer-note").waitFor({ state: "visible" });
  assert.equal(await page.isVisible("#campaign-send"), false);
  assert.equal(await page.isVisible("#event-send"), false);
  const status = await page.evaluate(
    `fetch("/api/campaigns/4711", { method: "PUT", headers: { "content-type": "application/json" }, body: "{}" }).then((r) => r.status)`,
  );
  assert.equal(status, 403);
  // The cookie is HttpOnly: the page's scripts cannot read it.
  assert.equal(await page.evaluate("document.cookie"), "");
  await screenshot(page, "viewer");

  // 3. Log-out returns to the log-in page; the UI is closed again.
  await page.click("#logout");
  await page.waitForURL(/\/login\.html$/);
  await page.goto(url);
  await page.waitForURL(/\/login\.html$/);

  // 4. An editor writes a campaign; its record carries her name.
  await logIn(page, "alice", PASSWORD);
  await page.waitForURL(`${url}/`);
  await page.locator("#user", { hasText: "alice (editor)" }).waitFor();
  assert.equal(await page.isVisible("#viewer-note"), false);
  // The page opened with the example: wait for it (or it could land after the id is changed below).
  await page.waitForFunction(`document.getElementById("f-campaign-id").value === "4711"`);
  await page.fill("#f-campaign-id", "4712");
  await page.click("#campaign-send");
  await page.waitForFunction(
    `/^(Sent campaign|Not sent)/.test(document.getElementById("campaign-result").textContent)`,
  );
  assert.match((await page.locator("#campaign-result").textContent()) ?? "", /^Sent campaign 4712/);
  await screenshot(page, "editor-sent");
  const [record] = await readToEnd(topics.campaign_topic);
  assert.equal(record?.key, "4712");
  assert.equal(record?.headers["rtcrm-author"], "alice");
  assert.equal(record?.headers["rtcrm-via"], "ui");
  assert.deepEqual(pageErrors, []);
});

test("web UI log-in: an open page goes back to the log-in when its session expires", async (t) => {
  const { url } = await uiWithLogIn(t, "ui-expiry", 6);
  const browser = await openBrowser(t);
  const page = await browser.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(url);
  await page.waitForURL(/\/login\.html$/);
  await logIn(page, "alice", PASSWORD);
  // The UI opens (the session is young), then, with nobody touching it, returns to the log-in.
  await page.locator("#user", { hasText: "alice (editor)" }).waitFor();
  await page.waitForURL(/\/login\.html$/);
  const status = await page.evaluate(`fetch("/api/state").then((r) => r.status)`);
  assert.equal(status, 401);
  await screenshot(page, "session-expired");
});
