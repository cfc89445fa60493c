// Probe behind the choice of the per-player state store of issue 15 (delivery rules: frequency caps, holdouts,
// variants): a small binary value per player (~20-40 bytes of varints: campaign ids, trigger counts and
// timestamps), keyed by the player id ("player-1234567"), in a few partitions. For each store and N players:
//   restore   players/s of batched writes of a changelog's records, in changelog (not key) order, as a restore
//             after a rebalance or onto an empty disk does;
//   settle    flush (LevelDB/RocksDB: close, reopen and a full compaction where the binding has one), then the
//             bytes on disk per player (blocks allocated, as du counts them);
//   get       random point reads of existing players, synchronous where the binding has a synchronous get;
//   getAsync  the same through the async get with CONCURRENCY reads in flight (LevelDB/RocksDB bindings);
//   rmw       read-modify-write of random players in poll batches of RMW_BATCH: read the state, add a trigger,
//             write it back (the hot path of a capped campaign);
//   clear     dropping one partition's players (lmdb: clearSync of the partition's sub-database; LevelDB/RocksDB:
//             a delete of the partition's key-prefix range), as a revoked partition does;
//   rss       of the process after each phase and at its peak (VmHWM), split into anonymous memory and mapped
//             file pages (RssFile: lmdb's memory map, page cache the kernel can take back).
// "map" is the baseline without a store: a Map<string, Buffer> per partition (memory per player).
// Each run is a process of its own (fresh heap, its own RSS); the driver runs every store REPS times, rotating
// the order within a round so a slower moment of the shared machine is spread over the stores, and reports the
// median of each metric. Rates are wall-clock; the CPU time per operation (user + system of every thread of the
// process) is recorded beside them, as it suffers less from other processes on a shared machine.
//
// Stores: map, classic-level, rocksdb, nxt-rocksdb, and lmdb[-nosync][-wm][-txn][-lz4|-lz4default]: noSync,
// useWritemap, writes in transactionSync/putSync per batch (else async put), compression { threshold: 1 } or
// compression: true. RTCRM_LMDB_OPTIONS='{"pageSize":8192}' adds options to every lmdb variant.
// The LevelDB/RocksDB bindings are not dependencies: install them beside the project, not in it:
//   mkdir -p /work/scratch/store && cd /work/scratch/store && npm init -y \
//     && npm install classic-level@3.0.0 rocksdb@5.2.1 @nxtedition/rocksdb@12.2.12
// and point RTCRM_STORE_MODULES at that directory (default /work/scratch/store). A store whose package is
// missing is reported as missing and skipped. lmdb is a dependency of the project.
// Run: npm run build:ts && node dist/bench/probes/player-store.js [--sizes=1000000] [--reps=3]
//        [--stores=map,lmdb,...] [--ops=100000] [--restore-batch=10000] [--sort-batches]
//        [--dir=/tmp/rtcrm-player-store] [--md]
//   JSON on stdout; --md also prints a markdown table of the medians on stderr.
// One run: node --expose-gc dist/bench/probes/player-store.js --one --store=lmdb --n=1000000 (one JSON line).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PARTITIONS = 6;
/** Records per restore batch (a consumer's fetch of a changelog partition); --restore-batch=N changes it. */
const RESTORE_BATCH = 10_000;
/** Events per poll batch on the hot path. */
const RMW_BATCH = 1_000;
/** Async reads in flight. */
const CONCURRENCY = 64;

/** lmdb[-nosync][-wm][-txn][-lz4]: the options of an lmdb variant are in its name (see lmdbFlags). */
type LmdbName = `lmdb${string}`;
type StoreName = "map" | "classic-level" | "rocksdb" | "nxt-rocksdb" | LmdbName;

/**
 * The default run (3 rounds at 1,000,000 players: about 3 minutes on 2 busy cores). Not in it, by --stores:
 * nxt-rocksdb (slow here, a sync get only through a private method, prebuilds for linux-x64 and darwin-arm64
 * only), lmdb-txn, lmdb-nosync-wm, lmdb-nosync-wm-txn-lz4, lmdb-lz4default.
 */
const DEFAULT_STORES: StoreName[] = ["map", "lmdb", "lmdb-nosync-wm-txn", "classic-level", "rocksdb"];

interface LmdbFlags {
  /** noSync: true (no fsync at commit; the store is rebuilt from the changelog after an OS crash). */
  nosync: boolean;
  /** useWritemap: true (writes go to the memory map, no write() calls). */
  wm: boolean;
  /** Restore and rmw batches in root.transactionSync with putSync (else put, async, lmdb's write thread). */
  txn: boolean;
  /** compression: { threshold: 1 } (LZ4 on every value; `true` keeps the 1000-byte threshold: none here). */
  lz4: boolean;
  /** compression: true, the default threshold of 1000 bytes. */
  lz4default: boolean;
}

