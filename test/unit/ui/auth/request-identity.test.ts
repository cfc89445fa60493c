import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { defaults } from "../../../../src/config/config.js";
import { uiAccess } from "../../../../src/ui/auth/access-config.js";
import { hashPassword } from "../../../../src/ui/auth/password-hash.js";
import { RequestIdentity } from "../../../../src/ui/auth/request-identity.js";

function request(headers: Record<string, string>, remoteAddress = "127.0.0.1"): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

const TOKEN = "tok-" + "x".repeat(40);
const sha = (t: string) => createHash("sha256").update(t).digest("hex");

async function passwordAccess(now: () => number) {
  const hash = await hashPassword("correct horse battery");
  const access = uiAccess({
    ...defaults(),
    ui_auth: "password",
    ui_users: { alice: hash, victor: hash },
    ui_tokens: { deploy: sha(TOKEN) },
    ui_roles: { alice: "editor", deploy: "editor" },
    ui_session_ttl_s: 60,
  });
  return new RequestIdentity(access, now);
}

test("password mode: no cookie is 401; a log-in's cookie names the user and the role from ui_roles", async () => {
  let now = 0;
  const identity = await passwordAccess(() => now);
  const none = identity.identify(request({}));
  assert.equal(none.ok, false);
  assert.equal(!none.ok && none.status, 401);

  const wrong = await identity.logIn("alice", "nope", request({}));
  assert.equal(wrong.ok, false);
  const unknown = await identity.logIn("mallory", "correct horse battery", request({}));
  assert.equal(unknown.ok, false);
  // Same answer for an unknown user and a wrong password: the reply tells nothing about who exists.
  assert.deepEqual(wrong, unknown);

  for (const [user, role] of [
    ["alice", "editor"],
    ["victor", "viewer"],
  ] as const) {
    const login = await identity.logIn(user, "correct horse battery", request({}));
    assert.ok(login.ok);
    const cookie = login.setCookie.split(";")[0] as string;
    const found = identity.identify(request({ cookie }));
    assert.ok(found.ok);
    assert.equal(found.identity.name, user);
    assert.equal(found.identity.role, role);
    now += 60_000;
    assert.equal(identity.identify(request({ cookie })).ok, false, "expired after ui_session_ttl_s");
    now = 0;
  }
});

test("API tokens: the right one is its name and role, any other is 401", async () => {
  const identity = await passwordAccess(() => 0);
  const found = identity.identify(request({ authorization: `Bearer ${TOKEN}` }));
  assert.ok(found.ok);
  assert.deepEqual(found.identity, { name: "deploy", role: "editor", via: "token" });
  const bad = identity.identify(request({ authorization: `Bearer ${TOKEN}x` }));
  assert.equal(!bad.ok && bad.status, 401);
});

test("failed log-ins from one address are limited to 10 a minute; others are not affected", async () => {
  let now = 0;
  const identity = await passwordAccess(() => now);
  for (let i = 0; i < 10; i++) {
    const r = await identity.logIn("alice", `guess ${i}`, request({}, "10.0.0.9"));
    assert.equal(!r.ok && r.status, 401);
  }
  const blocked = await identity.logIn("alice", "correct horse battery", request({}, "10.0.0.9"));
  assert.equal(!blocked.ok && blocked.status, 429, "even the right password waits");
  assert.equal(!blocked.ok && blocked.retryAfterS, 60);
  assert.ok((await identity.logIn("alice", "correct horse battery", request({}, "10.0.0.8"))).ok);
  now += 60_001;
  assert.ok((await identity.logIn("alice", "correct horse battery", request({}, "10.0.0.9"))).ok);
});

test("proxy mode: the identity header is believed only from a trusted proxy", () => {
  const identity = new RequestIdentity(
    uiAccess({
      ...defaults(),
      ui_auth: "proxy",
      ui_trusted_proxies: "10.0.0.0/24, ::1",
      ui_roles: { "ed@example.com": "editor" },
    }),
  );
  const via = (headers: Record<string, string>, address: string) =>
    identity.identify(request(headers, address));
  const ed = via({ "x-forwarded-user": "ed@example.com" }, "::ffff:10.0.0.7");
  assert.ok(ed.ok);
  assert.deepEqual(ed.identity, { name: "ed@example.com", role: "editor", via: "proxy" });
  const viewer = via({ "x-forwarded-user": "vi@example.com" }, "::1");
  assert.equal(viewer.ok && viewer.identity.role, "viewer");
  const direct = via({ "x-forwarded-user": "ed@example.com" }, "10.0.1.7");
  assert.equal(!direct.ok && direct.status, 403, "not from the proxy: the header is not believed");
  const missing = via({}, "10.0.0.7");
  assert.equal(!missing.ok && missing.status, 401);
  const control = via({ "x-forwarded-user": "ed\u0007" }, "10.0.0.7");
  assert.equal(control.ok, false);
});

test("mode none: everyone is an editor, named anonymous", () => {
  const found = new RequestIdentity(uiAccess(defaults())).identify(request({}, "127.0.0.1"));
  assert.ok(found.ok);
  assert.deepEqual(found.identity, { name: "anonymous", role: "editor", via: "none" });
});
