// The web UI's door, over HTTP against the real broker: host names it does not serve (DNS rebinding) are
// refused before anything is written; log-in, roles, API tokens, log-out, the proxy mode; and the UI process
// refusing a non-loopback address without log-in.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config/config.js";
import { exampleCampaign, exampleEvent } from "../../src/client/examples.js";
import { createLogger } from "../../src/logging/logger.js";
import { hashPassword } from "../../src/ui/auth/password-hash.js";
import { startUiServer, type UiServer } from "../../src/ui/ui-server.js";
import { createEngineTopics, deleteEngineTopics, engineSetup } from "../helpers/engine-process.js";
import { readToEnd, within } from "../helpers/kafka.js";

const UI_MAIN = fileURLToPath(new URL("../../src/ui/server.js", import.meta.url));
const PASSWORD = "correct horse battery";
const TOKEN = "deploy-token-0123456789abcdef0123456789abcdef";

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/** One HTTP request with the headers as given (Host included, which fetch would not let a test set). */
function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Reply> {
  const url = new URL(path, base);
  const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        headers: {
          ...(text === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(chunks).toString();
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(raw) as Record<string, unknown>;
          } catch {
            parsed = { raw };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

const cookieOf = (reply: Reply): string => {
  const set = reply.headers["set-cookie"];
  return (Array.isArray(set) ? (set[0] ?? "") : (set ?? "")).split(";")[0] as string;
};

async function startUi(t: TestContext, name: string, overrides: Record<string, unknown>) {
  const setup = engineSetup(name, overrides);
  await createEngineTopics(setup.topics);
  t.after(() => deleteEngineTopics(setup.topics));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(setup.config)) {
    env[`RTCRM_${k.toUpperCase()}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  const { config } = loadConfig({ env });
  const ui: UiServer = await startUiServer({
    config,
    log: createLogger("warn", { service: "rtcrm-ui-test" }),
    port: 0,
    host: "127.0.0.1",
    metricsUrls: [],
  });
  t.after(() => ui.close());
  return { ui, topics: setup.topics };
}

test("UI access: rebinding refused, log-in, roles, tokens, log-out; writes carry the writer's name", async (t) => {
  const hash = await hashPassword(PASSWORD);
  const { createHash } = await import("node:crypto");
  const { ui, topics } = await startUi(t, "ui-access", {
    ui_auth: "password",
    ui_users: { alice: hash, victor: hash },
    ui_tokens: { deploy: createHash("sha256").update(TOKEN).digest("hex") },
    ui_roles: { alice: "editor", deploy: "editor" },
    ui_allowed_hosts: "crm.example.test",
  });
  const port = new URL(ui.url).port;
  const campaign = exampleCampaign(Date.now(), new Set()) as { campaign_id: number };
  const put = (headers: Record<string, string>, c: { campaign_id: number } = campaign) =>
    call(ui.url, "PUT", `/api/campaigns/${c.campaign_id}`, headers, c);

  await t.test(
    "a page on another name that resolves here (DNS rebinding) is refused: 421, nothing written",
    async () => {
      const evil = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
      const event = await call(ui.url, "POST", "/api/events", evil, exampleEvent(Date.now()));
      assert.equal(event.status, 421);
      assert.match(String(event.body.error), /does not serve the host name "evil\.example:\d+"/);
      assert.equal((await put(evil)).status, 421);
      assert.equal(
        (await call(ui.url, "POST", "/api/login", evil, { user: "alice", password: PASSWORD })).status,
        421,
      );
      assert.equal((await call(ui.url, "GET", "/api/state", evil)).status, 421);
      // Served names pass the host check (and then need a log-in).
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "crm.example.test"]) {
        assert.equal((await call(ui.url, "GET", "/api/state", { host })).status, 401, host);
      }
      // The right Host with another site's Origin: refused too.
      const crossSite = await call(
        ui.url,
        "POST",
        "/api/login",
        { origin: "http://evil.example" },
        { user: "alice", password: PASSWORD },
      );
      assert.equal(crossSite.status, 403);
    },
  );

  await t.test("without a session: the API answers 401 and the page leads to the log-in", async () => {
    assert.equal((await call(ui.url, "GET", "/api/state")).status, 401);
    assert.equal((await put({})).status, 401);
    const page = await call(ui.url, "GET", "/");
    assert.equal(page.status, 303);
    assert.equal(page.headers.location, "/login.html");
    assert.equal((await call(ui.url, "GET", "/login.html")).status, 200);
    const wrong = await call(ui.url, "POST", "/api/login", {}, { user: "alice", password: "wrong" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers["set-cookie"], undefined);
  });

  await t.test("a viewer reads, and is refused every write with 403", async () => {
    const login = await call(ui.url, "POST", "/api/login", {}, { user: "victor", password: PASSWORD });
    assert.equal(login.status, 200);
    assert.match(String(login.headers["set-cookie"]), /HttpOnly; SameSite=Strict/);
    const cookie = { cookie: cookieOf(login) };
    assert.equal((await call(ui.url, "GET", "/api/state", cookie)).status, 200);
    assert.deepEqual((await call(ui.url, "GET", "/api/me", cookie)).body.role, "viewer");
    const refused = await put(cookie);
    assert.equal(refused.status, 403);
    assert.match(String(refused.body.error), /victor is a viewer/);
    assert.equal(
      (await call(ui.url, "DELETE", `/api/campaigns/${campaign.campaign_id}`, cookie)).status,
      403,
    );
    assert.equal((await call(ui.url, "POST", "/api/events", cookie, exampleEvent(Date.now()))).status, 403);
  });

  await t.test(
    "an editor writes; the record names her; after log-out a replayed cookie is refused",
    async () => {
      const login = await call(ui.url, "POST", "/api/login", {}, { user: "alice", password: PASSWORD });
      const cookie = { cookie: cookieOf(login) };
      const written = await put(cookie);
      assert.equal(written.status, 200, JSON.stringify(written.body));
      const byToken = { ...campaign, campaign_id: campaign.campaign_id + 1 };
      assert.equal((await put({ authorization: `Bearer ${TOKEN}` }, byToken)).status, 200);
      assert.equal((await put({ authorization: `Bearer ${TOKEN}x` }, byToken)).status, 401);

      const records = await readToEnd(topics.campaign_topic);
      assert.deepEqual(
        records.map((r) => [r.key, r.headers["rtcrm-author"], r.headers["rtcrm-via"]]),
        [
          [String(campaign.campaign_id), "alice", "ui"],
          [String(byToken.campaign_id), "deploy", "ui"],
        ],
        "only the two permitted writes reached the topic, each with its writer",
      );
      assert.equal((await readToEnd(topics.event_topic)).length, 0, "no refused event was written");

      assert.equal((await call(ui.url, "POST", "/api/logout", cookie, {})).status, 200);
      assert.equal((await call(ui.url, "GET", "/api/state", cookie)).status, 401);
    },
  );
});

test("UI access, proxy mode: the identity header counts only from the configured proxy", async (t) => {
  const trusted = await startUi(t, "ui-proxy", {
    ui_auth: "proxy",
    ui_trusted_proxies: "127.0.0.1/32",
    ui_roles: { "ed@example.com": "editor" },
  });
  const me = await call(trusted.ui.url, "GET", "/api/me", { "x-forwarded-user": "ed@example.com" });
  assert.deepEqual([me.status, me.body.user, me.body.role], [200, "ed@example.com", "editor"]);
  const viewer = await call(trusted.ui.url, "GET", "/api/me", { "x-forwarded-user": "vi@example.com" });
  assert.equal(viewer.body.role, "viewer");
  assert.equal((await call(trusted.ui.url, "GET", "/api/state")).status, 401, "no header from the proxy");

  const elsewhere = await startUi(t, "ui-proxy-other", { ui_auth: "proxy", ui_trusted_proxies: "10.9.9.9" });
  const direct = await call(elsewhere.ui.url, "GET", "/api/me", { "x-forwarded-user": "ed@example.com" });
  assert.equal(direct.status, 403, "a client that is not the proxy cannot name itself");
});

/** The UI process's exit code, or the line it logged once listening (then it is stopped). */
function runUiProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [UI_MAIN, "--port", "0", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.includes('"msg":"ui listening"')) child.kill("SIGTERM");
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return within(
    30_000,
    "ui process",
    new Promise((resolve) => child.on("exit", (code) => resolve({ code, output }))),
  );
}

test("UI process: a non-loopback address without log-in refuses to start unless --insecure-no-auth, which the log repeats", async () => {
  const refused = await runUiProcess(["--host", "0.0.0.0"], {});
  assert.equal(refused.code, 2);
  assert.match(refused.output, /without log-in.*--insecure-no-auth/s);
  assert.ok(!refused.output.includes("ui listening"));

  const insecure = await runUiProcess(["--host", "0.0.0.0", "--insecure-no-auth"], {});
  assert.match(insecure.output, /"level":"warn","msg":"insecure: no log-in on a non-loopback address/);
  assert.match(insecure.output, /"msg":"ui listening"/);

  const hash = await hashPassword(PASSWORD);
  const withLogIn = await runUiProcess(["--host", "0.0.0.0"], {
    RTCRM_UI_AUTH: "password",
    RTCRM_UI_USERS: JSON.stringify({ alice: hash }),
  });
  assert.match(withLogIn.output, /"msg":"ui listening".*"auth":"password"/);
  assert.ok(!withLogIn.output.includes("insecure"));
  assert.ok(!withLogIn.output.includes(hash), "the hash is not logged");
});
