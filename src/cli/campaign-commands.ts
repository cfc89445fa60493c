// `rtcrm campaign put|get|list|delete|check`.
import type { CampaignStatus } from "../campaigns/status.js";
import { checkCampaigns, deleteCampaign, putCampaigns, readCampaigns } from "../client/campaign-client.js";
import {
  CampaignCheckError,
  checkCampaign,
  checkCampaignRecord,
  problemText,
  rulesText,
  type CheckProblem,
} from "../client/check-campaign.js";
import { tail } from "../client/tail.js";
import { EXIT, integerArg, UsageError } from "./args.js";
import { cliAuditStamp } from "./author.js";
import type { Context } from "./context.js";
import { clip, table } from "./format.js";
import { displayName, parseJsonRecords, readText } from "./io.js";

export async function campaignPut(ctx: Context): Promise<number> {
  const path = ctx.positionals[0] as string;
  const name = displayName(path);
  const text = await readText(ctx.io, path, ctx.command);
  const { records, problems } = parseJsonRecords(text);
  for (const p of problems) ctx.io.stderr(`${name}:${p.line}: ${p.message}\n`);
  if (problems.length > 0) return EXIT.FAILURE;
  if (records.length === 0) throw new UsageError(`${name} holds no campaign`, ctx.command);

  const config = ctx.config();
  const audit = cliAuditStamp(ctx);
  // Checked before any Kafka client is made: a campaign the engine would reject never needs the broker.
  try {
    checkCampaigns(
      records.map((r) => r.value),
      { limits: config },
    );
  } catch (error) {
    if (!(error instanceof CampaignCheckError)) throw error;
    printProblems(ctx.io.stderr, name, error.problems);
    return EXIT.FAILURE;
  }
  const topic = config.campaign_topic;
  // With --wait the status topic is followed from before the write, so the engine's verdict cannot be missed.
  const verdicts = new Map<string, CampaignStatus>();
  let onVerdict: (() => void) | undefined;
  const statusTail = ctx.values.wait
    ? await tail(
        ctx.settings("status"),
        config.campaign_status_topic,
        (r) => {
          if (!r.value) return;
          try {
            const status = JSON.parse(r.value.toString("utf8")) as CampaignStatus;
            verdicts.set(status.source, status);
            onVerdict?.();
          } catch {
            // not a status record: not ours to judge
          }
        },
        { timeoutMs: ctx.timeoutMs },
      )
    : undefined;
  try {
    const written = await putCampaigns(
      ctx.settings("campaigns"),
      topic,
      records.map((r) => r.value),
      { timeoutMs: ctx.timeoutMs, limits: config, audit },
    );
    for (const { campaign, delivered } of written) {
      ctx.io.stdout(
        `campaign ${campaign.campaignId} written to ${topic} (partition ${delivered.partition}, offset ${delivered.offset})\n`,
      );
    }
    if (!statusTail) return EXIT.OK;

    const sources = written.map((w) => `${topic}/${w.delivered.partition}/${w.delivered.offset}`);
    const allIn = () => sources.every((s) => verdicts.has(s));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ctx.timeoutMs);
      const done = () => {
        if (!allIn() && !ctx.io.signal.aborted) return;
        clearTimeout(timer);
        resolve();
      };
      onVerdict = done;
      ctx.io.signal.addEventListener("abort", done, { once: true });
      done();
    });
    let code: number = EXIT.OK;
    for (const [i, source] of sources.entries()) {
      const id = written[i]?.campaign.campaignId;
      const status = verdicts.get(source);
      if (!status) {
        ctx.io.stderr(
          `campaign ${id}: no verdict on ${config.campaign_status_topic} within ${ctx.timeoutMs / 1000} s; is an engine running on ${topic}?\n`,
        );
        code = EXIT.FAILURE;
        continue;
      }
      const reasons = status.reasons?.length ? `: ${status.reasons.join("; ")}` : "";
      ctx.io.stdout(`campaign ${id} ${status.status} by the engine${reasons}\n`);
      if (status.status !== "accepted") code = EXIT.FAILURE;
    }
    return code;
  } finally {
    await statusTail?.stop();
  }
}

