// Kafka permissions: a broker of this test's own with SASL/PLAIN and the standard authorizer (no ACL: no access).
// An admin creates the topics and exactly the ACLs README lists; the engine (exactly-once and at-least-once)
// then works with those alone, and the broker refuses it nothing. A principal that may only read cannot add a
// campaign: the real CLI exits non-zero and says which ACL is missing, and the campaign topic is unchanged.
// The SASL passwords appear nowhere: not in the engine's output or /metrics, nor in the CLI's messages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TestBroker } from "../helpers/broker.js";
import { rtcrm as runCli, type Run } from "../helpers/cli-process.js";
import { freePort } from "../helpers/ui-process.js";
import { deleteEngineTopics, engineSetup, EngineProcess, startEngine } from "../helpers/engine-process.js";
import { clientAcls, engineAcls, KafkaAdminTool, type EngineNames } from "../helpers/kafka-acls.js";
import { consumeUntil, createTopics, readToEnd, useBootstrap, within } from "../helpers/kafka.js";
import { campaign, checkTriggers, FIGHT_CAMPAIGNS, makeStream, waitForAll } from "./scenario.js";

const PORT = 9393; // plaintext: the broker itself and the admin's side; the controller takes PORT + 1
const SASL_PORT = 9395;
const BROKER_LOG = join(
  process.env.RTCRM_KAFKA_DIR ?? fileURLToPath(new URL("../../../.kafka", import.meta.url)),
  `broker-${PORT}.log`,
);

/** A password per principal that cannot turn up anywhere by chance. */
const PASSWORDS = {
  admin: `admin-${randomUUID()}`,
  engine: `engine-${randomUUID()}`,
  "crm-editor": `editor-${randomUUID()}`,
  "crm-viewer": `viewer-${randomUUID()}`,
} as const;
type Principal = keyof typeof PASSWORDS;

