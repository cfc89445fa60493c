// The web UI as a person uses it in the tests: the UI server as its own process (as `npm run ui` runs it), a
// headless Chromium, and numbered screenshots of each step in test-artifacts/ui/.
import type { TestContext } from "node:test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { within } from "./kafka.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const UI_MAIN = join(ROOT, "dist/src/ui/server.js");
const SHOTS = join(ROOT, "test-artifacts/ui");
const CHROMIUM = process.env.RTCRM_CHROMIUM ?? "/usr/bin/chromium";
/** Waits in the page: the engine, the broker and the browser share 2 cores with other work. */
export const WAIT_MS = 60_000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The UI server as `npm run ui` runs it; resolves with its URL once it listens. */
export async function startUi(
  t: TestContext,
  configPath: string,
  args: readonly string[] = [],
): Promise<{ url: string; lines: string[] }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [UI_MAIN, "--config", configPath, "--port", "0", ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await within(20_000, "ui server exit", exited).catch(() => child.kill("SIGKILL"));
  });
  const lines: string[] = [];
  const url = await within(
    30_000,
    "ui server start",
    new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        for (const line of chunk.toString().split("\n").filter(Boolean)) {
          lines.push(line);
          if (process.env.RTCRM_TEST_ENGINE_LOG) process.stderr.write(`[ui] ${line}\n`);
          const m = /"msg":"ui listening".*"url":"([^"]+)"/.exec(line);
          if (m?.[1]) resolve(m[1]);
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      void exited.then((code) => reject(new Error(`ui server exited with ${code}: ${lines.join("\n")}`)));
    }),
  );
  return { url, lines };
}

export async function openBrowser(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Chromium refuses its sandbox as root (the CI user); the page is our own.
    args: ["--no-sandbox"],
  });
  t.after(() => within(20_000, "browser close", browser.close()).catch(() => undefined));
  return browser;
}

let shot = 0;
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  shot++;
  await page.screenshot({
    path: join(SHOTS, `${String(shot).padStart(2, "0")}-${name}.png`),
    fullPage: true,
  });
}
