// The partitions this member holds now. Each assignment of a partition is a new object, so that work of a revoked
// one that finishes late is recognised (revoked) and dropped instead of moving the new owner's offsets.
import { PartitionOffsets } from "./partition-offsets.js";

export class PartitionAssignment {
  readonly offsets = new PartitionOffsets();
  revoked = false;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Partitions of more than one topic may be held (the events topic and the rules' repartition topic). */
const keyOf = (topic: string, partition: number): string => `${partition}\u0000${topic}`;

export class Assignments {
  readonly #byPartition = new Map<string, PartitionAssignment>();

  get(topic: string, partition: number): PartitionAssignment | undefined {
    return this.#byPartition.get(keyOf(topic, partition));
  }

  values(): IterableIterator<PartitionAssignment> {
    return this.#byPartition.values();
  }

  /** Topic and partition of each held partition. */
  list(): { topic: string; partition: number }[] {
    return [...this.#byPartition.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
  }

  add(topic: string, partition: number): PartitionAssignment {
    const assigned = new PartitionAssignment(topic, partition);
    this.#byPartition.set(keyOf(topic, partition), assigned);
    return assigned;
  }

  revoke(topic: string, partition: number): void {
    const key = keyOf(topic, partition);
    const assigned = this.#byPartition.get(key);
    if (assigned) assigned.revoked = true;
    this.#byPartition.delete(key);
  }

  revokeAll(): void {
    for (const p of [...this.#byPartition.values()]) this.revoke(p.topic, p.partition);
  }

  /** Events taken in and not yet fully processed, over all held partitions. */
  get inFlight(): number {
    let n = 0;
    for (const p of this.#byPartition.values()) n += p.offsets.inFlight;
    return n;
  }

  /**
   * Per partition, the offset below which every event is fully processed: those changed since the last commit
   * (`all`: every one, as a synchronous commit at revoke or stop repeats them).
   */
  committable(all = false): PartitionOffset[] {
    const offsets: PartitionOffset[] = [];
    for (const p of this.#byPartition.values()) {
      const offset = all ? p.offsets.committable : p.offsets.toCommit();
      if (offset !== null) offsets.push({ topic: p.topic, partition: p.partition, offset });
    }
    return offsets;
  }

  /** Records a commit (null: it failed, so the next committable() offers those partitions again). */
  markCommitted(offsets: readonly PartitionOffset[], failed = false): void {
    for (const o of offsets)
      this.#byPartition.get(keyOf(o.topic, o.partition))?.offsets.markCommitted(failed ? null : o.offset);
  }
}