function lmdbFlags(name: string): LmdbFlags | null {
  const m = /^lmdb(-nosync)?(-wm)?(-txn)?(-lz4default|-lz4)?$/.exec(name);
  if (!m) return null;
  return {
    nosync: !!m[1],
    wm: !!m[2],
    txn: !!m[3],
    lz4: m[4] === "-lz4",
    lz4default: m[4] === "-lz4default",
  };
}

function isStore(name: string): name is StoreName {
  return ["map", "classic-level", "rocksdb", "nxt-rocksdb"].includes(name) || lmdbFlags(name) !== null;
}

function describe(name: StoreName): string {
  const f = lmdbFlags(name);
  if (f)
    return [
      "lmdb, a sub-database per partition, encoding binary",
      f.nosync ? "noSync" : "durable commits (overlappingSync, the default)",
      f.wm ? "useWritemap" : null,
      f.txn ? "writes in transactionSync per batch" : "writes with async put",
      f.lz4 ? "compression { threshold: 1 }" : f.lz4default ? "compression: true" : null,
    ]
      .filter((x) => x !== null)
      .join(", ");
  switch (name) {
    case "map":
      return "Map<string, Buffer> per partition (no store)";
    case "classic-level":
      return "classic-level (LevelDB 1.20), key prefix per partition, defaults (snappy, sync: false)";
    case "rocksdb":
      return "rocksdb (Level/rocksdb, RocksDB 6.17), key prefix per partition, defaults (sync: false)";
    default:
      return "@nxtedition/rocksdb (RocksDB 9.x), key prefix per partition, defaults (zstd, sync: false)";
  }
}

/** The npm package behind a store (versions are reported). */
function packageOf(name: StoreName): string | null {
  if (lmdbFlags(name)) return "lmdb";
  return {
    map: null,
    "classic-level": "classic-level",
    rocksdb: "rocksdb",
    "nxt-rocksdb": "@nxtedition/rocksdb",
  }[name as string] as string | null;
}

// ---------------------------------------------------------------------------------------------------------------
// The data: player n (0 <= n < N) is "player-<1000000 + n>"; its value is derived from n alone.

function playerKey(n: number): string {
  return `player-${1_000_000 + n}`;
}

