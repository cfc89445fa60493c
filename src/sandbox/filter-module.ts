// A compiled filter as a tiny WebAssembly module, linked against the engine when it is instantiated:
//
//   (module
//     (import "env" "memory" (memory 0))        ;; the engine instance's memory
//     (import "env" "base" (global i32))        ;; where the engine allocated room for the bytecode
//     (global i32 (i32.const <length>)) (export "length" (global 1))
//     (data (global.get 0) "<QuickJS bytecode>") ;; copied into engine memory at instantiation
//     (@custom "rtcrm" "<JSON metadata>"))
//
// The engine allocates `length` bytes (read from the metadata, which is readable from the compiled
// Module without instantiating it), instantiates the module with `base` = that pointer, which copies
// the bytecode in, then JS_ReadObject()s it. The binary is written by hand; it is tiny.

export const FILTER_SECTION = "rtcrm";
export const FILTER_FORMAT = "rtcrm-filter/1";

export interface FilterModuleMeta {
  /** sha256 hex of the engine wasm the bytecode was compiled with (EngineModule.version). */
  readonly engineVersion: string;
  /** Anything else worth keeping with the artefact (campaign id, source hash, ...); must be JSON. */
  readonly [key: string]: unknown;
}

export interface FilterModuleInfo extends FilterModuleMeta {
  readonly format: string;
  readonly bytecodeLength: number;
}

const encoder = new TextEncoder();

class Writer {
  private readonly parts: number[] = [];
  byte(b: number): this {
    this.parts.push(b & 0xff);
    return this;
  }
  u32(v: number): this {
    let x = v >>> 0;
    do {
      let b = x & 0x7f;
      x >>>= 7;
      if (x !== 0) b |= 0x80;
      this.parts.push(b);
    } while (x !== 0);
    return this;
  }
  i32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0);
      this.parts.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }
  name(s: string): this {
    const b = encoder.encode(s);
    this.u32(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function section(id: number, body: Uint8Array): Uint8Array[] {
  return [new Writer().byte(id).u32(body.length).bytes(), body];
}

/** Writes the filter module binary for `bytecode` (from Sandbox.compile). */
export function buildFilterModule(bytecode: Uint8Array, meta: FilterModuleMeta): Uint8Array {
  const info: FilterModuleInfo = { ...meta, format: FILTER_FORMAT, bytecodeLength: bytecode.length };
  const imports = new Writer()
    .u32(2)
    .name("env")
    .name("memory")
    .byte(0x02) // memory
    .byte(0x00) // limits: min only
    .u32(0)
    .name("env")
    .name("base")
    .byte(0x03) // global
    .byte(0x7f) // i32
    .byte(0x00) // immutable
    .bytes();
  const globals = new Writer()
    .u32(1)
    .byte(0x7f)
    .byte(0x00)
    .byte(0x41) // i32.const
    .i32(bytecode.length)
    .byte(0x0b)
    .bytes();
  const exports = new Writer().u32(1).name("length").byte(0x03).u32(1).bytes();
  const dataCount = new Writer().u32(1).bytes();
  const dataHead = new Writer()
    .u32(1) // one segment
    .byte(0x00) // active, memory 0
    .byte(0x23) // global.get
    .u32(0) // imported global "base"
    .byte(0x0b)
    .u32(bytecode.length)
    .bytes();
  const data = new Uint8Array(dataHead.length + bytecode.length);
  data.set(dataHead, 0);
  data.set(bytecode, dataHead.length);
  const custom = (() => {
    const head = new Writer().name(FILTER_SECTION).bytes();
    const json = encoder.encode(JSON.stringify(info));
    const body = new Uint8Array(head.length + json.length);
    body.set(head, 0);
    body.set(json, head.length);
    return body;
  })();

  const parts: Uint8Array[] = [
    Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00),
    ...section(2, imports),
    ...section(6, globals),
    ...section(7, exports),
    ...section(12, dataCount),
    ...section(11, data),
    ...section(0, custom),
  ];
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The metadata of a compiled filter module, or an Error when it is not one. */
export function readFilterModuleInfo(module: WebAssembly.Module): FilterModuleInfo {
  const sections = WebAssembly.Module.customSections(module, FILTER_SECTION);
  const first = sections[0];
  if (sections.length !== 1 || !first) throw new Error(`not a filter module: no "${FILTER_SECTION}" section`);
  const info = JSON.parse(new TextDecoder().decode(first)) as Partial<FilterModuleInfo>;
  if (info.format !== FILTER_FORMAT) throw new Error(`unknown filter module format ${String(info.format)}`);
  if (
    typeof info.bytecodeLength !== "number" ||
    !Number.isInteger(info.bytecodeLength) ||
    info.bytecodeLength <= 0
  ) {
    throw new Error("filter module: bad bytecodeLength");
  }
  if (typeof info.engineVersion !== "string") throw new Error("filter module: no engineVersion");
  return info as FilterModuleInfo;
}
