import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../../../src/config/config.js";
import { ConfigError } from "../../../../src/errors.js";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems as string[];
  }
}

test("every problem of the ui_* keys is listed at once, and no secret is repeated", () => {
  const secret = "short-secret";
  const problems = problemsOf({
    RTCRM_UI_AUTH: "password",
    RTCRM_UI_USERS: JSON.stringify({ alice: "hunter2-plaintext", "bad name": "x" }),
    RTCRM_UI_TOKENS: JSON.stringify({ ci: "not-a-digest" }),
    RTCRM_UI_ROLES: JSON.stringify({ alice: "admin" }),
    RTCRM_UI_ALLOWED_HOSTS: "crm.example.com, http://x.example/",
    RTCRM_UI_TRUSTED_PROXIES: "10.0.0.0/33",
    RTCRM_UI_SESSION_SECRET: secret,
    RTCRM_UI_PROXY_USER_HEADER: "x forwarded",
  });
  const text = problems.join("\n");
  for (const expected of [
    /ui_users\.alice: not a scrypt hash/,
    /ui_users: "bad name" is not a valid user name/,
    /ui_tokens\.ci: expected the token's SHA-256/,
    /ui_roles\.alice: expected "editor" or "viewer"/,
    /ui_allowed_hosts: "http:\/\/x\.example\/" is not a host name/,
    /ui_trusted_proxies: "10\.0\.0\.0\/33"/,
    /ui_session_secret: must be at least 32 characters/,
    /ui_proxy_user_header/,
  ]) {
    assert.match(text, expected);
  }
  assert.ok(!text.includes("hunter2"), "a password typed where its hash belongs is not repeated");
  assert.ok(!text.includes(secret));
});

test("a log-in mode nobody could pass is refused", () => {
  assert.match(problemsOf({ RTCRM_UI_AUTH: "password" }).join(), /ui_users and ui_tokens are empty/);
  assert.match(problemsOf({ RTCRM_UI_AUTH: "proxy" }).join(), /ui_trusted_proxies is empty/);
  assert.deepEqual(problemsOf({ RTCRM_UI_AUTH: "proxy", RTCRM_UI_TRUSTED_PROXIES: "127.0.0.1" }), []);
});
