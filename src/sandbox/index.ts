// Public surface of the sandbox: the engine module, filter modules, and the per-thread Sandbox.
export { engineVersionOf, engineWasmPath, loadEngineModule, type EngineModule } from "./engine-module.js";
export {
  buildFilterModule,
  readFilterModuleInfo,
  FILTER_FORMAT,
  FILTER_SECTION,
  type FilterModuleInfo,
  type FilterModuleMeta,
} from "./filter-module.js";
export {
  Sandbox,
  type CompileResult,
  type FilterOutcome,
  type LoadResult,
  type SandboxOptions,
  type SandboxStats,
} from "./sandbox.js";
export {
  DEFAULT_CAMPAIGNS_MEMORY_BYTES,
  DEFAULT_LOAD_LIMITS,
  EVENT_MEMORY_BYTES,
  type Limits,
} from "./limits.js";
export { tagBigIntegers } from "./big-integers.js";

import { loadEngineModule, type EngineModule } from "./engine-module.js";
import { buildFilterModule } from "./filter-module.js";
import type { CompileResult, Sandbox } from "./sandbox.js";

/** compile() + buildFilterModule() + WebAssembly.Module: a ready-to-load filter, or the compile error. */
export function compileFilterModule(
  sandbox: Sandbox,
  source: string,
  engine: Pick<EngineModule, "version"> = loadEngineModule(),
  meta: Record<string, unknown> = {},
): { ok: true; module: WebAssembly.Module; bytes: Uint8Array } | Extract<CompileResult, { ok: false }> {
  const compiled = sandbox.compile(source);
  if (!compiled.ok) return compiled;
  const bytes = buildFilterModule(compiled.bytecode, { ...meta, engineVersion: engine.version });
  return { ok: true, module: new WebAssembly.Module(bytes), bytes };
}
