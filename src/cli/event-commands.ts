// `rtcrm event send` and `rtcrm triggers tail`.
import { sendEvents } from "../client/event-client.js";
import { tail } from "../client/tail.js";
import { EXIT, integerArg, UsageError } from "./args.js";
import type { Context } from "./context.js";
import { triggerSentence } from "./format.js";
import { displayName, parseJsonRecords, readText } from "./io.js";

export async function eventSend(ctx: Context): Promise<number> {
  const inline = ctx.values.json;
  const path = ctx.positionals[0];
  if ((typeof inline === "string") === (path !== undefined)) {
    throw new UsageError("give either FILE (or - for stdin) or --json '{...}'", ctx.command);
  }
  const name = typeof inline === "string" ? "--json" : displayName(path as string);
  const text = typeof inline === "string" ? inline : await readText(ctx.io, path as string, ctx.command);
  const { records, problems } = parseJsonRecords(text);
  for (const r of records) {
    if (typeof r.value !== "object" || r.value === null || Array.isArray(r.value)) {
      problems.push({ line: r.line, message: "an event must be a JSON object" });
    }
  }
  if (problems.length > 0) {
    for (const p of problems.sort((a, b) => a.line - b.line))
      ctx.io.stderr(`${name}:${p.line}: ${p.message}\n`);
    ctx.io.stderr("nothing was sent\n");
    return EXIT.FAILURE;
  }
  if (records.length === 0) throw new UsageError(`${name} holds no event`, ctx.command);

  const topic = ctx.config().event_topic;
  const key = typeof ctx.values.key === "string" ? ctx.values.key : undefined;
  const delivered = await sendEvents(
    ctx.settings("events"),
    topic,
    records.map((r) => r.text),
    { ...(key === undefined ? {} : { keys: records.map(() => key) }), timeoutMs: ctx.timeoutMs },
  );
  if (delivered.length === 1) {
    const [d] = delivered;
    ctx.io.stdout(`sent 1 event to ${topic} (partition ${d?.partition}, offset ${d?.offset})\n`);
  } else {
    const partitions = [...new Set(delivered.map((d) => d.partition))].sort((a, b) => a - b);
    ctx.io.stdout(`sent ${delivered.length} events to ${topic} (partitions ${partitions.join(", ")})\n`);
  }
  return EXIT.OK;
}

export async function triggersTail(ctx: Context): Promise<number> {
  const config = ctx.config();
  const max =
    typeof ctx.values.max === "string" ? integerArg(ctx.command, "--max", ctx.values.max, 1) : Infinity;
  let seen = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const stream = await tail(
    ctx.settings("triggers"),
    config.trigger_topic,
    (r) => {
      if (seen >= max) return;
      seen++;
      const value = r.value?.toString("utf8") ?? "";
      ctx.io.stdout(ctx.values.raw ? `${value}\n` : `${triggerSentence(value, r.key)}\n`);
      if (seen >= max) resolveDone();
    },
    {
      fromBeginning: ctx.values["from-beginning"] === true,
      timeoutMs: ctx.timeoutMs,
      onError: (e) =>
        ctx.io.stderr(`rtcrm: reading ${config.trigger_topic} failed, retrying: ${e.message}\n`),
    },
  );
  ctx.io.stderr(
    `following ${config.trigger_topic}${ctx.values["from-beginning"] ? " from the beginning" : ""}; Ctrl-C ends\n`,
  );
  ctx.io.signal.addEventListener("abort", () => resolveDone(), { once: true });
  if (ctx.io.signal.aborted) resolveDone();
  await done;
  await stream.stop();
  return EXIT.OK;
}
