#!/usr/bin/env node
// Lints Dockerfiles offline, as part of `npm run lint`: hadolint cannot be installed here (it ships as a binary
// from outside the package registries). Two layers:
//  - dockerfile-utils (the linter of VS Code's Dockerfile support): what the Docker builder itself would reject,
//    e.g. a bad instruction, flag, port or duration; its warnings count as errors here;
//  - the hadolint rules that matter for this image, re-implemented below on a small parser, plus two of this
//    project's own (a non-root user and a health check in the final stage).
// Usage: node scripts/lint-dockerfile.mjs [Dockerfile...]  (default: Dockerfile). Exit 1 when anything is found.
// Not supported: heredocs (RUN <<EOF) and the `escape` parser directive; neither is used by this project.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { validate } from "dockerfile-utils";

/**
 * The instructions of a Dockerfile: continuation lines joined, comments and parser directives dropped.
 * @param {string} text
 * @returns {{ line: number, keyword: string, args: string }[]} `line` is 1-based, where the instruction starts.
 */
export function parseDockerfile(text) {
  const out = [];
  let current = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    const trimmed = raw.trim();
    // Docker drops comment lines even inside a continued instruction.
    if (trimmed.startsWith("#")) continue;
    if (current === null) {
      if (trimmed === "") continue;
      const m = /^(\S+)\s*(.*)$/.exec(trimmed);
      current = { line: i + 1, keyword: m[1].toUpperCase(), args: "" };
      const rest = m[2];
      if (rest.endsWith("\\")) {
        current.args = rest.slice(0, -1);
      } else {
        current.args = rest;
        out.push(finish(current));
        current = null;
      }
      continue;
    }
    // Joined with one space whatever the indentation: both the shell and JSON read it as Docker's joined text.
    const joined = current.args.trimEnd() + " ";
    if (trimmed.endsWith("\\")) {
      current.args = joined + trimmed.slice(0, -1);
    } else {
      current.args = joined + trimmed;
      out.push(finish(current));
      current = null;
    }
  }
  if (current !== null) out.push(finish(current));
  return out;
}

function finish(instruction) {
  return { ...instruction, args: instruction.args.trim() };
}

/**
 * The arguments of an exec-form instruction (`["node", "main.js"]`), or null for the shell form.
 * @param {string} args
 * @returns {string[] | null}
 */
export function execForm(args) {
  if (!args.startsWith("[")) return null;
  try {
    const parsed = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === "string") ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Leading `--name=value` flags of an instruction's arguments, and what follows them.
 * @param {string} args
 * @returns {{ flags: Record<string, string>, rest: string }}
 */
export function splitFlags(args) {
  const flags = {};
  let rest = args;
  for (let m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); m; m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    flags[m[1]] = m[2] ?? "";
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/**
 * The build stages: their base image, name and instructions (FROM included).
 * @param {{ line: number, keyword: string, args: string }[]} instructions
 */
export function stages(instructions) {
  const out = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const { rest } = splitFlags(ins.args);
      const [image = "", as, name] = rest.split(/\s+/);
      out.push({ image, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [ins] });
    } else if (out.length > 0) {
      out[out.length - 1].instructions.push(ins);
    }
  }
  return out;
}

// Commands of a shell-form RUN, split at `&&`, `||`, `;` and `|`, so that each rule looks at one command.
function commands(script) {
  return script
    .split(/&&|\|\||;|\|/)
    .map((c) => c.trim())
    .filter(Boolean);
}

const RULES = {
  DL3006: "base image without an explicit tag: pin one (e.g. node:20-bookworm-slim) so that builds repeat",
  DL3007: "base image tagged `latest`: pin a version so that builds repeat",
  DL3014: "`apt-get install` without `-y`: the build cannot answer the prompt",
  DL3015: "`apt-get install` without `--no-install-recommends`: it pulls in packages the image does not need",
  DL3009:
    "`apt-get` without `rm -rf /var/lib/apt/lists/*` in the same RUN: the package lists stay in the layer",
  DL4006:
    'RUN with a pipe but no `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`: a failing command before `|` goes unnoticed',
  DL3025: "CMD/ENTRYPOINT in shell form: use the JSON form so that the process gets SIGTERM directly",
  DL3022: "COPY --from names no earlier build stage",
  DL3020: "ADD of local files: use COPY (ADD also unpacks archives and fetches URLs)",
  DL3003: "`cd` in RUN: use WORKDIR",
  DL3004: "`sudo` in RUN: the build runs as root already; it only adds a dependency",
  "npm-ci": "`npm install` in RUN: use `npm ci`, which installs exactly what package-lock.json says",
  "non-root": "the final stage runs as root: add `USER <name>` (e.g. USER node) after the last RUN",
  healthcheck: "the final stage has no HEALTHCHECK: add one so that orchestrators see a stuck process",
};

function finding(line, rule, detail) {
  return { line, rule, message: detail ? `${RULES[rule]} (${detail})` : RULES[rule] };
}

