// Tables on stdout, a progress line on stderr while a scenario runs.

export type Row = Record<string, string | number>;

export function table(title: string, rows: Row[]): string {
  if (rows.length === 0) return `${title}\n(no rows)\n`;
  const cols = Object.keys(rows[0] as Row);
  const cell = (v: string | number | undefined) => (typeof v === "number" ? fmt(v) : (v ?? ""));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(cell(r[c])).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i] as number)).join("  ");
  return [
    `\n${title}`,
    line(cols),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(cols.map((c) => String(cell(r[c]))))),
  ].join("\n");
}

/** The same rows as a Markdown table (numbers right-aligned), for BENCHMARKS.md. */
export function markdownTable(rows: Row[]): string {
  if (rows.length === 0) return "";
  const cols = Object.keys(rows[0] as Row);
  // Right-aligned when every cell is a number or starts like one ("7,217 of 12,690 (budget)" too).
  const numeric = cols.map((c) =>
    rows.every((r) => typeof r[c] === "number" || /^-?[\d,.]+/.test(String(r[c] ?? "")) || r[c] === ""),
  );
  const cell = (v: string | number | undefined) => (typeof v === "number" ? fmt(v) : (v ?? ""));
  return [
    `| ${cols.join(" | ")} |`,
    `| ${numeric.map((n) => (n ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${cols.map((c) => String(cell(r[c])).replace(/\|/g, "\\|")).join(" | ")} |`),
  ].join("\n");
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

let current = "";
let started = Date.now();
let timer: NodeJS.Timeout | undefined;
const tty = process.stderr.isTTY;

/** Shows `what` with the elapsed time on stderr (one updating line on a terminal, plain lines otherwise). */
export function progress(what: string): void {
  current = what;
  started = Date.now();
  if (!tty) {
    process.stderr.write(`bench: ${what}\n`);
    return;
  }
  timer ??= setInterval(() => {
    process.stderr.write(`\r\x1b[K${current} … ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }, 500).unref();
}

export function progressDone(): void {
  if (timer) clearInterval(timer);
  timer = undefined;
  if (tty) process.stderr.write("\r\x1b[K");
}
