// The local store of delivery-rule state: one LMDB environment per state partition, in state_dir (clearing a
// partition's data is then one small transaction whatever the others hold). It is a cache
// of the changelog topic: a partition's data is cleared and restored from the changelog whenever the partition is
// assigned, so it never holds writes of a transaction that was aborted or of a run that crashed. Reads are
// synchronous (the rules run on the main thread between fetches). Writes gather in `#pending` (where reads see
// them at once) and are committed together in one synchronous LMDB transaction once the current turn of the event
// loop is over: a put() each, with its promise, cost more than the rest of the rules' work on the main thread.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open, type Database, type RootDatabase } from "lmdb";
import { decodeState, type PlayerState } from "./player-state.js";

/** Address space mapped for one partition's store; LMDB grows it when full. */
const MAP_SIZE = 1024 ** 3;

export class PartitionStore {
  readonly #root: RootDatabase;
  readonly #db: Database<Buffer, string>;
  readonly #pending = new Map<string, Buffer | null>();
  #flush: NodeJS.Immediate | undefined;

  constructor(path: string) {
    this.#root = openEnvironment(path);
    this.#db = openStateDb(this.#root);
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

  /** Stores many players' states in one synchronous LMDB transaction. */
  load(states: readonly (readonly [string, Buffer | null])[]): void {
    writeStates(this.#db, states);
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

  /** Removes everything of this partition, writes not yet committed included. */
  clear(): void {
    clearImmediate(this.#flush);
    this.#flush = undefined;
    this.#pending.clear();
    this.#db.clearSync();
  }

  /** Commits what is pending and closes the environment. */
  async close(): Promise<void> {
    this.#commit();
    await this.#root.close();
  }
}

export class StateStore {
  readonly #dir: string;
  readonly #partitions = new Map<number, PartitionStore>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static open(dir: string): StateStore {
    mkdirSync(dir, { recursive: true });
    return new StateStore(dir);
  }

  partition(n: number): PartitionStore {
    let store = this.#partitions.get(n);
    if (!store) {
      store = new PartitionStore(join(this.#dir, `partition-${n}`));
      this.#partitions.set(n, store);
    }
    return store;
  }

  /** Idempotent. */
  async close(): Promise<void> {
    for (const p of this.#partitions.values()) await p.close();
    this.#partitions.clear();
  }
}

/** Opens (creating it) the LMDB environment of one state partition. */
export function openEnvironment(path: string): RootDatabase {
  mkdirSync(path, { recursive: true });
  // Durability comes from the changelog topic: the local copy needs no fsync per commit, and a write map (writes
  // straight into the mapped file: 1.6x the restore rate measured here) risks nothing a restore does not repair.
  return open({
    path,
    noSync: true,
    useWritemap: true,
    compression: false,
    // Mapped up front (the file grows as it fills): each growth would keep the old mapping until restart.
    mapSize: MAP_SIZE,
  });
}

/** The players' states in an environment: player id -> state bytes. */
export function openStateDb(root: RootDatabase): Database<Buffer, string> {
  return root.openDB<Buffer, string>({ name: "players", encoding: "binary" });
}

/** Writes many players' states (null: none) in one synchronous transaction. */
export function writeStates(
  db: Database<Buffer, string>,
  states: readonly (readonly [string, Buffer | null])[],
): void {
  db.transactionSync(() => {
    for (const [player, bytes] of states) {
      if (bytes === null) db.removeSync(player);
      else db.putSync(player, bytes);
    }
  });
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
