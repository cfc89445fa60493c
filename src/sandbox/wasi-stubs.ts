// Stand-ins for the few WASI functions the engine imports (the build checks the list). Filters get no
// file system, clock or network: writes go nowhere (kept in a small buffer for diagnostics, e.g. a
// QuickJS assertion message before an abort), the clock is fixed at 0 (so Date.now() and Math.random's
// seed are deterministic), everything else fails with ENOSYS/EBADF.

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_NOSYS = 52;
const FILETYPE_CHARACTER_DEVICE = 2;

/** Thrown by proc_exit: the engine called exit()/abort(); the Sandbox treats it as a trap. */
export class EngineExit extends Error {
  constructor(readonly code: number) {
    super(`engine exited with code ${code}`);
    this.name = "EngineExit";
  }
}

export interface WasiStubs {
  readonly imports: Record<string, (...args: never[]) => unknown>;
  /** Everything the engine wrote to stdout/stderr (last 4 KiB). */
  output(): string;
  bind(memory: WebAssembly.Memory): void;
}

export function createWasiStubs(): WasiStubs {
  let memory: WebAssembly.Memory | undefined;
  let out = "";
  const view = (): DataView => {
    if (!memory) throw new Error("wasi stubs used before bind()");
    return new DataView(memory.buffer);
  };
  const decoder = new TextDecoder();
  const imports = {
    fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number): number {
      const dv = view();
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = dv.getUint32(iovs + i * 8, true);
        const len = dv.getUint32(iovs + i * 8 + 4, true);
        if (fd === 1 || fd === 2)
          out = (out + decoder.decode(new Uint8Array(dv.buffer, ptr, len))).slice(-4096);
        total += len;
      }
      dv.setUint32(nwritten, total, true);
      return fd === 1 || fd === 2 ? ERRNO_SUCCESS : ERRNO_BADF;
    },
    fd_close(): number {
      return ERRNO_BADF;
    },
    fd_seek(): number {
      return ERRNO_BADF;
    },
    fd_fdstat_get(fd: number, stat: number): number {
      if (fd > 2) return ERRNO_BADF;
      const dv = view();
      dv.setUint8(stat, FILETYPE_CHARACTER_DEVICE);
      dv.setUint16(stat + 2, 0, true);
      dv.setBigUint64(stat + 8, 0n, true);
      dv.setBigUint64(stat + 16, 0n, true);
      return ERRNO_SUCCESS;
    },
    clock_time_get(_id: number, _precision: bigint, time: number): number {
      view().setBigUint64(time, 0n, true);
      return ERRNO_SUCCESS;
    },
    proc_exit(code: number): never {
      throw new EngineExit(code);
    },
  };
  return {
    imports: imports as unknown as Record<string, (...args: never[]) => unknown>,
    output: () => out,
    bind(m) {
      memory = m;
    },
  };
}

/** Stubs for any other WASI import a future build might add: fail cleanly. */
export function enosys(): number {
  return ERRNO_NOSYS;
}
