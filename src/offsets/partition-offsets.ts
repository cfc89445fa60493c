// Per partition, the offset that may be committed: the lowest offset not yet fully processed
// (its triggers and dead-letter records acknowledged). Never past an unfinished event.

export class PartitionOffsets {
  /** Offsets handed in, in arrival order (increasing within a partition). */
  #pending: number[] = [];
  #head = 0;
  readonly #done = new Set<number>();
  /** Next offset to commit (the offset after the last contiguous finished one), or null before any event. */
  #committable: number | null = null;
  #lastCommitted: number | null = null;

  /**
   * An event of this partition entered the pipeline. Returns false (and tracks nothing) for an offset at or
   * below one already tracked: a record delivered twice is processed once.
   */
  track(offset: number): boolean {
    const last =
      this.#pending[this.#pending.length - 1] ??
      (this.#committable === null ? undefined : this.#committable - 1);
    if (last !== undefined && offset <= last) return false;
    this.#pending.push(offset);
    return true;
  }

  /** The event at `offset` is fully processed. */
  done(offset: number): void {
    this.#done.add(offset);
    while (this.#head < this.#pending.length) {
      const next = this.#pending[this.#head] as number;
      if (!this.#done.has(next)) break;
      this.#done.delete(next);
      this.#committable = next + 1;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Events tracked and not yet finished. */
  get inFlight(): number {
    return this.#pending.length - this.#head;
  }

  /** The offset to commit now, or null when nothing new is finished since the last commit. */
  toCommit(): number | null {
    if (this.#committable === null || this.#committable === this.#lastCommitted) return null;
    return this.#committable;
  }

  /** Records a commit of `offset`; null forgets the last one (it failed), so the next toCommit() repeats it. */
  markCommitted(offset: number | null): void {
    this.#lastCommitted = offset;
  }

  /** The offset that may be committed now, even if it was committed before (for synchronous commits). */
  get committable(): number | null {
    return this.#committable;
  }

  get lastCommitted(): number | null {
    return this.#lastCommitted;
  }
}
