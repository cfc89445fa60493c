// The at-least-once committer against the real broker: per partition only the offset below which every event is
// done is committed (on the interval, asynchronously; at revoke and at stop, synchronously), never past an
// unfinished event; each interval commit is published as `committed`.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { Config } from "../../src/config/config.js";
import { OffsetCommitter } from "../../src/offsets/offset-committer.js";
import { Telemetry, type CommittedOffset } from "../../src/telemetry.js";
import {
  ackingProducer,
  committedOffsets,
  eventPathConfig,
  eventually,
  published,
  testLogger,
  topicOf,
  TrackingMember,
} from "../helpers/event-path.js";
import { produce } from "../helpers/kafka.js";

/** An interval that never comes within a test: only revoking() and stop() commit. */
const NEVER = 3_600_000;

async function setup(
  t: TestContext,
  partitions: number,
  perPartition: number,
  intervalMs: number,
  over: Partial<Config> = {},
) {
  const topic = await topicOf(t, "offsets", partitions);
  await produce(
    topic,
    Array.from({ length: partitions * perPartition }, (_, i) => ({
      partition: i % partitions,
      key: null,
      value: JSON.stringify({ i }),
    })),
  );
  const config = eventPathConfig(topic, { commit_interval_ms: intervalMs, ...over });
  const telemetry = new Telemetry();
  const { log, lines } = testLogger();
  const producer = await ackingProducer(t, config, log);
  const member = new TrackingMember(config, telemetry, log);
  const committer = new OffsetCommitter(producer, member.consumer, member.assignments, {
    intervalMs,
    telemetry,
    log,
  });
  t.after(async () => {
    await committer.stop();
    await member.close();
  });
  const group = config.kafka_group_id;
  return { topic, group, config, telemetry, producer, member, committer, lines };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const at = (offsets: readonly CommittedOffset[], partition: number): number | undefined =>
  offsets.find((o) => o.partition === partition)?.offset;

test("on the interval only the contiguous done offsets are committed, never past an unfinished event", async (t) => {
  const { topic, group, telemetry, member, committer, lines } = await setup(t, 2, 10, 50);
  const commits: CommittedOffset[][] = [];
  telemetry.on("committed", (ms, offsets) => {
    assert.ok(ms >= 0);
    commits.push([...offsets]);
  });
  await member.start(t, committer);
  committer.start();
  await member.fetched((r) => r.length === 20);
  assert.deepEqual(await committedOffsets(group, topic), {}, "nothing done, nothing committed");

  // Partition 0: 3 unfinished behind 0..2; partition 1: everything but its first event.
  let next = published(telemetry, "committed", (_, o) => at(o, 0) === 3);
  member.done(0, 0, 1, 2, 4, 5);
  member.done(1, ...range(1, 10));
  const [, first] = await next;
  assert.deepEqual(first, [{ topic, partition: 0, offset: 3 }]);
  assert.deepEqual(await committedOffsets(group, topic), { 0: 3 });

  // 3 done: 0..5 are contiguous. The intervals in between committed nothing of partition 1.
  next = published(telemetry, "committed", (_, o) => at(o, 0) === 6);
  member.done(0, 3);
  await next;
  assert.deepEqual(await committedOffsets(group, topic), { 0: 6 });
  assert.ok(
    commits.every((c) => at(c, 1) === undefined),
    `partition 1 committed past its unfinished offset 0: ${JSON.stringify(commits)}`,
  );

  next = published(telemetry, "committed", (_, o) => at(o, 1) === 10);
  member.done(1, 0);
  await next;
  next = published(telemetry, "committed", (_, o) => at(o, 0) === 10);
  member.done(0, ...range(6, 10));
  await next;
  assert.deepEqual(await committedOffsets(group, topic), { 0: 10, 1: 10 });

  // Each commit carried only what changed, in increasing offsets per partition.
  for (const partition of [0, 1]) {
    const seen = commits.map((c) => at(c, partition)).filter((o) => o !== undefined);
    assert.deepEqual(seen, partition === 0 ? [3, 6, 10] : [10], `commits of partition ${partition}`);
  }
  assert.deepEqual(lines, [], "no warnings");
});

test("revoking() and stop() commit what is done synchronously; after stop() nothing is committed", async (t) => {
  const { topic, group, telemetry, member, committer, lines } = await setup(t, 1, 10, NEVER);
  await member.start(t, committer);
  committer.start();
  await member.fetched((r) => r.length === 10);

  member.done(0, 0, 1, 3);
  const reported = published(telemetry, "committed");
  committer.revoking();
  // No polling: the commit happened before revoking() returned.
  assert.deepEqual(
    await committedOffsets(group, topic),
    { 0: 2 },
    "revoking() commits 0..1 (2 is unfinished)",
  );
  // librdkafka reports synchronous commits too, at the consumer's next poll.
  assert.deepEqual((await reported)[1], [{ topic, partition: 0, offset: 2 }]);

  member.done(0, 2, 4, 6);
  assert.equal(await committer.stop(), true);
  assert.deepEqual(await committedOffsets(group, topic), { 0: 5 }, "stop() commits 0..4 (5 is unfinished)");

  member.done(0, 5, 7, 8, 9);
  committer.revoking();
  assert.equal(await committer.stop(), true, "stop() again: idempotent");
  assert.deepEqual(await committedOffsets(group, topic), { 0: 5 }, "nothing committed after stop()");
  assert.deepEqual(lines, [], "no warnings");
});

test("a rebalance commits the done offsets at revoke; the next owner resumes from them", async (t) => {
  const { topic, group, config, telemetry, producer, member, committer } = await setup(t, 2, 10, NEVER);
  await member.start(t, committer);
  committer.start();
  await member.fetched((r) => r.length === 20);
  member.done(0, ...range(0, 7), 8);
  member.done(1, 0, 1, 3, 4);

  // A second member of the group: the first gives its partitions back (and takes one again).
  const { log } = testLogger();
  // Its own group_instance_id: with the first one's, the broker would fence the first (static membership).
  const other = new TrackingMember({ ...config, group_instance_id: `${group}-other` }, telemetry, log);
  const otherCommitter = new OffsetCommitter(producer, other.consumer, other.assignments, {
    intervalMs: NEVER,
    telemetry,
    log,
  });
  t.after(async () => {
    await otherCommitter.stop();
    await other.close();
  });
  await other.start(t, otherCommitter);
  otherCommitter.start();
  const fetched = await other.fetched((r) => r.length > 0);

  assert.ok(member.rebalances.includes("-0") && member.rebalances.includes("-1"), String(member.rebalances));
  assert.deepEqual(await committedOffsets(group, topic), { 0: 7, 1: 2 });
  // The other member's partition is read again from its committed offset, not from where the first one was.
  const taken = other.assignments.list().map((tp) => tp.partition);
  assert.equal(taken.length, 1, `the other member holds one partition: ${JSON.stringify(taken)}`);
  const partition = taken[0] as number;
  const resumed = Math.min(...fetched.filter((r) => r.partition === partition).map((r) => r.offset));
  assert.equal(resumed, partition === 0 ? 7 : 2);
  // And the first member, holding the other partition again, resumes there too.
  const mine = 1 - partition;
  const again = await member.fetched(
    (r) => r.length > 20 && r.some((m, i) => i >= 20 && m.partition === mine),
  );
  assert.equal(again.slice(20).find((m) => m.partition === mine)?.offset, mine === 0 ? 7 : 2);
  await eventually(
    "both members assigned",
    async () => [member.assignments.list().length, other.assignments.list().length],
    ([a, b]) => a === 1 && b === 1,
  );
});

test("stop() resolves false when its commit fails", async (t) => {
  // A dynamic member: a static one leaves the group through a revoke, whose commit would succeed.
  const { topic, group, member, committer } = await setup(t, 1, 4, NEVER, { group_instance_id: "none" });
  await member.start(t, committer);
  committer.start();
  await member.fetched((r) => r.length === 4);
  member.done(0, 0, 1, 2, 3);
  // A consumer that left the group cannot commit: the simplest commit failure to bring about.
  await member.close();
  assert.equal(await committer.stop(), false);
  assert.deepEqual(await committedOffsets(group, topic), {});
});