function partitionOf(n: number): number {
  return (Math.imul(n, 0x9e3779b1) >>> 0) % PARTITIONS;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface CampaignState {
  id: number;
  count: number;
  /** Trigger times, seconds since 2025-01-01 (the most recent 2). */
  ts: number[];
}

const scratch = new Uint8Array(256);

function putVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** [version 1][campaigns k] then per campaign: varint id, varint count, varint #ts, varint ts... */
function encodeState(cs: CampaignState[]): Buffer {
  let p = 0;
  scratch[p++] = 1;
  p = putVarint(scratch, p, cs.length);
  for (const c of cs) {
    p = putVarint(scratch, p, c.id);
    p = putVarint(scratch, p, c.count);
    p = putVarint(scratch, p, c.ts.length);
    for (const t of c.ts) p = putVarint(scratch, p, t);
  }
  return Buffer.from(scratch.subarray(0, p));
}

function decodeState(buf: Uint8Array): CampaignState[] {
  let p = 1;
  const next = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[p++] as number;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  const k = next();
  const cs: CampaignState[] = [];
  for (let i = 0; i < k; i++) {
    const id = next();
    const count = next();
    const nts = next();
    const ts: number[] = [];
    for (let j = 0; j < nts; j++) ts.push(next());
    cs.push({ id, count, ts });
  }
  return cs;
}

const NOW = 45_000_000; // seconds since 2025-01-01, mid-2026

function initialState(n: number): CampaignState[] {
  const r = mulberry32(n + 1);
  const k = 2 + Math.floor(r() * 3); // 2-4 campaigns
  const cs: CampaignState[] = [];
  for (let i = 0; i < k; i++) {
    const nts = 1 + Math.floor(r() * 2);
    const ts: number[] = [];
    for (let j = 0; j < nts; j++) ts.push(NOW - Math.floor(r() * 90 * 86_400));
    cs.push({ id: 1 + Math.floor(r() * 300), count: nts + Math.floor(r() * 3), ts });
  }
  return cs;
}

/** encodeState(initialState(n)) without the objects (the restore's value source). */
function initialValue(n: number): Buffer {
  let a = (n + 1) >>> 0;
  const r = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const k = 2 + Math.floor(r() * 3);
  let p = 0;
  scratch[p++] = 1;
  scratch[p++] = k;
  for (let i = 0; i < k; i++) {
    const nts = 1 + Math.floor(r() * 2);
    const t0 = NOW - Math.floor(r() * 90 * 86_400);
    const t1 = nts > 1 ? NOW - Math.floor(r() * 90 * 86_400) : 0;
    const id = 1 + Math.floor(r() * 300);
    const count = nts + Math.floor(r() * 3);
    p = putVarint(scratch, p, id);
    scratch[p++] = count;
    scratch[p++] = nts;
    p = putVarint(scratch, p, t0);
    if (nts > 1) p = putVarint(scratch, p, t1);
  }
  return Buffer.from(scratch.subarray(0, p));
}

/** The hot path's update: one more trigger of the player's first campaign, keeping its last 2 times. */
function updateState(value: Uint8Array, now: number): Buffer {
  const cs = decodeState(value);
  const c = cs[0] as CampaignState;
  c.count += 1;
  c.ts.push(now);
  if (c.ts.length > 2) c.ts.shift();
  return encodeState(cs);
}

// ---------------------------------------------------------------------------------------------------------------
// Stores

interface Store {
  /** Writes one changelog batch (returns once the store accepted it; see flush). */
  restoreBatch(ns: Int32Array, from: number, to: number): Promise<void>;
  /** Everything written so far is committed (visible to reads). */
  flush(): Promise<void>;
  /** Flushed and compacted: what du shows is what the data takes. */
  settle(): Promise<void>;
  getSync: ((p: number, key: string) => Uint8Array | undefined) | null;
  getAsync: ((p: number, key: string) => Promise<Uint8Array | undefined>) | null;
  /** Read-modify-write of one poll batch of players; the next batch reads what this one wrote. */
  rmwBatch(ns: Int32Array, from: number, to: number, now: number): Promise<void>;
  clearPartition(p: number): Promise<void>;
  close(): Promise<void>;
  /** The data directory (null: in memory). */
  dir: string | null;
  notes: string[];
}

function storeModulesDir(): string {
  return process.env.RTCRM_STORE_MODULES ?? "/work/scratch/store";
}

/** Resolves an optional package from RTCRM_STORE_MODULES, then from the project. */
function resolveOptional(name: string): string | null {
  for (const base of [join(storeModulesDir(), "package.json"), fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(base).resolve(name);
    } catch {
      /* not there */
    }
  }
  return null;
}

async function importOptional<T>(name: string): Promise<T> {
  const path = resolveOptional(name);
  if (!path)
    throw new Missing(`${name} is not installed (in ${storeModulesDir()}/node_modules or the project)`);
  return (await import(pathToFileURL(path).href)) as T;
}

class Missing extends Error {}

/** The version of an installed package, by walking up from its entry point. */
function packageVersion(name: string): string | null {
  const entry = resolveOptional(name);
  if (!entry) return null;
  for (let d = dirname(entry); d !== dirname(d); d = dirname(d)) {
    const pj = join(d, "package.json");
    if (existsSync(pj)) {
      const j = JSON.parse(readFileSync(pj, "utf8")) as { name?: string; version?: string };
      if (j.name === name) return j.version ?? null;
    }
  }
  return null;
}

function mapStore(): Store {
  const maps = Array.from({ length: PARTITIONS }, () => new Map<string, Buffer>());
  const part = (p: number) => maps[p] as Map<string, Buffer>;
  return {
    dir: null,
    notes: [],
    async restoreBatch(ns, from, to) {
      for (let i = from; i < to; i++) {
        const n = ns[i] as number;
        part(partitionOf(n)).set(playerKey(n), initialValue(n));
      }
    },
    async flush() {},
    async settle() {},
    getSync: (p, key) => part(p).get(key),
    getAsync: null,
    async rmwBatch(ns, from, to, now) {
      for (let i = from; i < to; i++) {
        const n = ns[i] as number;
        const m = part(partitionOf(n));
        const key = playerKey(n);
        const v = m.get(key);
        if (v) m.set(key, updateState(v, now));
      }
    },
    async clearPartition(p) {
      part(p).clear();
    },
    async close() {},
  };
}

type LmdbModule = typeof import("lmdb");
type LmdbDb = import("lmdb").Database<Buffer, string>;

async function lmdbStore(dir: string, f: LmdbFlags): Promise<Store> {
  const lmdb = await importOptional<LmdbModule>("lmdb");
  const compression = f.lz4 ? { threshold: 1 } : f.lz4default ? (true as const) : undefined;
  const extra = JSON.parse(process.env.RTCRM_LMDB_OPTIONS ?? "{}") as object;
  const root = lmdb.open<Buffer, string>({
    path: dir,
    encoding: "binary",
    maxDbs: PARTITIONS + 2,
    compression,
    noSync: f.nosync,
    useWritemap: f.wm,
    ...extra,
  });
  const dbs: LmdbDb[] = Array.from({ length: PARTITIONS }, (_, p) =>
    root.openDB<Buffer, string>({ name: `p${p}`, encoding: "binary" }),
  );
  const db = (p: number) => dbs[p] as LmdbDb;
  const sync = f.txn;
  let pending: Promise<unknown> = Promise.resolve();
  const notes = [
    sync
      ? "writes: root.transactionSync(() => putSync...) per batch (main thread, one commit per batch)"
      : "writes: put (async, committed by lmdb's write thread; one transaction per event turn); " +
        "restore awaits batch i-1 before issuing batch i+1; rmw awaits each poll batch's commit",
    "get: synchronous (db.get)",
  ];
  if (f.lz4default)
    notes.push("compression: true compresses only values >= 1000 bytes: these values are never compressed");
  if (Object.keys(extra).length > 0) notes.push(`RTCRM_LMDB_OPTIONS ${JSON.stringify(extra)}`);
  return {
    dir,
    notes,
    async restoreBatch(ns, from, to) {
      if (sync) {
        root.transactionSync(() => {
          for (let i = from; i < to; i++) {
            const n = ns[i] as number;
            db(partitionOf(n)).putSync(playerKey(n), initialValue(n));
          }
        });
        return;
      }
      let last: Promise<unknown> = Promise.resolve();
      for (let i = from; i < to; i++) {
        const n = ns[i] as number;
        last = db(partitionOf(n)).put(playerKey(n), initialValue(n));
      }
      // Pipeline of depth 1: the write thread commits this batch while the next one is decoded.
      await pending;
      pending = last;
    },
    async flush() {
      await pending;
      await root.committed;
    },
    async settle() {
      await pending;
      await root.flushed;
    },
    getSync: (p, key) => db(p).get(key),
    getAsync: null,
    async rmwBatch(ns, from, to, now) {
      if (sync) {
        root.transactionSync(() => {
          for (let i = from; i < to; i++) {
            const n = ns[i] as number;
            const d = db(partitionOf(n));
            const key = playerKey(n);
            const v = d.get(key);
            if (v) d.putSync(key, updateState(v, now));
          }
        });
        return;
      }
      let last: Promise<unknown> = Promise.resolve();
      for (let i = from; i < to; i++) {
        const n = ns[i] as number;
        const d = db(partitionOf(n));
        const key = playerKey(n);
        const v = d.get(key);
        if (v) last = d.put(key, updateState(v, now));
      }
      // The next poll batch must read these writes: wait for their commit.
      await last;
    },
    async clearPartition(p) {
      db(p).clearSync();
    },
    async close() {
      await root.close();
    },
  };
}

/** The subset of abstract-level (classic-level 3, @nxtedition/rocksdb 12) used here. */
interface AbstractLevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  getSync?(key: string): Uint8Array | undefined;
  batch(): { put(key: string, value: Uint8Array): unknown; write(): Promise<void> };
  clear(range: { gte: string; lt: string }): Promise<void>;
  compactRange?(start: string, end: string): Promise<void>;
}

