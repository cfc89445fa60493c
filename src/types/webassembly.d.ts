// The part of the WebAssembly JS API this project uses. TypeScript declares it only in lib.dom,
// which does not belong in a Node.js program; Node provides these globals at run time.
declare namespace WebAssembly {
  type ImportValue = ExportValue | number;
  type ExportValue = ((...args: never[]) => unknown) | Global | Memory | Table;
  type Imports = Record<string, Record<string, ImportValue | ((...args: never[]) => unknown)>>;
  type Exports = Record<string, ExportValue>;
  type ValueType = "i32" | "i64" | "f32" | "f64" | "externref" | "anyfunc";
  interface ModuleExportDescriptor {
    kind: "function" | "global" | "memory" | "table";
    name: string;
  }
  interface ModuleImportDescriptor {
    kind: "function" | "global" | "memory" | "table";
    module: string;
    name: string;
  }
  class Module {
    constructor(bytes: BufferSource);
    static customSections(module: Module, sectionName: string): ArrayBuffer[];
    static exports(module: Module): ModuleExportDescriptor[];
    static imports(module: Module): ModuleImportDescriptor[];
  }
  class Instance {
    constructor(module: Module, importObject?: Imports);
    readonly exports: Exports;
  }
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  interface GlobalDescriptor {
    value: ValueType;
    mutable?: boolean;
  }
  class Global {
    constructor(descriptor: GlobalDescriptor, value?: unknown);
    value: unknown;
    valueOf(): unknown;
  }
  class Table {
    readonly length: number;
  }
  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}
  type BufferSource = ArrayBufferView | ArrayBuffer;
  function validate(bytes: BufferSource): boolean;
  function compile(bytes: BufferSource): Promise<Module>;
  function instantiate(module: Module, importObject?: Imports): Promise<Instance>;
}
