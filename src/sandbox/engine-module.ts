// The compiled engine (wasm/build/rtcrm-engine.wasm, built by `npm run build:wasm`): located from this
// file's place in the repository, compiled to a WebAssembly.Module once per thread that asks for it.
// The Module can be posted to worker threads, which then instantiate it without compiling again.
import { ErrorCodes, RtcrmError } from "../errors.js";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface EngineModule {
  readonly module: WebAssembly.Module;
  /** sha256 (hex) of the wasm bytes; filter modules record it, bytecode is only valid for this engine. */
  readonly version: string;
  readonly path: string;
  readonly bytes: number;
}

const RELATIVE = join("wasm", "build", "rtcrm-engine.wasm");

/** Path of the engine: $RTCRM_ENGINE_WASM, else the first wasm/build/rtcrm-engine.wasm found upwards from this file. */
export function engineWasmPath(): string {
  const fromEnv = process.env["RTCRM_ENGINE_WASM"];
  if (fromEnv) return resolve(fromEnv);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, RELATIVE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new RtcrmError(
    ErrorCodes.ENGINE_BUILD_MISSING,
    `${RELATIVE} not found above ${fileURLToPath(import.meta.url)}; run \`npm run build:wasm\``,
  );
}

let cached: EngineModule | undefined;

/** Compiles the engine once (synchronously) and caches it. */
export function loadEngineModule(path: string = engineWasmPath()): EngineModule {
  if (cached && cached.path === path) return cached;
  const bytes = readFileSync(path);
  const module = new WebAssembly.Module(bytes);
  cached = { module, version: engineVersionOf(bytes), path, bytes: bytes.length };
  return cached;
}

export function engineVersionOf(wasmBytes: Uint8Array): string {
  return createHash("sha256").update(wasmBytes).digest("hex");
}
