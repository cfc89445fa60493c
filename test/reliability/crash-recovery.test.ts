// Crashes: the engine is killed with SIGKILL at several points of a stream and restarted each time; then
// the trigger topic is checked against the expected triggers (from the pure evaluation function).
// At-least-once: none missing, duplicates counted (each with its twin's trigger id). Exactly-once: each
// expected trigger exactly once, as a read_committed consumer sees the topic.
// Recovery: every restarted engine (the same static group member, group_instance_id) must commit further offsets
// of the events topic before it is killed again (the progress between kills, asserted); how long each restart
// took to get its partitions back and to write its first trigger is reported, not asserted (wall-clock time).
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineFixture, type EngineProcess } from "../helpers/engine-process.js";
import { committedOffsets, eventually } from "../helpers/event-path.js";
import { produce, readToEnd } from "../helpers/kafka.js";
import { checkTriggers, makeStream, putCampaigns, waitForAll } from "./scenario.js";

const RUNS = 6;

/** Milliseconds from `since` (epoch ms) to the time of the engine's first log line matching `re`. */
async function logged(engine: EngineProcess, re: RegExp, since: number): Promise<number> {
  const line = await engine.waitForLog(re);
  return Date.parse((JSON.parse(line) as { time: string }).time) - since;
}

for (const delivery of ["at-least-once", "exactly-once"] as const) {
  test(`${delivery}: SIGKILL at 5 points of a stream, restarting each time`, async (t) => {
    const { topics, start, config } = await engineFixture(
      t,
      `crash-${delivery}`,
      { delivery, batch_size: 64, commit_interval_ms: 200 },
      3,
    );
    const stream = makeStream(6000, 3);
    await putCampaigns(topics.campaign_topic, stream.campaigns);
    const chunk = stream.events.length / RUNS;
    const committed = async (): Promise<number> =>
      Object.values(await committedOffsets(config.kafka_group_id, topics.event_topic)).reduce(
        (a, b) => a + b,
        0,
      );
    /** Per run: when it was started, how long until its partitions were assigned. */
    const runs: { startedAt: number; assignedMs: number }[] = [];
    let atLastKill = 0;
    let triggersAtLastKill = 0;
    let engine: EngineProcess | undefined;
    for (let k = 0; k < RUNS; k++) {
      await produce(topics.event_topic, stream.events.slice(k * chunk, (k + 1) * chunk));
      const startedAt = Date.now();
      engine = await start();
      runs.push({ startedAt, assignedMs: await logged(engine, /"msg":"partitions assigned"/, startedAt) });
      if (k === RUNS - 1) break;
      // Kill once this run committed offsets beyond those the killed one left: every restart makes progress.
      await eventually(
        `run ${k + 1}: offsets committed beyond the ${atLastKill} of the last kill`,
        committed,
        (n) => n > atLastKill,
        120_000,
      );
      engine.child.kill("SIGKILL");
      await engine.exited;
      const atKill = await committed();
      const triggers = (await readToEnd(topics.trigger_topic)).length;
      t.diagnostic(
        `kill ${k + 1}: run ${k + 1} committed ${atKill - atLastKill} more offsets (${atKill} of ` +
          `${(k + 1) * chunk} sent) and made ${triggers - triggersAtLastKill} more trigger records visible`,
      );
      assert.ok(atKill > atLastKill, `run ${k + 1} committed no further offset before the kill`);
      atLastKill = atKill;
      triggersAtLastKill = triggers;
    }
    await waitForAll(topics.trigger_topic, stream.expected);
    assert.equal(await engine?.stop(), 0);
    await checkTriggers(t, `crash recovery, ${delivery}, ${RUNS - 1} kills`, topics.trigger_topic, stream, {
      exactlyOnce: delivery === "exactly-once",
    });

    // Recovery after each kill: the first trigger written (record timestamp) after the restart.
    const written = (await readToEnd(topics.trigger_topic)).map((r) => r.timestamp);
    const firsts: number[] = [];
    for (const [i, run] of runs.entries()) {
      if (i === 0) continue;
      const first = Math.min(...written.filter((ts) => ts >= run.startedAt)) - run.startedAt;
      firsts.push(first);
      t.diagnostic(
        `restart ${i} (after kill ${i}): partitions assigned ${run.assignedMs} ms after the restart, ` +
          `first new trigger after ${first} ms`,
      );
    }
    const line = `crash recovery, ${delivery}: first new trigger ${Math.min(...firsts)}–${Math.max(...firsts)} ms after each restart`;
    t.diagnostic(line);
    process.stdout.write(`# ${line}\n`);
  });
}
