// The local store of delivery-rule state: one LMDB sub-database per state partition, in state_dir. It is a cache
// of the changelog topic: a partition's data is cleared and restored from the changelog whenever the partition is
// assigned, so it never holds writes of a transaction that was aborted or of a run that crashed. Reads are
// synchronous (the rules run on the main thread between fetches). Writes gather in `#pending` (where reads see
// them at once) and are committed together in one synchronous LMDB transaction once the current turn of the event
// loop is over: a put() each, with its promise, cost more than the rest of the rules' work on the main thread.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open, type Database, type RootDatabase } from "lmdb";
import { decodeState, type PlayerState } from "./player-state.js";

/** Address space mapped for the store; LMDB grows it when full. */
const MAP_SIZE = 4 * 1024 ** 3;
/** Sub-databases LMDB may hold: one per state partition. */
const MAX_PARTITIONS = 4_096;

export class PartitionStore {
  readonly #db: Database<Buffer, string>;
  readonly #pending = new Map<string, Buffer | null>();
  #flush: NodeJS.Immediate | undefined;

  constructor(db: Database<Buffer, string>) {
    this.#db = db;
  }

  /** The player's state; null when none is kept. Throws RangeError when the stored bytes are not a state. */
  get(player: string): PlayerState | null {
    const bytes = this.#pending.has(player) ? this.#pending.get(player) : this.#db.get(player);
    return bytes ? decodeState(bytes) : null;
  }

  /** Stores `bytes` for the player (null removes it). */
  put(player: string, bytes: Buffer | null): void {
    this.#pending.set(player, bytes);
    this.#flush ??= setImmediate(() => this.#commit());
  }

  #commit(): void {
    clearImmediate(this.#flush);
    this.#flush = undefined;
    if (this.#pending.size === 0) return;
    this.load([...this.#pending]);
    this.#pending.clear();
  }

  /**
   * Stores many players' states in one synchronous LMDB transaction: 700,000 players/s here against 210,000 with
   * an asynchronous put() each (1 million players).
   */
  load(states: readonly (readonly [string, Buffer | null])[]): void {
    this.#db.transactionSync(() => {
      for (const [player, bytes] of states) {
        if (bytes === null) this.#db.removeSync(player);
        else this.#db.putSync(player, bytes);
      }
    });
  }

  /** Players and their state bytes from `start` on (committed writes), in key order. */
  *entries(start?: string): Generator<[string, Buffer]> {
    for (const { key, value } of this.#db.getRange(start === undefined ? {} : { start })) {
      const pending = this.#pending.get(key);
      if (pending === null) continue;
      yield [key, pending ?? value];
    }
  }

  /** Commits every write so far. */
  async settled(): Promise<void> {
    this.#commit();
    await Promise.resolve();
  }

  /** Removes everything of this partition. */
  async clear(): Promise<void> {
    clearImmediate(this.#flush);
    this.#flush = undefined;
    this.#pending.clear();
    await this.#db.clearAsync();
  }

  /** Players stored (committed). */
  get size(): number {
    return this.#db.getCount();
  }
}

export class StateStore {
  readonly #root: RootDatabase;
  readonly #partitions = new Map<number, PartitionStore>();

  private constructor(root: RootDatabase) {
    this.#root = root;
  }

  static open(dir: string): StateStore {
    mkdirSync(dir, { recursive: true });
    // Durability comes from the changelog topic: the local copy needs no fsync per commit, and a write map (writes
    // straight into the mapped file: 1.6x the restore rate measured here) risks nothing a restore does not repair.
    return new StateStore(
      open({
        path: dir,
        maxDbs: MAX_PARTITIONS,
        noSync: true,
        useWritemap: true,
        compression: false,
        // Mapped up front (the file grows as it fills): each growth would keep the old mapping until restart.
        mapSize: MAP_SIZE,
      }),
    );
  }

  partition(n: number): PartitionStore {
    let store = this.#partitions.get(n);
    if (!store) {
      store = new PartitionStore(
        this.#root.openDB<Buffer, string>({ name: `partition-${n}`, encoding: "binary" }),
      );
      this.#partitions.set(n, store);
    }
    return store;
  }

  /** Idempotent. */
  async close(): Promise<void> {
    for (const p of this.#partitions.values()) await p.settled();
    await this.#root.close();
  }
}

/**
 * The directory of instance `name` (its transactional id: stable per group and host) under `stateDir`, with the
 * process id added when another live process holds it (several instances on one host).
 */
export function stateDirectory(stateDir: string, name: string): string {
  const dir = join(stateDir, name);
  const owner = join(dir, "owner.pid");
  mkdirSync(dir, { recursive: true });
  let pid: number | null;
  try {
    pid = Number(readFileSync(owner, "utf8"));
  } catch {
    pid = null;
  }
  if (pid !== null && pid !== process.pid && isAlive(pid)) return `${dir}-${process.pid}`;
  writeFileSync(owner, String(process.pid));
  return dir;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
