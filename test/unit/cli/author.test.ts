// Who `rtcrm` says writes a campaign record: --author, else RTCRM_AUTHOR, else user@host; the Kafka SASL user
// name added when the configuration has one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../../../src/cli/args.js";
import { authorName } from "../../../src/cli/author.js";
import { cli } from "./run-cli.js";

const os = { osUser: () => "alice", host: () => "box" };

test("the author: --author first, then RTCRM_AUTHOR, then the OS user at this host", () => {
  assert.equal(authorName({ ...os, env: {} }), "alice@box");
  assert.equal(authorName({ ...os, env: { RTCRM_AUTHOR: " Bob " } }), "Bob");
  assert.equal(authorName({ ...os, env: { RTCRM_AUTHOR: "" } }), "alice@box");
  assert.equal(authorName({ ...os, option: "carol", env: { RTCRM_AUTHOR: "Bob" } }), "carol");
});

test("the Kafka principal's SASL user name is added: the header asserts, the broker authenticated", () => {
  assert.equal(authorName({ ...os, env: {}, saslUsername: "crm-editor" }), "alice@box (kafka: crm-editor)");
  assert.equal(
    authorName({ ...os, option: "carol", env: {}, saslUsername: "crm-editor" }),
    "carol (kafka: crm-editor)",
  );
  assert.equal(authorName({ ...os, env: {}, saslUsername: " " }), "alice@box");
});

test("an empty --author is a usage error naming the command, before anything is written", async () => {
  assert.throws(
    () => authorName({ ...os, option: "  ", env: {} }, ["campaign", "delete"]),
    (e: unknown) => e instanceof UsageError && e.command.join(" ") === "campaign delete",
  );
  // No broker is needed to find out: the command stops with exit code 2 before any Kafka client is made.
  const run = await cli(["campaign", "delete", "4711", "--author", "", "--timeout", "1"], {
    env: { RTCRM_KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1" },
  });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--author must not be empty/);
});