function brokerConfig(): string {
  const users = Object.entries(PASSWORDS)
    .map(([user, password]) => `user_${user}="${password}"`)
    .join(" ");
  return [
    `listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${PORT + 1},SASL_PLAINTEXT://127.0.0.1:${SASL_PORT}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${PORT},SASL_PLAINTEXT://127.0.0.1:${SASL_PORT}`,
    "sasl.enabled.mechanisms=PLAIN",
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`,
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    // The admin, and the broker itself on its plaintext and controller listeners (ANONYMOUS).
    "super.users=User:admin;User:ANONYMOUS",
    "allow.everyone.if.no.acl.found=false",
    "",
  ].join("\n");
}

function sasl(user: Principal) {
  return {
    kafka_bootstrap_servers: `127.0.0.1:${SASL_PORT}`,
    kafka: {
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanisms": "PLAIN",
      "sasl.username": user,
      "sasl.password": PASSWORDS[user],
    },
  };
}

/** Fresh topics, created by the admin as README says (the engine may not create topics). */
async function setupTopics(name: string, overrides: Record<string, unknown>) {
  const setup = engineSetup(name, overrides);
  const { topics, config } = setup;
  const group = config.kafka_group_id;
  await createTopics([
    { topic: topics.campaign_topic, config: { "cleanup.policy": "compact" } },
    { topic: topics.campaign_status_topic, config: { "cleanup.policy": "compact" } },
    { topic: topics.event_topic, partitions: 2 },
    { topic: topics.trigger_topic, partitions: 3 },
    { topic: topics.dead_letter_topic },
    { topic: topics.holdout_topic },
    { topic: `${group}-rules-repartition`, partitions: 3 },
    { topic: `${group}-rules-changelog`, partitions: 3, config: { "cleanup.policy": "compact" } },
  ]);
  const names: EngineNames = { ...topics, kafka_group_id: group };
  return { ...setup, names };
}

/** A configuration file for the CLI of `user` with the engine's topics. */
function clientConfig(dir: string, names: EngineNames, user: Principal): string {
  const path = join(dir, `${user}-${randomUUID().slice(0, 8)}.json`);
  const { kafka_group_id, ...topics } = names;
  writeFileSync(path, JSON.stringify({ ...sasl(user), kafka_group_id, ...topics }));
  return path;
}

/** `rtcrm args...` as a child process, its own environment free of RTCRM_* variables. */
const rtcrm = (args: string[], timeoutMs = 120_000): Promise<Run> => runCli(args, { timeoutMs });

/** What the broker refused `user` since it started (its authorizer logs every denial). */
function denials(user: Principal): string[] {
  return readFileSync(BROKER_LOG, "utf8")
    .split("\n")
    .filter((l) => l.includes(`Principal = User:${user} is Denied`));
}

function assertNoSecret(where: string, text: string): void {
  for (const [user, password] of Object.entries(PASSWORDS))
    assert.ok(!text.includes(password), `${where} shows the password of ${user}`);
}

/** Starts the engine, expects it to exit 1 with RTCRM_KAFKA_NOT_AUTHORIZED, and returns its message. */
async function startRefused(t: { diagnostic(message: string): void }, configPath: string): Promise<string> {
  const engine = new EngineProcess(configPath);
  const code = await within(120_000, "engine exit", engine.exited);
  // Refused at start, or (the group) once the consumer joins: either way exit 1 with the code.
  const line =
    engine.lines.find(
      (l) => l.includes('"msg":"engine failed to start"') || l.includes('"msg":"engine cannot go on'),
    ) ?? "";
  t.diagnostic(line);
  assert.equal(code, 1);
  const failure = JSON.parse(line) as { code?: string; error?: string };
  assert.equal(failure.code, "RTCRM_KAFKA_NOT_AUTHORIZED");
  assertNoSecret("the engine's output", engine.lines.join("\n"));
  return failure.error ?? "";
}

/** Holdout campaign: every player matching it is held out, so its records go through the delivery rules' topics. */
const HOLDOUT_CAMPAIGN = {
  ...campaign(3, "visit", "function(e) { return true }"),
  frequency_cap: { max: 1 },
  holdout_percent: 100,
};
const VISITORS = 20;

test("Kafka ACLs: the engine needs only its ACLs; without Write on the campaign topic no campaign is added", async (t) => {
  const broker = new TestBroker(PORT, brokerConfig());
  await broker.startFresh();
  t.after(() => broker.remove());
  useBootstrap(broker.bootstrap);
  const dir = mkdtempSync(join(tmpdir(), "rtcrm-acls-"));
  const admin = new KafkaAdminTool(`127.0.0.1:${SASL_PORT}`, "admin", PASSWORDS.admin, dir);

  for (const delivery of ["exactly-once", "at-least-once"] as const) {
    await t.test(`engine, ${delivery}: campaigns accepted, triggers and holdouts written`, async (t) => {
      const httpPort = await freePort();
      const { names, configPath, topics } = await setupTopics(`acl-${delivery}`, {
        ...sasl("engine"),
        delivery,
        http_port: httpPort,
        http_host: "127.0.0.1",
      });
      const engines: EngineProcess[] = [];
      t.after(async () => {
        for (const e of engines) if (e.child.exitCode === null) await e.stop("SIGKILL");
        await deleteEngineTopics(topics, names.kafka_group_id);
      });
      await admin.grant("User:engine", engineAcls(names, delivery === "exactly-once"));
      await admin.grant("User:crm-editor", clientAcls(names, true));
      t.diagnostic(`ACLs of User:engine:\n${await admin.list("User:engine")}`);

      const engine = await startEngine(configPath);
      engines.push(engine);
      const editor = clientConfig(dir, names, "crm-editor");
      const campaignsFile = join(dir, `campaigns-${delivery}.json`);
      writeFileSync(campaignsFile, JSON.stringify([...FIGHT_CAMPAIGNS, HOLDOUT_CAMPAIGN]));
      const put = await rtcrm(["campaign", "put", "--wait", campaignsFile, "--config", editor]);
      assert.equal(put.code, 0, put.stderr);
      assert.equal(put.stdout.match(/accepted by the engine/g)?.length, 3, put.stdout);

      const stream = makeStream(300, 1, `acl-${delivery}`);
      const visits = Array.from({ length: VISITORS }, (_, i) =>
        JSON.stringify({
          ...JSON.parse(stream.events[0]?.value ?? "{}"),
          event_name: "visit",
          player_id: 9000 + i,
        }),
      );
      const eventsFile = join(dir, `events-${delivery}.jsonl`);
      writeFileSync(eventsFile, [...stream.events.map((e) => e.value), ...visits].join("\n") + "\n");
      const sent = await rtcrm(["event", "send", eventsFile, "--config", editor]);
      assert.equal(sent.code, 0, sent.stderr);

      await waitForAll(topics.trigger_topic, stream.expected);
      const held = await consumeUntil([topics.holdout_topic], (r) => r.length >= VISITORS, 120_000);
      const heldPlayers = new Set(held.map((r) => r.key));
      assert.equal(heldPlayers.size, VISITORS, "one holdout record per visiting player");
      const state = await readToEnd(`${names.kafka_group_id}-rules-changelog`);
      assert.ok(state.length >= VISITORS, `delivery-rule state written (${state.length} records)`);

      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      assert.match(metrics, /rtcrm_/, "the metrics answered");
      assertNoSecret("/metrics", metrics);

      assert.equal(await engine.stop(), 0);
      await checkTriggers(t, `ACLs only, ${delivery}`, topics.trigger_topic, stream, {
        exactlyOnce: delivery === "exactly-once",
        sent: stream.events.length + VISITORS,
      });
      assertNoSecret("the engine's output", engine.lines.join("\n"));
      assertNoSecret("the CLI's output", put.stdout + put.stderr + sent.stdout + sent.stderr);
      assert.deepEqual(denials("engine"), [], "the broker refused the engine nothing");
      assert.deepEqual(denials("crm-editor"), [], "the broker refused the editor nothing");
    });
  }

  await t.test("a topic the admin did not create stops the engine: it may not create it", async (t) => {
    const { names, configPath, topics } = await setupTopics("acl-missing", sasl("engine"));
    t.after(() => deleteEngineTopics(topics, names.kafka_group_id));
    const missing = `${topics.holdout_topic}-not-created`;
    await admin.grant("User:engine", engineAcls({ ...names, holdout_topic: missing }, false));
    const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
    writeFileSync(configPath, JSON.stringify({ ...config, holdout_topic: missing, create_topics: true }));
    const error = await startRefused(t, configPath);
    assert.ok(error.includes(`User:engine is not authorized to create topic ${missing}`), error);
    assert.ok(error.includes("have an admin create it beforehand"), error);
  });

  await t.test("exactly-once without the transactional id's ACL: the engine says which ACL", async (t) => {
    const { names, configPath, topics } = await setupTopics("acl-no-txn", {
      ...sasl("engine"),
      delivery: "exactly-once",
    });
    t.after(() => deleteEngineTopics(topics, names.kafka_group_id));
    await admin.grant("User:engine", engineAcls(names, false));
    const error = await startRefused(t, configPath);
    assert.match(
      error,
      new RegExp(`User:engine is not authorized to write transactional-id rtcrm-${names.kafka_group_id}-`),
    );
    assert.match(error, /--operation Write --transactional-id rtcrm-/);
  });

  await t.test("without Read on its consumer group the engine stops and names the group", async (t) => {
    const { names, configPath, topics } = await setupTopics("acl-no-group", sasl("engine"));
    t.after(() => deleteEngineTopics(topics, names.kafka_group_id));
    await admin.grant(
      "User:engine",
      engineAcls(names, false).filter((a) => !(a.resource === "group" && a.name === names.kafka_group_id)),
    );
    const error = await startRefused(t, configPath);
    assert.match(error, new RegExp(`User:engine is not authorized to read group ${names.kafka_group_id}`));
    assert.match(error, new RegExp(`--operation Read --group ${names.kafka_group_id}`));
  });

  await t.test("crm-viewer may read campaigns but not add or delete one", async (t) => {
    const { names, topics } = await setupTopics("acl-viewer", {});
    t.after(() => deleteEngineTopics(topics, names.kafka_group_id));
    await admin.grant("User:crm-viewer", clientAcls(names, false));
    await admin.grant("User:crm-editor", clientAcls(names, true));
    const viewer = clientConfig(dir, names, "crm-viewer");
    const editor = clientConfig(dir, names, "crm-editor");
    const file = join(dir, "viewer-campaign.json");

    writeFileSync(file, JSON.stringify(campaign(41, "fight", "(e) => true")));
    const byEditor = await rtcrm(["campaign", "put", file, "--config", editor]);
    assert.equal(byEditor.code, 0, byEditor.stderr);
    const before = await readToEnd(topics.campaign_topic);
    assert.equal(before.length, 1);

    const listed = await rtcrm(["campaign", "list", "--json", "--config", viewer]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { campaign_id: number }[]).map((c) => c.campaign_id),
      [41],
      "the viewer logs in and reads the campaign topic",
    );

    writeFileSync(file, JSON.stringify(campaign(42, "fight", "(e) => true")));
    const put = await rtcrm(["campaign", "put", file, "--config", viewer]);
    t.diagnostic(`campaign put as crm-viewer: exit ${put.code}: ${put.stderr.trim()}`);
    assert.equal(put.code, 1);
    const topic = topics.campaign_topic;
    assert.ok(
      put.stderr.includes(`User:crm-viewer is not authorized to write topic ${topic}`),
      `names the principal, the operation and the topic: ${put.stderr}`,
    );
    assert.ok(
      put.stderr.includes(`--allow-principal User:crm-viewer --operation Write --topic ${topic}`),
      `says which ACL to add: ${put.stderr}`,
    );
    assert.doesNotMatch(put.stderr, /unexpected error|is Kafka reachable/);

    const del = await rtcrm(["campaign", "delete", "41", "--config", viewer]);
    assert.equal(del.code, 1);
    assert.ok(del.stderr.includes(`not authorized to write topic ${topic}`), del.stderr);

    const after = await readToEnd(topic);
    assert.deepEqual(
      after.map((r) => [r.offset, r.key, r.value]),
      before.map((r) => [r.offset, r.key, r.value]),
      "nothing was written to the campaign topic",
    );
    // A topic it may not read at all (the events topic, as its campaign topic) is refused as clearly.
    const unreadable = clientConfig(dir, { ...names, campaign_topic: topics.event_topic }, "crm-viewer");
    const list = await rtcrm(["campaign", "list", "--config", unreadable]);
    assert.equal(list.code, 1);
    assert.ok(
      list.stderr.includes(`User:crm-viewer is not authorized to read topic ${topics.event_topic}`),
      list.stderr,
    );
    assertNoSecret("the CLI's messages", [put, del, listed, list].map((r) => r.stdout + r.stderr).join(""));
  });
});