export async function campaignGet(ctx: Context): Promise<number> {
  const id = integerArg(ctx.command, "ID", ctx.positionals[0] as string);
  const config = ctx.config();
  const entry = (await readCampaigns(ctx.settings("campaigns"), config.campaign_topic, ctx.timeoutMs)).get(
    id,
  );
  if (!entry) {
    ctx.io.stderr(`campaign ${id} is not on ${config.campaign_topic} (never written, or deleted)\n`);
    return EXIT.FAILURE;
  }
  ctx.io.stdout(
    typeof entry.value === "string" ? `${entry.value}\n` : `${JSON.stringify(entry.value, null, 2)}\n`,
  );
  return EXIT.OK;
}

export async function campaignList(ctx: Context): Promise<number> {
  const config = ctx.config();
  const entries = [
    ...(await readCampaigns(ctx.settings("campaigns"), config.campaign_topic, ctx.timeoutMs)).values(),
  ].sort((a, b) => a.campaignId - b.campaignId);
  if (ctx.values.json) {
    const records = entries.map((e) => e.value);
    ctx.io.stdout(`${JSON.stringify(records, null, 2)}\n`);
    return EXIT.OK;
  }
  if (entries.length === 0) {
    ctx.io.stderr(`no campaigns on ${config.campaign_topic}\n`);
    return EXIT.OK;
  }
  const rows = entries.map((e) => {
    // Checked as the engine checks it, filter compiled, so that what it would reject shows as INVALID. The
    // engine does not reject a filter for what it does on an example event, so the list does not either.
    const checked = checkCampaignRecord(e.value, { runOnExample: false });
    const reasons = checked.ok ? [] : checked.problems.map(problemText);
    if (checked.ok && e.key !== String(checked.campaign.campaignId)) {
      reasons.push(
        `the record key ${JSON.stringify(e.key)} is not its campaign_id ${checked.campaign.campaignId}`,
      );
    }
    if (!checked.ok || reasons.length > 0) {
      return [e.campaignId, "-", "-", "-", "-", "-", `INVALID: ${reasons.join("; ")}`];
    }
    const c = checked.campaign;
    return [
      c.campaignId,
      String(c.enabled),
      c.game,
      c.eventName,
      c.startDate ?? "-",
      c.endDate ?? "-",
      clip(c.filter, 60),
    ];
  });
  ctx.io.stdout(table(["ID", "ENABLED", "GAME", "EVENT_NAME", "START", "END", "FILTER"], rows));
  return EXIT.OK;
}

export async function campaignDelete(ctx: Context): Promise<number> {
  const id = integerArg(ctx.command, "ID", ctx.positionals[0] as string);
  const config = ctx.config();
  await deleteCampaign(ctx.settings("campaigns"), config.campaign_topic, id, {
    timeoutMs: ctx.timeoutMs,
    audit: cliAuditStamp(ctx),
  });
  ctx.io.stdout(`campaign ${id} deleted (tombstone written to ${config.campaign_topic})\n`);
  return EXIT.OK;
}

export async function campaignCheck(ctx: Context): Promise<number> {
  const path = ctx.positionals[0] as string;
  const name = displayName(path);
  const text = await readText(ctx.io, path, ctx.command);
  const result = checkCampaign(text, { limits: ctx.config() });
  if (!result.ok) {
    printProblems(ctx.io.stdout, name, result.problems);
    return EXIT.FAILURE;
  }
  const c = result.campaign;
  ctx.io.stdout(
    `${name}: campaign ${c.campaignId} (${c.game}/${c.eventName}) is valid; its filter compiles and runs within the limits on an example event\n`,
  );
  const rules = rulesText(c.rules);
  if (rules !== null) ctx.io.stdout(`${name}: delivery rules: ${rules}\n`);
  return EXIT.OK;
}

/** FILE:LINE:COLUMN: message for filter problems (positions inside the filter's source), FILE: message otherwise. */
function printProblems(write: (text: string) => void, name: string, problems: readonly CheckProblem[]): void {
  for (const p of problems) {
    const at = p.line === undefined ? "" : `${p.line}:${p.column === undefined ? "" : `${p.column}:`}`;
    write(`${name}:${at} ${p.message}\n`);
  }
  if (problems.some((p) => p.line !== undefined)) {
    write(`(${name}:LINE:COLUMN counts inside the filter's source text, the string value of "filter")\n`);
  }
}
