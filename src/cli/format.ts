// Text output of the commands: aligned tables and the seed UI's trigger sentence.

/** Left-aligned columns separated by two spaces; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((row) => row.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  return (
    cells
      .map((row) =>
        row
          .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** Shortens text to `max` characters on one line. */
export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

interface TriggerShape {
  campaign?: { campaign_id?: unknown };
  event?: { player_id?: unknown; game?: unknown; market?: unknown };
}

/**
 * "Trigger campaign 4711 for player 12345 in game foe and market de!" as the seed's UI shows it. The player id
 * is the record key when there is one: it keeps every digit of ids beyond 2^53.
 */
export function triggerSentence(value: string, key: string | null): string {
  let t: TriggerShape;
  try {
    t = JSON.parse(value) as TriggerShape;
  } catch {
    return `(not a trigger: ${clip(value, 80)})`;
  }
  const player = key ?? String(t.event?.player_id);
  return `Trigger campaign ${String(t.campaign?.campaign_id)} for player ${player} in game ${String(t.event?.game)} and market ${String(t.event?.market)}!`;
}
