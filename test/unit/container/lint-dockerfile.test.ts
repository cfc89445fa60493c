// The Dockerfile linter of `npm run lint` (scripts/lint-dockerfile.mjs): it finds real mistakes, stays quiet on
// their corrected forms and on the repository's Dockerfile, and is wired into the lint script CI runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOCKERFILE, LINT_SCRIPT, REPO_ROOT, loadLinter } from "./dockerfile.js";

// One mistake (or two that belong together) per line, with the findings expected on that line.
const BAD = `FROM node AS build
RUN apt-get update && apt-get install curl
RUN npm install
RUN curl -s https://example.invalid/install.sh | sh
RUN cd /app && make
FROM node:latest
COPY --from=builder /app /app
ADD app.js /app/
HEALTHCHECK --interval=5 CMD ["true"]
CMD node main.js
`;

const EXPECTED = [
  [1, "DL3006"],
  [2, "DL3009"],
  [2, "DL3014"],
  [2, "DL3015"],
  [3, "npm-ci"],
  [4, "DL4006"],
  [5, "DL3003"],
  [6, "DL3007"],
  [6, "non-root"],
  [7, "DL3022"],
  [8, "DL3020"],
  [9, "dockerfile-utils"],
  [10, "DL3025"],
];

// The same Dockerfile with every mistake corrected.
const GOOD = `# syntax=docker/dockerfile:1
FROM node:20-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \\
  # a comment inside a continued instruction is dropped, as Docker does
  && apt-get install -y --no-install-recommends curl \\
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN npm ci
RUN curl -s https://example.invalid/install.sh | sh
FROM node:20-bookworm-slim
COPY --from=build /app /app
COPY app.js /app/
USER node
HEALTHCHECK --interval=5s CMD ["true"]
CMD ["node", "main.js"]
`;

function sortFindings(findings: { line: number; rule: string }[]): [number, string][] {
  return findings
    .map((f): [number, string] => [f.line, f.rule])
    .sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
}

test("each mistake of a bad Dockerfile is found on its line, and nothing else", async () => {
  const { lintDockerfile } = await loadLinter();
  assert.deepEqual(sortFindings(lintDockerfile(BAD)), EXPECTED);
});

test("the corrected Dockerfile has no findings", async () => {
  const { lintDockerfile } = await loadLinter();
  assert.deepEqual(lintDockerfile(GOOD), []);
});

test("a final stage without USER and HEALTHCHECK is reported; USER root counts as none", async () => {
  const { lintDockerfile } = await loadLinter();
  const rules = (text: string) => lintDockerfile(text).map((f) => f.rule);
  assert.deepEqual(rules('FROM node:20\nCMD ["node"]\n'), ["non-root", "healthcheck"]);
  assert.deepEqual(rules('FROM node:20\nUSER node\nUSER root\nHEALTHCHECK CMD ["true"]\nCMD ["node"]\n'), [
    "non-root",
  ]);
  // Only the final stage runs: a build stage may stay root.
  assert.deepEqual(
    rules('FROM node:20 AS build\nFROM node:20-slim\nUSER node\nHEALTHCHECK CMD ["true"]\nCMD ["node"]\n'),
    [],
  );
});

test("the parser joins continued lines, keeps exec-form arguments intact and reads leading flags", async () => {
  const { parseDockerfile, execForm, splitFlags } = await loadLinter();
  const [run, health] = parseDockerfile(
    'RUN a \\\n  # dropped\n  && b\n\nHEALTHCHECK --interval=15s --retries=3 \\\n  CMD ["node", "-e", "x  y"]\n',
  );
  assert.deepEqual(run, { line: 1, keyword: "RUN", args: "a && b" });
  assert.equal(health?.line, 5);
  const { flags, rest } = splitFlags(health?.args ?? "");
  assert.deepEqual(flags, { interval: "15s", retries: "3" });
  assert.deepEqual(execForm(rest.replace(/^CMD\s+/, "")), ["node", "-e", "x  y"]);
  assert.equal(execForm("node main.js"), null);
});

test("the repository's Dockerfile passes its own linter", async () => {
  const { lintDockerfile } = await loadLinter();
  assert.deepEqual(lintDockerfile(readFileSync(DOCKERFILE, "utf8")), []);
});

test("the command npm run lint calls exits 1 with file:line findings, 0 on a clean Dockerfile", (t) => {
  const lint = (
    JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: { lint: string } }
  ).scripts.lint;
  assert.match(lint, /node scripts\/lint-dockerfile\.mjs/);

  const dir = mkdtempSync(join(tmpdir(), "rtcrm-dockerfile-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, "Dockerfile.bad");
  writeFileSync(bad, BAD);
  const failed = spawnSync(process.execPath, [LINT_SCRIPT, bad], { cwd: REPO_ROOT, encoding: "utf8" });
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(failed.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2 DL3015 `));
  assert.equal(failed.stderr.trim().split("\n").length, EXPECTED.length);

  // Without arguments it lints ./Dockerfile, as `npm run lint` does from the repository root.
  const clean = spawnSync(process.execPath, [LINT_SCRIPT], { cwd: REPO_ROOT, encoding: "utf8" });
  assert.equal(clean.status, 0, clean.stderr);
  assert.equal(clean.stderr, "");
});