function prefix(p: number): string {
  return `${String(p).padStart(2, "0")}/`;
}
/** The end of partition p's range: "/" + 1 = "0". */
function prefixEnd(p: number): string {
  return `${String(p).padStart(2, "0")}0`;
}

async function abstractLevelStore(dir: string, name: "classic-level" | "nxt-rocksdb"): Promise<Store> {
  let open: () => Promise<AbstractLevelDb>;
  const notes: string[] = [];
  if (name === "classic-level") {
    const { ClassicLevel } = await importOptional<{
      ClassicLevel: new (dir: string, o: object) => AbstractLevelDb;
    }>("classic-level");
    open = async () => {
      const d = new ClassicLevel(dir, { keyEncoding: "utf8", valueEncoding: "buffer" });
      await d.open();
      return d;
    };
    notes.push("get: synchronous (getSync, classic-level >= 3)", "settle: close, reopen, compactRange(all)");
  } else {
    const { RocksLevel } = await importOptional<{
      RocksLevel: new (
        dir: string,
        o: object,
      ) => AbstractLevelDb & {
        _getManySync(keys: string[], o: object): (Uint8Array | undefined)[];
      };
    }>("@nxtedition/rocksdb");
    open = async () => {
      const d = new RocksLevel(dir, { keyEncoding: "utf8", valueEncoding: "buffer" });
      await d.open();
      // The binding has a synchronous multi-get (db_get_many_sync) behind a private method.
      d.getSync = (key) => d._getManySync([key], {})[0] ?? undefined;
      return d;
    };
    notes.push(
      "get: synchronous through the private _getManySync (no public sync get)",
      "settle: close and reopen (no compactRange in the binding; the reopen flushes the WAL to L0)",
      "clear: DeleteRange (a range tombstone)",
    );
  }
  let db = await open();
  const key = (n: number) => prefix(partitionOf(n)) + playerKey(n);
  let pending: Promise<void> = Promise.resolve();
  return {
    dir,
    notes,
    async restoreBatch(ns, from, to) {
      const b = db.batch();
      for (let i = from; i < to; i++) {
        const n = ns[i] as number;
        b.put(key(n), initialValue(n));
      }
      const w = b.write();
      await pending;
      pending = w;
    },
    async flush() {
      await pending;
    },
    async settle() {
      await pending;
      await db.close();
      db = await open();
      if (db.compactRange) await db.compactRange("00/", `${String(PARTITIONS).padStart(2, "0")}/`);
    },
    getSync: (p, k) => (db.getSync as (k: string) => Uint8Array | undefined)(prefix(p) + k),
    getAsync: async (p, k) => {
      try {
        return await db.get(prefix(p) + k);
      } catch (e) {
        // abstract-level 1 (@nxtedition/rocksdb) rejects a missing key
        if ((e as { code?: string }).code === "LEVEL_NOT_FOUND") return undefined;
        throw e;
      }
    },
    async rmwBatch(ns, from, to, now) {
      const b = db.batch();
      const get = db.getSync as (k: string) => Uint8Array | undefined;
      for (let i = from; i < to; i++) {
        const k = key(ns[i] as number);
        const v = get.call(db, k);
        if (v) b.put(k, updateState(v, now));
      }
      await b.write();
    },
    async clearPartition(p) {
      await db.clear({ gte: prefix(p), lt: prefixEnd(p) });
    },
    async close() {
      await db.close();
    },
  };
}

