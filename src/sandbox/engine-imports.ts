// What the host gives an engine instance: the WASI stand-ins (wasi-stubs.ts) and the clock of the call deadline,
// checked against the engine's import list so that it links to nothing else.
import { enosys, type WasiStubs } from "./wasi-stubs.js";

export function engineImports(module: WebAssembly.Module, wasi: WasiStubs): WebAssembly.Imports {
  const wasiImports: Record<string, (...args: never[]) => unknown> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === "rtcrm" && imp.name === "now") continue;
    if (imp.module !== "wasi_snapshot_preview1" || imp.kind !== "function") {
      throw new Error(`engine imports ${imp.module}.${imp.name}, which the host does not provide`);
    }
    wasiImports[imp.name] = wasi.imports[imp.name] ?? enosys;
  }
  return {
    wasi_snapshot_preview1: wasiImports,
    // The call deadline's clock: the engine's interrupt handler reads it (filters still see Date.now() === 0).
    rtcrm: { now: () => performance.now() },
  };
}
