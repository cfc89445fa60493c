// The exactly-once committer against the real broker: the records sent through its output and the events'
// offsets become visible together, one transaction per commit interval; what is sent while a transaction commits
// goes into the next one; an abort makes its records invisible and never acknowledges them; a second instance
// with the same transactional.id fences the first, which then says so as `fatal`.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import rdkafka from "@confluentinc/kafka-javascript";
import type { OutRecord } from "../../src/kafka/acking-producer.js";
import { Assignments, type PartitionOffset } from "../../src/offsets/assignments.js";
import { TransactionalCommitter } from "../../src/offsets/transactional-committer.js";
import { Telemetry, type CommittedOffset } from "../../src/telemetry.js";
import {
  ackingProducer,
  committedOffsets,
  eventPathConfig,
  published,
  testLogger,
  topicOf,
  TrackingMember,
} from "../helpers/event-path.js";
import { produce, readToEnd, uniqueTopic, within, type Received } from "../helpers/kafka.js";

const STEP_TIMEOUT_MS = 30_000;
const INTERVAL_MS = 100;

/** Assignments that call `onCommit` when a transaction takes its offsets (the commit is then in progress). */
class ObservedAssignments extends Assignments {
  onCommit: (() => void) | undefined;
  override committable(all = false): PartitionOffset[] {
    const offsets = super.committable(all);
    if (offsets.length > 0) this.onCommit?.();
    return offsets;
  }
}

async function setup(t: TestContext, events = 10) {
  const eventTopic = await topicOf(t, "txn-events");
  const outTopic = await topicOf(t, "txn-out");
  await produce(
    eventTopic,
    Array.from({ length: events }, (_, i) => ({ key: null, value: JSON.stringify({ i }) })),
  );
  const config = eventPathConfig(eventTopic, { delivery: "exactly-once", commit_interval_ms: INTERVAL_MS });
  const transactionalId = uniqueTopic("txn-id");
  const telemetry = new Telemetry();
  const { log, lines } = testLogger();
  const producer = await ackingProducer(t, config, log, { transactionalId });
  const assignments = new ObservedAssignments();
  const member = new TrackingMember(config, telemetry, log, assignments);
  const committer = new TransactionalCommitter(producer, member.consumer, assignments, {
    intervalMs: INTERVAL_MS,
    timeoutMs: STEP_TIMEOUT_MS,
    telemetry,
    log,
  });
  t.after(async () => {
    await committer.stop();
    await member.close();
  });
  await within(60_000, "initTransactions", committer.initTransactions(STEP_TIMEOUT_MS));
  const commits: CommittedOffset[][] = [];
  telemetry.on("committed", (_, offsets) => commits.push([...offsets]));
  await member.start(t, committer);
  committer.start();
  await member.fetched((r) => r.length === events);
  const group = config.kafka_group_id;
  return {
    eventTopic,
    outTopic,
    group,
    config,
    transactionalId,
    telemetry,
    assignments,
    member,
    committer,
    lines,
    commits,
  };
}

/** A record named `name` (its key), as the trigger sink would send one. */
const out = (topic: string, name: string): OutRecord => ({
  topic,
  key: name,
  value: Buffer.from(JSON.stringify({ name })),
  headers: [{ "rtcrm-test": name }],
});

interface Sent {
  /** How often the record was acknowledged (once at most). */
  readonly acks: (Error | null)[];
  /** The first acknowledgement. */
  readonly ack: Promise<Error | null>;
}

/** Sends through the committer's output, as the trigger sink does. */
function send(committer: TransactionalCommitter, record: OutRecord): Sent {
  const acks: (Error | null)[] = [];
  const ack = new Promise<Error | null>((resolve) =>
    committer.output.send(record, (error) => {
      acks.push(error);
      resolve(error);
    }),
  );
  return { acks, ack };
}

const names = (received: readonly Received[]): string[] => received.map((r) => r.key ?? "").sort();

test("records and offsets become visible together, at the interval commit after their events are done", async (t) => {
  const { outTopic, eventTopic, group, telemetry, member, committer, lines, commits } = await setup(t, 5);
  const sent = [0, 1, 2, 3, 4].map((i) => send(committer, out(outTopic, `a${i}`)));
  assert.deepEqual(await within(60_000, "acks", Promise.all(sent.map((s) => s.ack))), [
    null,
    null,
    null,
    null,
    null,
  ]);

  // Written into the open transaction: not visible, and no offset committed, while its events are unfinished.
  assert.deepEqual(await readToEnd(outTopic), [], "read_committed sees nothing of the open transaction");
  assert.deepEqual(await committedOffsets(group, eventTopic), {});
  assert.deepEqual(commits, [], "intervals with nothing done commit nothing");

  const next = published(telemetry, "committed");
  member.done(0, 0, 1, 2, 3, 4);
  assert.deepEqual((await next)[1], [{ topic: eventTopic, partition: 0, offset: 5 }]);
  assert.deepEqual(names(await readToEnd(outTopic)), ["a0", "a1", "a2", "a3", "a4"]);
  assert.deepEqual(await committedOffsets(group, eventTopic), { 0: 5 });
  assert.deepEqual(
    sent.map((s) => s.acks),
    [[null], [null], [null], [null], [null]],
    "each acknowledged once",
  );
  assert.deepEqual(lines, [], "no warnings");
});