/** Level/rocksdb 5 (abstract-leveldown 7): callbacks only, no sync get. */
interface LevelDown {
  open(o: object, cb: (e?: Error) => void): void;
  close(cb: (e?: Error) => void): void;
  get(key: string, o: object, cb: (e: (Error & { message: string }) | null, v?: Buffer) => void): void;
  batch(): { put(key: string, value: Uint8Array): unknown; write(cb: (e?: Error) => void): void };
  clear(o: object, cb: (e?: Error) => void): void;
  compactRange(start: string, end: string, cb: (e?: Error) => void): void;
}

function cb2p(f: (cb: (e?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => f((e) => (e ? reject(e) : resolve())));
}

async function levelDownStore(dir: string): Promise<Store> {
  const mod = await importOptional<{ default: (dir: string) => LevelDown }>("rocksdb");
  const open = async () => {
    const d = mod.default(dir);
    await cb2p((cb) => d.open({ createIfMissing: true }, cb));
    return d;
  };
  let db = await open();
  const key = (n: number) => prefix(partitionOf(n)) + playerKey(n);
  const get = (k: string) =>
    new Promise<Uint8Array | undefined>((resolve, reject) =>
      db.get(k, { asBuffer: true }, (e, v) =>
        e ? (/NotFound/i.test(e.message) ? resolve(undefined) : reject(e)) : resolve(v),
      ),
    );
  let pending: Promise<void> = Promise.resolve();
  return {
    dir,
    notes: [
      "get: async only (callback API)",
      `rmw: the poll batch's ${RMW_BATCH} gets in flight at once, then one batch write`,
      "settle: close, reopen, compactRange(all)",
    ],
    async restoreBatch(ns, from, to) {
      const b = db.batch();
      for (let i = from; i < to; i++) {
        const n = ns[i] as number;
        b.put(key(n), initialValue(n));
      }
      const w = cb2p((cb) => b.write(cb));
      await pending;
      pending = w;
    },
    async flush() {
      await pending;
    },
    async settle() {
      await pending;
      await cb2p((cb) => db.close(cb));
      db = await open();
      await cb2p((cb) => db.compactRange("00/", `${String(PARTITIONS).padStart(2, "0")}/`, cb));
    },
    getSync: null,
    getAsync: (p, k) => get(prefix(p) + k),
    async rmwBatch(ns, from, to, now) {
      const keys: string[] = [];
      for (let i = from; i < to; i++) keys.push(key(ns[i] as number));
      const vs = await Promise.all(keys.map(get));
      const b = db.batch();
      vs.forEach((v, i) => {
        if (v) b.put(keys[i] as string, updateState(v, now));
      });
      await cb2p((cb) => b.write(cb));
    },
    async clearPartition(p) {
      await cb2p((cb) => db.clear({ gte: prefix(p), lt: prefixEnd(p) }, cb));
    },
    async close() {
      await cb2p((cb) => db.close(cb));
    },
  };
}

async function openStore(name: StoreName, dir: string): Promise<Store> {
  switch (name) {
    case "map":
      return mapStore();
    case "classic-level":
    case "nxt-rocksdb":
      return abstractLevelStore(dir, name);
    case "rocksdb":
      return levelDownStore(dir);
  }
  const f = lmdbFlags(name);
  if (!f) throw new Error(`unknown store ${name}`);
  return lmdbStore(dir, f);
}

// ---------------------------------------------------------------------------------------------------------------
// One run

interface Mem {
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
  peakMiB: number;
}

function mem(): Mem {
  const status = readFileSync("/proc/self/status", "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
  const mib = (x: number) => Math.round((x / 1024) * 10) / 10;
  return {
    rssMiB: mib(kb("VmRSS")),
    anonMiB: mib(kb("RssAnon")),
    fileMiB: mib(kb("RssFile")),
    peakMiB: mib(kb("VmHWM")),
  };
}

/** Bytes allocated on disk (du) and apparent bytes of the files under dir. */
function du(dir: string): { allocated: number; apparent: number } {
  let allocated = 0;
  let apparent = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    let st;
    try {
      st = statSync(join(e.parentPath, e.name));
    } catch {
      continue; // deleted by a background compaction meanwhile
    }
    allocated += st.blocks * 512;
    apparent += st.size;
  }
  return { allocated, apparent };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function seconds(t: bigint): number {
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** CPU time (user + system, all threads of the process) since `from`, in microseconds. */
function cpuMicros(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

/** The changelog's order of players: a permutation of 0..n-1 (records arrive in update order, not key order). */
function permutation(n: number, seed: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  const r = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

function randomPlayers(n: number, count: number, seed: number): Int32Array {
  const r = mulberry32(seed);
  const a = new Int32Array(count);
  for (let i = 0; i < count; i++) a[i] = Math.floor(r() * n);
  return a;
}

export interface Run {
  store: StoreName;
  n: number;
  ops: number;
  meanValueBytes: number;
  meanCampaigns: number;
  restoreBatch: number;
  sortBatches: boolean;
  /** Keys and values made per second without a store (part of restorePerSec's cost). */
  genPerSec: number;
  restorePerSec: number;
  /** CPU time per player (user + system, every thread of the process): less disturbed by other processes. */
  restoreCpuMicros: number;
  settleSeconds: number;
  diskBytesPerPlayer: number | null;
  diskApparentBytesPerPlayer: number | null;
  getPerSec: number | null;
  getAsyncPerSec: number | null;
  getCpuMicros: number | null;
  getAsyncCpuMicros: number | null;
  rmwPerSec: number;
  rmwCpuMicros: number;
  diskBytesPerPlayerAfterRmw: number | null;
  clearMs: number;
  clearedPlayers: number;
  /** Map only: heap + array buffers per player after a GC. */
  memBytesPerPlayer: number | null;
  memAfterRestore: Mem;
  memAfterReads: Mem;
  memEnd: Mem;
  notes: string[];
}

async function one(
  name: StoreName,
  n: number,
  ops: number,
  baseDir: string,
  restoreBatch: number,
  sortBatches: boolean,
): Promise<Run> {
  const dir = join(baseDir, `${name}-${n}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const order = permutation(n, 42);
  const reads = randomPlayers(n, ops, 7);
  const readKeys = Array.from(reads, playerKey);
  const readParts = Array.from(reads, partitionOf);
  const rmw = randomPlayers(n, ops, 11);
  // value size over a sample
  let valueBytes = 0;
  let campaigns = 0;
  const sample = Math.min(n, 10_000);
  for (let i = 0; i < sample; i++) {
    const s = initialState(i);
    const v = encodeState(s);
    if (!v.equals(initialValue(i)))
      throw new Error(`initialValue(${i}) differs from encodeState(initialState)`);
    valueBytes += v.length;
    campaigns += s.length;
  }
  // what making the records costs (included in the restore rate): keys and values of up to 200,000 players
  const genCount = Math.min(n, 200_000);
  let t = process.hrtime.bigint();
  let genBytes = 0;
  for (let i = 0; i < genCount; i++)
    genBytes += playerKey(order[i] as number).length + initialValue(i).length;
  const genPerSec = genCount / seconds(t);
  if (genBytes === 0) throw new Error("nothing generated");
  gc();
  const heapBefore = process.memoryUsage();
  const store = await openStore(name, dir);

  // 1. restore
  let cpu = process.cpuUsage();
  t = process.hrtime.bigint();
  const byKey = (a: number, b: number) => {
    const ka = playerKey(a);
    const kb = playerKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
  for (let i = 0; i < n; i += restoreBatch) {
    const to = Math.min(n, i + restoreBatch);
    // --sort-batches: the restore sorts each batch by key before writing it (inside the timing)
    if (sortBatches) order.subarray(i, to).sort(byKey);
    await store.restoreBatch(order, i, to);
  }
  await store.flush();
  const restorePerSec = n / seconds(t);
  const restoreCpuMicros = cpuMicros(cpu) / n;
  gc();
  const memAfterRestore = mem();
  let memBytesPerPlayer: number | null = null;
  if (name === "map") {
    const after = process.memoryUsage();
    memBytesPerPlayer =
      (after.heapUsed + after.arrayBuffers - heapBefore.heapUsed - heapBefore.arrayBuffers) / n;
  }

  // 4. settled size
  t = process.hrtime.bigint();
  await store.settle();
  const settleSeconds = seconds(t);
  const size = store.dir ? du(store.dir) : null;

  // 2. point reads
  const check = (v: Uint8Array | undefined) => {
    if (!v) throw new Error(`${name}: a written player was not found`);
  };
  let getPerSec: number | null = null;
  let getCpuMicros: number | null = null;
  let getAsyncCpuMicros: number | null = null;
  if (store.getSync) {
    const get = store.getSync;
    cpu = process.cpuUsage();
    t = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) check(get(readParts[i] as number, readKeys[i] as string));
    getPerSec = ops / seconds(t);
    getCpuMicros = cpuMicros(cpu) / ops;
  }
  let getAsyncPerSec: number | null = null;
  if (store.getAsync) {
    const get = store.getAsync;
    let next = 0;
    cpu = process.cpuUsage();
    t = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < ops; i = next++)
          check(await get(readParts[i] as number, readKeys[i] as string));
      }),
    );
    getAsyncPerSec = ops / seconds(t);
    getAsyncCpuMicros = cpuMicros(cpu) / ops;
  }
  const memAfterReads = mem();

  // 3. read-modify-write
  cpu = process.cpuUsage();
  t = process.hrtime.bigint();
  for (let i = 0; i < ops; i += RMW_BATCH)
    await store.rmwBatch(rmw, i, Math.min(ops, i + RMW_BATCH), NOW + 60 + Math.floor(i / RMW_BATCH));
  await store.flush();
  const rmwPerSec = ops / seconds(t);
  const rmwCpuMicros = cpuMicros(cpu) / ops;
  // the update is visible
  if (store.getSync) {
    const p = rmw[0] as number;
    const v = store.getSync(partitionOf(p), playerKey(p));
    if (!v || decodeState(v)[0]?.count === initialState(p)[0]?.count)
      throw new Error(`${name}: the update is not visible`);
  }
  await store.settle();
  const sizeAfterRmw = store.dir ? du(store.dir) : null;

  // 5. clear a partition
  let cleared = 0;
  for (let i = 0; i < n; i++) if (partitionOf(i) === 0) cleared++;
  t = process.hrtime.bigint();
  await store.clearPartition(0);
  await store.flush();
  const clearMs = seconds(t) * 1000;
  let probe = 0;
  while (probe < n && partitionOf(probe) !== 0) probe++;
  if (probe < n && store.getSync?.(0, playerKey(probe)))
    throw new Error(`${name}: partition 0 still has players`);

  const memEnd = mem();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    store: name,
    n,
    ops,
    meanValueBytes: valueBytes / sample,
    meanCampaigns: campaigns / sample,
    restoreBatch,
    sortBatches,
    genPerSec,
    restorePerSec,
    restoreCpuMicros,
    settleSeconds,
    diskBytesPerPlayer: size && size.allocated / n,
    diskApparentBytesPerPlayer: size && size.apparent / n,
    getPerSec,
    getAsyncPerSec,
    getCpuMicros,
    getAsyncCpuMicros,
    rmwPerSec,
    rmwCpuMicros,
    diskBytesPerPlayerAfterRmw: sizeAfterRmw && sizeAfterRmw.allocated / n,
    clearMs,
    clearedPlayers: cleared,
    memBytesPerPlayer,
    memAfterRestore,
    memAfterReads,
    memEnd,
    notes: store.notes,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Driver

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median of every numeric leaf (nested one level, as Mem). */
function medianRun(runs: Run[]): Record<string, unknown> {
  const first = runs[0] as Run;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(first)) {
    if (typeof v === "number") out[k] = median(runs.map((r) => r[k as keyof Run] as number));
    else if (v === null) out[k] = null;
    else if (typeof v === "object" && !Array.isArray(v))
      out[k] = Object.fromEntries(
        Object.keys(v).map((f) => [
          f,
          median(runs.map((r) => (r[k as keyof Run] as unknown as Record<string, number>)[f] as number)),
        ]),
      );
    else out[k] = v;
  }
  return out;
}

function runChild(
  store: StoreName,
  n: number,
  ops: number,
  dir: string,
  restoreBatch: number,
  sortBatches: boolean,
): Run | { missing: string } {
  const args = [
    "--expose-gc",
    fileURLToPath(import.meta.url),
    "--one",
    `--store=${store}`,
    `--n=${n}`,
    `--ops=${ops}`,
    `--dir=${dir}`,
    `--restore-batch=${restoreBatch}`,
    ...(sortBatches ? ["--sort-batches"] : []),
  ];
  const child = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 16 << 20 });
  const last = child.stdout.trim().split("\n").pop() ?? "";
  if (child.status !== 0) throw new Error(`${store} n=${n} failed (${child.status}):\n${child.stderr}`);
  return JSON.parse(last) as Run | { missing: string };
}

const fmt = (x: unknown, digits = 0): string =>
  typeof x === "number" ? x.toLocaleString("en-US", { maximumFractionDigits: digits }) : "–";

function markdown(summary: Record<string, unknown>[]): string {
  const head =
    "| store | N | restore players/s (CPU µs) | get/s sync (CPU µs) | get/s async, 64 in flight (CPU µs) | " +
    "rmw/s (CPU µs) | settle s | disk B/player: settled, after rmw | clear 1 of 6 partitions, ms | " +
    "RSS after restore MiB (anon + file) | peak RSS MiB |";
  const rate = (r: unknown, c: unknown) => (r === null ? "–" : `${fmt(r)} (${fmt(c, 1)})`);
  const rows = summary.map((s) => {
    const m = s.memAfterRestore as Mem;
    const disk =
      s.diskBytesPerPlayer === null
        ? `in memory: ${fmt(s.memBytesPerPlayer)}`
        : `${fmt(s.diskBytesPerPlayer)}, ${fmt(s.diskBytesPerPlayerAfterRmw)}`;
    return (
      `| ${String(s.store)} | ${fmt(s.n)} | ${rate(s.restorePerSec, s.restoreCpuMicros)} | ` +
      `${rate(s.getPerSec, s.getCpuMicros)} | ${rate(s.getAsyncPerSec, s.getAsyncCpuMicros)} | ` +
      `${rate(s.rmwPerSec, s.rmwCpuMicros)} | ${fmt(s.settleSeconds, 1)} | ${disk} | ${fmt(s.clearMs, 1)} | ` +
      `${fmt(m.rssMiB)} (${fmt(m.anonMiB)} + ${fmt(m.fileMiB)}) | ${fmt((s.memEnd as Mem).peakMiB)} |`
    );
  });
  return [head, `|${" --- |".repeat(11)}`, ...rows].join("\n");
}

async function driver(argv: string[]): Promise<void> {
  const opt = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const sizes = (opt("sizes") ?? "1000000").split(",").map(Number);
  const reps = Number(opt("reps") ?? 3);
  const ops = Number(opt("ops") ?? 100_000);
  const restoreBatch = Number(opt("restore-batch") ?? RESTORE_BATCH);
  const sortBatches = argv.includes("--sort-batches");
  const dir = opt("dir") ?? join(tmpdir(), "rtcrm-player-store");
  const wanted = opt("stores")?.split(",") ?? DEFAULT_STORES;
  for (const s of wanted)
    if (!isStore(s))
      throw new Error(
        `unknown store ${s}: map, classic-level, rocksdb, nxt-rocksdb or lmdb[-nosync][-wm][-txn][-lz4]`,
      );
  const missing: Record<string, string> = {};
  const stores = (wanted as StoreName[]).filter((s) => {
    const pkg = packageOf(s);
    if (pkg && !resolveOptional(pkg)) {
      missing[s] = `${pkg} is not installed (in ${storeModulesDir()}/node_modules or the project)`;
      process.stderr.write(`skipping ${s}: ${missing[s]}\n`);
      return false;
    }
    return true;
  });
  const runs = new Map<string, Run[]>();
  const started = process.hrtime.bigint();
  for (const n of sizes) {
    for (let rep = 0; rep < reps; rep++) {
      // rotate the order of the stores from one round to the next
      const order = stores.map((_, i) => stores[(i + rep) % stores.length] as StoreName);
      for (const s of order) {
        const t = process.hrtime.bigint();
        const r = runChild(s, n, Math.min(ops, n), dir, restoreBatch, sortBatches);
        if ("missing" in r) {
          missing[s] = r.missing;
          continue;
        }
        process.stderr.write(
          `n=${n} round ${rep + 1}/${reps} ${s}: ${seconds(t).toFixed(1)} s ` +
            `(restore ${fmt(r.restorePerSec)}/s, get ${fmt(r.getPerSec ?? r.getAsyncPerSec)}/s, ` +
            `rmw ${fmt(r.rmwPerSec)}/s, disk ${fmt(r.diskBytesPerPlayer)} B/player)\n`,
        );
        const key = `${s}@${n}`;
        runs.set(key, [...(runs.get(key) ?? []), r]);
      }
    }
  }
  const summary = [...runs.values()].map((rs) => ({ ...medianRun(rs), runs: rs.length }));
  const versions = Object.fromEntries(
    [...new Set(stores.map(packageOf).filter((p): p is string => p !== null))].map((p) => [
      p,
      packageVersion(p),
    ]),
  );
  // bench/lib/machine.js loads the Kafka client: only here, never in a measured child
  const { machine } = await import("../lib/machine.js");
  const result = {
    machine: machine(),
    versions,
    settings: {
      partitions: PARTITIONS,
      restoreBatch,
      sortBatches,
      rmwBatch: RMW_BATCH,
      concurrency: CONCURRENCY,
    },
    reps,
    ops,
    seconds: seconds(started),
    descriptions: Object.fromEntries(stores.map((s) => [s, describe(s)])),
    missing,
    summary,
    raw: Object.fromEntries(runs),
  };
  console.log(JSON.stringify(result, null, 2));
  if (argv.includes("--md")) process.stderr.write(`\n${markdown(summary)}\n`);
}

const argv = process.argv.slice(2);
if (argv.includes("--one")) {
  const opt = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const name = opt("store") as StoreName;
  const n = Number(opt("n") ?? 1_000_000);
  try {
    const ops = Number(opt("ops") ?? Math.min(n, 100_000));
    const restoreBatch = Number(opt("restore-batch") ?? RESTORE_BATCH);
    const r = await one(name, n, ops, opt("dir") ?? tmpdir(), restoreBatch, argv.includes("--sort-batches"));
    console.log(JSON.stringify(r));
  } catch (e) {
    if (!(e instanceof Missing)) throw e;
    console.log(JSON.stringify({ missing: e.message }));
  }
} else {
  await driver(argv);
}
