// The runtime stage of the Dockerfile copies files the build stage made. No Docker engine runs here, so this
// checks the same build on the repository instead: every path the runtime stage copies exists after
// `npm run build`, and the files the engine and the web UI load at run time are among them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { posix, relative } from "node:path";
import { engineWasmPath } from "../../../src/sandbox/engine-module.js";
import { aceDir } from "../../../src/ui/static-files.js";
import { REPO_ROOT, dockerfileStages, last, type DockerfileLinter, type Stage } from "./dockerfile.js";

interface CopiedPath {
  readonly line: number;
  /** Path in the build stage, relative to its WORKDIR: the same path in the repository after the build. */
  readonly source: string;
  /** Where it lands in the runtime image, relative to the runtime stage's WORKDIR. */
  readonly destination: string;
}

function workdir(stage: Stage): string {
  const w = last(stage, "WORKDIR");
  assert.ok(w, `stage ${stage.name ?? stage.image} sets no WORKDIR`);
  return w.args;
}

/** What the final stage copies from earlier stages, as paths below each stage's WORKDIR. */
function copiedFromBuild(linter: DockerfileLinter, stages: Stage[]): CopiedPath[] {
  const final = stages.at(-1) as Stage;
  const finalDir = workdir(final);
  const out: CopiedPath[] = [];
  for (const ins of final.instructions.filter((i) => i.keyword === "COPY")) {
    const { flags, rest } = linter.splitFlags(ins.args);
    if (flags.from === undefined) continue;
    const build = stages.find((s) => s.name?.toLowerCase() === flags.from?.toLowerCase());
    assert.ok(build, `line ${ins.line}: COPY --from=${flags.from} names no stage`);
    const buildDir = workdir(build);
    const parts = linter.execForm(rest) ?? rest.split(/\s+/);
    const destination = parts.at(-1) as string;
    for (const source of parts.slice(0, -1)) {
      const inBuild = posix.resolve(buildDir, source);
      assert.ok(
        inBuild.startsWith(`${buildDir}/`),
        `line ${ins.line}: ${source} is outside the build stage's WORKDIR ${buildDir}`,
      );
      const relSource = posix.relative(buildDir, inBuild);
      // Docker puts a file copied to "dir/" at dir/<name>; a directory's contents go to the destination itself.
      const isFile =
        existsSync(posix.join(REPO_ROOT, relSource)) && statSync(posix.join(REPO_ROOT, relSource)).isFile();
      const target = posix.resolve(finalDir, destination);
      const landed =
        destination.endsWith("/") && isFile ? posix.join(target, posix.basename(relSource)) : target;
      out.push({ line: ins.line, source: relSource, destination: posix.relative(finalDir, landed) });
    }
  }
  return out;
}

test("every path the runtime stage copies from the build stage exists after the build", async () => {
  const { linter, stages } = await dockerfileStages();
  const copied = copiedFromBuild(linter, stages);
  assert.ok(copied.length > 0, "the runtime stage copies nothing from the build stage");
  const missing = copied.filter((c) => !existsSync(posix.join(REPO_ROOT, c.source)));
  assert.deepEqual(
    missing.map((c) => `line ${c.line}: ${c.source}`),
    [],
    "paths the image copies that the build did not make",
  );
});

test("the runtime image holds the entry points, the WebAssembly engine and the UI's page files", async () => {
  const { linter, stages } = await dockerfileStages();
  const final = stages.at(-1) as Stage;
  const finalDir = workdir(final);
  const copied = copiedFromBuild(linter, stages);
  // Each copied path keeps its place below WORKDIR, so that the image's /app looks like the built repository
  // and the engine finds its files the same way in both (the wasm engine, for one, is searched upwards).
  for (const c of copied) {
    assert.equal(
      c.destination,
      c.source,
      `line ${c.line}: ${c.source} lands at ${c.destination} in the image`,
    );
  }
  const inImage = (repoPath: string): boolean =>
    copied.some((c) => repoPath === c.source || repoPath.startsWith(`${c.source}/`));

  const entrypoint = linter.execForm(last(final, "ENTRYPOINT")?.args ?? "");
  assert.ok(entrypoint, "ENTRYPOINT is missing or not in exec form");
  const script = entrypoint.find((a) => a.endsWith(".js"));
  assert.ok(script, `ENTRYPOINT ${JSON.stringify(entrypoint)} names no script`);
  const wanted = [
    posix.relative(finalDir, posix.resolve(finalDir, script)),
    // what the engine loads: found upwards from dist/src/sandbox/, so at the same place relative to the root
    relative(REPO_ROOT, engineWasmPath()),
    // docker-compose.yml runs the UI from the same image
    "dist/src/ui/server.js",
    "src/ui/public/index.html",
    "node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node",
    "package.json",
  ];
  // The build stage deletes every Ace build but one: it must be the one the UI serves.
  const ace = relative(REPO_ROOT, aceDir());
  assert.match(ace, /^node_modules\/ace-builds\/[^/]+$/);
  const trim = stages
    .flatMap((s) => s.instructions)
    .find((i) => i.keyword === "RUN" && i.args.includes("ace-builds"));
  if (trim)
    assert.ok(trim.args.includes(`! -name ${posix.basename(ace)} `), `line ${trim.line} deletes ${ace}`);
  wanted.push(`${ace}/ace.js`);
  for (const path of wanted) {
    assert.ok(existsSync(posix.join(REPO_ROOT, path)), `${path} does not exist after the build`);
    assert.ok(inImage(path), `${path} is not copied into the runtime image`);
  }
});