/** The rules above, on parsed instructions. */
function projectRules(instructions) {
  const findings = [];
  const all = stages(instructions);
  const stageNames = new Set();
  all.forEach((stage, index) => {
    const from = stage.instructions[0];
    const image = stage.image;
    if (image !== "scratch" && !stageNames.has(image.toLowerCase()) && !image.includes("$")) {
      const tag = /^(?:[^/]+\/)*[^/:@]+(?::([^@]+))?(@.+)?$/.exec(image);
      if (tag && tag[1] === undefined && tag[2] === undefined)
        findings.push(finding(from.line, "DL3006", image));
      if (tag && tag[1] === "latest") findings.push(finding(from.line, "DL3007", image));
    }
    let pipefail = false;
    for (const ins of stage.instructions) {
      switch (ins.keyword) {
        case "SHELL":
          pipefail = (execForm(ins.args) ?? []).join(" ").includes("-o pipefail");
          break;
        case "CMD":
        case "ENTRYPOINT":
          if (execForm(ins.args) === null) findings.push(finding(ins.line, "DL3025", ins.keyword));
          break;
        case "COPY": {
          const { flags } = splitFlags(ins.args);
          const source = flags.from;
          // An image reference (with a tag, digest or registry path) is allowed; a bare word must be a stage.
          if (
            source !== undefined &&
            !/[:/@]/.test(source) &&
            !/^\d+$/.test(source) &&
            !stageNames.has(source.toLowerCase())
          ) {
            findings.push(finding(ins.line, "DL3022", source));
          }
          break;
        }
        case "ADD": {
          const { rest } = splitFlags(ins.args);
          const sources = (execForm(rest) ?? rest.split(/\s+/)).slice(0, -1);
          if (sources.some((s) => !/^(https?|git):\/\//.test(s) && !/\.(tar(\.\w+)?|tgz)$/.test(s))) {
            findings.push(finding(ins.line, "DL3020"));
          }
          break;
        }
        case "RUN": {
          const { rest } = splitFlags(ins.args);
          const script = (execForm(rest) ?? [rest]).join(" ");
          const cmds = commands(script);
          const aptInstall = cmds.filter((c) => /^apt-get\b.*\binstall\b/.test(c));
          for (const c of aptInstall) {
            if (!/(^|\s)(-[a-z]*y[a-z]*|--yes|--assume-yes|-qq)(\s|$)/.test(c)) {
              findings.push(finding(ins.line, "DL3014"));
            }
            if (!c.includes("--no-install-recommends")) findings.push(finding(ins.line, "DL3015"));
          }
          if (
            cmds.some((c) => /^apt-get\b.*\b(update|install)\b/.test(c)) &&
            !/rm\s+-rf\s+\/var\/lib\/apt\/lists/.test(script)
          ) {
            findings.push(finding(ins.line, "DL3009"));
          }
          if (/[^|]\|[^|]/.test(script) && !pipefail && execForm(rest) === null) {
            findings.push(finding(ins.line, "DL4006"));
          }
          if (cmds.some((c) => /^cd\s/.test(c))) findings.push(finding(ins.line, "DL3003"));
          if (cmds.some((c) => /^sudo\s/.test(c))) findings.push(finding(ins.line, "DL3004"));
          if (cmds.some((c) => /^npm\s+(install|i)(\s|$)/.test(c)))
            findings.push(finding(ins.line, "npm-ci"));
          break;
        }
      }
    }
    if (index === all.length - 1) {
      const users = stage.instructions.filter((i) => i.keyword === "USER");
      const last = users[users.length - 1];
      if (last === undefined || /^(root|0)(:|$)/.test(last.args)) {
        findings.push(finding((last ?? from).line, "non-root"));
      }
      if (!stage.instructions.some((i) => i.keyword === "HEALTHCHECK")) {
        findings.push(finding(from.line, "healthcheck"));
      }
    }
    if (stage.name) stageNames.add(stage.name.toLowerCase());
  });
  return findings;
}

// Every setting of dockerfile-utils' validator at "error" (2): its warnings, e.g. a second CMD that silently
// replaces the first, are mistakes in an image that is meant to be read.
const STRICT = {
  deprecatedMaintainer: 2,
  directiveCasing: 2,
  emptyContinuationLine: 2,
  instructionCasing: 2,
  instructionCmdMultiple: 2,
  instructionEntrypointMultiple: 2,
  instructionHealthcheckMultiple: 2,
  instructionJSONInSingleQuotes: 2,
  instructionWorkdirRelative: 2,
};

/**
 * Everything wrong with a Dockerfile's text, sorted by line.
 * @param {string} text
 * @returns {{ line: number, rule: string, message: string }[]}
 */
export function lintDockerfile(text) {
  const syntax = validate(text, STRICT).map((d) => ({
    line: d.range.start.line + 1,
    rule: "dockerfile-utils",
    message: d.message,
  }));
  return [...syntax, ...projectRules(parseDockerfile(text))].sort((a, b) => a.line - b.line);
}

function main(paths) {
  let failed = false;
  for (const path of paths) {
    let text;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      console.error(`${path}: cannot be read (${error.code ?? error.message})`);
      failed = true;
      continue;
    }
    const findings = lintDockerfile(text);
    for (const f of findings) console.error(`${path}:${f.line} ${f.rule} ${f.message}`);
    if (findings.length > 0) failed = true;
  }
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  main(args.length > 0 ? args : ["Dockerfile"]);
}
