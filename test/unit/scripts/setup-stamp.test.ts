// scripts/setup-stamp.sh: when `npm start` (scripts/setup.sh) may skip the set-up and the build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../../../../scripts/setup-stamp.sh", import.meta.url));

function stamp(root: string, command: "check" | "write" | "fingerprint", before?: string): string | false {
  try {
    const args = before === undefined ? [SCRIPT, command] : [SCRIPT, command, before];
    return execFileSync("bash", args, { env: { ...process.env, RTCRM_SETUP_ROOT: root }, encoding: "utf8" });
  } catch {
    return false;
  }
}

/** A checkout with its set-up done: sources, lock file and the outputs the set-up makes. */
function checkout(): string {
  const root = mkdtempSync(join(tmpdir(), "rtcrm-stamp-"));
  for (const dir of ["src", "test", "bench/results", "wasm/build", "node_modules", "dist/src"])
    mkdirSync(join(root, dir), { recursive: true });
  const files: Record<string, string> = {
    "package-lock.json": "{}",
    "src/main.ts": "export {};",
    "test/a.test.ts": "export {};",
    "wasm/runtime.c": "int x;",
    "node_modules/.package-lock.json": "{}",
    "wasm/build/rtcrm-engine.wasm": "",
    "dist/src/main.js": "",
  };
  for (const [path, text] of Object.entries(files)) writeFileSync(join(root, path), text);
  return root;
}

test("an unchanged checkout needs no set-up; any source change, a deleted output or a new lock file does", () => {
  const root = checkout();
  assert.equal(stamp(root, "check"), false, "never set up");
  assert.notEqual(stamp(root, "write"), false);
  assert.notEqual(stamp(root, "check"), false, "nothing changed");

  // Outputs of other tools and modification times alone do not count.
  writeFileSync(join(root, "bench/results/run.json"), "{}");
  writeFileSync(join(root, "wasm/build/obj.o"), "x");
  utimesSync(join(root, "src/main.ts"), new Date(), new Date());
  assert.notEqual(stamp(root, "check"), false, "bench results, wasm/build and touched files");

  const changes: [string, () => void][] = [
    ["a source edited", () => writeFileSync(join(root, "src/main.ts"), "export const x = 1;")],
    ["a source added", () => writeFileSync(join(root, "src/new.ts"), "")],
    ["a source renamed", () => renameSync(join(root, "src/new.ts"), join(root, "src/renamed.ts"))],
    ["a wasm input edited", () => writeFileSync(join(root, "wasm/runtime.c"), "int y;")],
    ["the lock file changed", () => writeFileSync(join(root, "package-lock.json"), '{"v":2}')],
    ["dist deleted", () => rmSync(join(root, "dist"), { recursive: true })],
  ];
  for (const [what, change] of changes) {
    change();
    assert.equal(stamp(root, "check"), false, what);
    assert.notEqual(stamp(root, "write"), false);
    assert.notEqual(stamp(root, "check"), false, `${what}: set up again`);
  }
  rmSync(root, { recursive: true });
});

test("a source changed during the set-up is not recorded: the next start builds again", () => {
  const root = checkout();
  const before = stamp(root, "fingerprint");
  assert.ok(before);
  writeFileSync(join(root, "src/main.ts"), "export const edited = true;");
  assert.match(String(stamp(root, "write", before)), /sources changed during the set-up/);
  assert.equal(stamp(root, "check"), false);
  rmSync(root, { recursive: true });
});