test("a record sent while a transaction commits goes into the next transaction", async (t) => {
  const { outTopic, eventTopic, group, telemetry, assignments, member, committer, lines } = await setup(t);
  const sent = [0, 1, 2].map((i) => send(committer, out(outTopic, `a${i}`)));
  await within(60_000, "acks", Promise.all(sent.map((s) => s.ack)));

  // The event at 3 is processed while the commit of 0..2 is in progress (it has taken its offsets).
  let held: ReturnType<typeof send> | undefined;
  assignments.onCommit = () => {
    assignments.onCommit = undefined;
    held = send(committer, out(outTopic, "b3"));
  };
  const first = published(telemetry, "committed");
  member.done(0, 0, 1, 2);
  assert.deepEqual((await first)[1], [{ topic: eventTopic, partition: 0, offset: 3 }]);
  assert.ok(held, "the commit took its offsets");
  assert.deepEqual(held.acks, [], "held back during the commit: not written into the committed transaction");
  assert.deepEqual(names(await readToEnd(outTopic)), ["a0", "a1", "a2"]);
  assert.deepEqual(await committedOffsets(group, eventTopic), { 0: 3 });

  assert.equal(await within(60_000, "ack of the held record", held.ack), null, "written into the next one");
  assert.deepEqual(names(await readToEnd(outTopic)), ["a0", "a1", "a2"], "the next transaction is open");
  const second = published(telemetry, "committed");
  member.done(0, 3);
  assert.deepEqual((await second)[1], [{ topic: eventTopic, partition: 0, offset: 4 }]);
  assert.deepEqual(names(await readToEnd(outTopic)), ["a0", "a1", "a2", "b3"]);
  assert.deepEqual(await committedOffsets(group, eventTopic), { 0: 4 });
  assert.deepEqual(
    [...sent, held].map((s) => s.acks),
    [[null], [null], [null], [null]],
    "each acknowledged once",
  );
  assert.deepEqual(lines, [], "no warnings");
});

test("revoking() aborts the open transaction: its records are never visible nor acknowledged", async (t) => {
  const { outTopic, eventTopic, group, telemetry, member, committer, lines, commits } = await setup(t);
  const a = send(committer, out(outTopic, "a0"));
  await within(60_000, "ack", a.ack);
  const first = published(telemetry, "committed");
  member.done(0, 0);
  await first;

  const aborted = [1, 2, 3].map((i) => send(committer, out(outTopic, `c${i}`)));
  committer.revoking();
  // whenAssigning() runs after the steps queued before it: here, after the abort.
  await within(60_000, "abort", new Promise<void>((resolve) => committer.whenAssigning(resolve)));
  assert.equal(commits.length, 1, "the abort committed nothing");

  // Event 1 processed again after the abort: its record goes into the next transaction. Delivery reports of
  // one partition come in order, so any late report of the aborted records came before this acknowledgement.
  const again = send(committer, out(outTopic, "d1"));
  assert.equal(await within(60_000, "ack after the abort", again.ack), null);
  assert.deepEqual(
    aborted.map((s) => s.acks),
    [[], [], []],
    "records of the aborted transaction are not acknowledged",
  );
  const second = published(telemetry, "committed");
  member.done(0, 1);
  assert.deepEqual((await second)[1], [{ topic: eventTopic, partition: 0, offset: 2 }]);
  assert.deepEqual(names(await readToEnd(outTopic)), ["a0", "d1"], "aborted records are invisible");
  assert.deepEqual(await committedOffsets(group, eventTopic), { 0: 2 });
  assert.deepEqual(
    aborted.map((s) => s.acks),
    [[], [], []],
    "nor later",
  );
  assert.deepEqual(again.acks, [null]);
  assert.deepEqual(lines, [], "no warnings");
});

test("a second committer with the same transactional.id fences the first, which publishes fatal", async (t) => {
  const {
    outTopic,
    eventTopic,
    group,
    config,
    transactionalId,
    telemetry,
    member,
    committer,
    lines,
    commits,
  } = await setup(t);
  const r = send(committer, out(outTopic, "r0"));
  assert.equal(await within(60_000, "ack", r.ack), null);

  // Another instance with the same id (a restarted engine): its initTransactions() aborts the first's
  // open transaction and fences the first producer.
  const { log } = testLogger();
  const producer2 = await ackingProducer(t, config, log, { transactionalId });
  const telemetry2 = new Telemetry();
  const committer2 = new TransactionalCommitter(producer2, member.consumer, new Assignments(), {
    intervalMs: INTERVAL_MS,
    timeoutMs: STEP_TIMEOUT_MS,
    telemetry: telemetry2,
    log,
  });
  t.after(() => committer2.stop());
  await within(60_000, "initTransactions of the second", committer2.initTransactions(STEP_TIMEOUT_MS));

  // The first finds out at its next commit.
  const fatal = published(telemetry, "fatal");
  member.done(0, 0);
  const [error] = await fatal;
  assert.equal((error as { code?: unknown }).code, rdkafka.CODES.ERRORS.ERR__FENCED, String(error));
  assert.deepEqual(commits, [], "nothing committed");
  assert.deepEqual(await readToEnd(outTopic), [], "the fenced transaction's record is invisible");
  assert.deepEqual(await committedOffsets(group, eventTopic), {});
  assert.ok(
    lines.some((l) => l.level === "error"),
    `the failure is logged: ${JSON.stringify(lines)}`,
  );

  await t.test("a fenced committer does not re-join the group", () => {
    assert.deepEqual(
      lines.filter((l) => l.msg.startsWith("re-reading")),
      [],
    );
  });
  await t.test("stop() of a fenced committer resolves false", async () => {
    assert.equal(await committer.stop(), false);
  });
});
