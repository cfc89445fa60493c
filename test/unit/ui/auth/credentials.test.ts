import { test } from "node:test";
import assert from "node:assert/strict";
import { hashPassword, parsePasswordHash, verifyPassword } from "../../../../src/ui/auth/password-hash.js";
import { SessionCookies, cookieValue, SESSION_COOKIE } from "../../../../src/ui/auth/session-cookies.js";
import { hostNameOf, isServedHost } from "../../../../src/ui/auth/served-hosts.js";

test("a password hash verifies its password only, and never holds the password", async () => {
  const text = await hashPassword("correct horse battery");
  assert.match(text, /^scrypt\$16384\$8\$1\$/);
  assert.ok(!text.includes("correct horse"));
  const parsed = parsePasswordHash(text);
  assert.ok(typeof parsed !== "string");
  assert.equal(await verifyPassword("correct horse battery", parsed), true);
  assert.equal(await verifyPassword("correct horse batterY", parsed), false);
  assert.equal(await verifyPassword("", parsed), false);
  // No such user: checked against a decoy, still false.
  assert.equal(await verifyPassword("correct horse battery", undefined), false);
  // Two hashes of one password differ (random salt).
  assert.notEqual(await hashPassword("correct horse battery"), text);
});

test("hashes that are not scrypt, or too weak or too costly, are refused with a reason", () => {
  for (const bad of [
    "correct horse battery",
    "scrypt$16384$8$1$c2FsdA==$aGFzaA==", // salt and hash too short
    "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // N not a power of 2
    "scrypt$1048576$32$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // 4 GiB
  ]) {
    const parsed = parsePasswordHash(bad);
    assert.equal(typeof parsed, "string", bad);
    assert.ok(!(parsed as string).includes("horse"));
  }
});

test("session cookies: signed, HttpOnly and SameSite=Strict; forged, expired or logged-out ones are refused", () => {
  let now = 1_000_000;
  const cookies = new SessionCookies({ secret: "", ttlMs: 60_000, secure: false, now: () => now });
  const { session, setCookie } = cookies.issue("alice");
  assert.match(setCookie, /^rtcrm_session=[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=60$/);
  const header = setCookie.split(";")[0] as string;
  assert.deepEqual(cookies.read(`theme=dark; ${header}`), session);

  // Another user's name in the payload with the old signature: refused.
  const [payload, signature] = (cookieValue(header, SESSION_COOKIE) as string).split(".") as [string, string];
  const forged = Buffer.from(Buffer.from(payload, "base64url").toString().replace("alice", "admin")).toString(
    "base64url",
  );
  assert.equal(cookies.read(`${SESSION_COOKIE}=${forged}.${signature}`), null);
  assert.equal(cookies.read(`${SESSION_COOKIE}=${payload}.${signature.slice(1)}`), null);
  assert.equal(cookies.read(`${SESSION_COOKIE}=${payload}`), null);
  assert.equal(cookies.read(undefined), null);
  // Another process (another random key) does not take it.
  const other = new SessionCookies({ secret: "", ttlMs: 60_000, secure: false, now: () => now });
  assert.equal(other.read(header), null);

  now += 59_999;
  assert.notEqual(cookies.read(header), null);
  now += 1;
  assert.equal(cookies.read(header), null, "expired");

  now = 1_000_000;
  cookies.end(session);
  assert.equal(cookies.read(header), null, "logged out: a replayed copy is refused");
  assert.match(cookies.clearCookie(), /^rtcrm_session=; .*Max-Age=0/);
});

test("a configured secret makes cookies valid across processes; Secure when asked", () => {
  const secret = "s".repeat(32);
  const a = new SessionCookies({ secret, ttlMs: 60_000, secure: true });
  const b = new SessionCookies({ secret, ttlMs: 60_000, secure: true });
  const { setCookie } = a.issue("bob");
  assert.match(setCookie, /; Secure$/);
  assert.equal(b.read(setCookie.split(";")[0])?.user, "bob");
});

test("host names served: loopback names and IP literals always, others only when configured", () => {
  const allowed = new Set(["crm.example.com"]);
  for (const host of [
    "localhost",
    "localhost:8080",
    "app.localhost:80",
    "127.0.0.1:8080",
    "127.1.2.3",
    "[::1]:8080",
    "10.1.2.3:8080",
    "[fd00::1]",
    "crm.example.com",
    "CRM.Example.com:443",
  ]) {
    assert.equal(isServedHost(host, allowed), true, host);
  }
  for (const host of [
    undefined,
    "",
    "evil.example:8080",
    "localhost.evil.example",
    "127.0.0.1.nip.io",
    "crm.example.com.evil.example",
    "[::1",
    "a:b:c",
  ]) {
    assert.equal(isServedHost(host, allowed), false, String(host));
  }
  assert.equal(hostNameOf("[::1]:80"), "::1");
  assert.equal(hostNameOf("Example.COM:8080"), "example.com");
});
