// What the delivery rules remember of one player, and its bytes in the store and on the changelog topic. Only what
// a cap can still need is kept: the last `max` trigger times inside a capped period, the count of a lifetime cap.
// Times are epoch milliseconds; in bytes each is a varint distance back from the newest, so that a player with one
// capped campaign takes about 12 bytes.
import type { DeliveryRules, FrequencyCap } from "../campaigns/delivery-rules.js";

export interface CampaignHistory {
  /** Deliveries over the campaign's lifetime (a cap without a period); 0 otherwise. */
  count: number;
  /** Delivery times inside the cap's period, oldest first, at most the cap's max of them. */
  times: number[];
}

export interface PlayerState {
  /**
   * Per partition of the events topic, the offset of the player's last event whose decision this state holds. An
   * event at or below it was decided and its records written before this state was (at-least-once writes the
   * state after the triggers are acknowledged): its retry after a crash, directly or as a second copy on the
   * repartition topic, sends nothing again and takes no second place under a cap.
   */
  readonly sources: Map<number, number>;
  readonly campaigns: Map<number, CampaignHistory>;
  /** Trigger times inside the global cap's period, oldest first. */
  global: number[];
}

export function emptyState(): PlayerState {
  return { sources: new Map(), campaigns: new Map(), global: [] };
}

export function isEmpty(state: PlayerState): boolean {
  return state.campaigns.size === 0 && state.global.length === 0;
}

/** Keeps the times still inside `cap`'s period at `nowMs`, at most its max (the newest). */
export function windowed(times: readonly number[], cap: FrequencyCap, nowMs: number): number[] {
  const since = cap.periodMs === null ? -Infinity : nowMs - cap.periodMs;
  const kept = times.filter((t) => t > since);
  return kept.length > cap.max ? kept.slice(kept.length - cap.max) : kept;
}

/**
 * Drops what no cap needs any more at `nowMs`: times out of their period, campaigns that are gone or no longer
 * capped. `rulesOf` gives a campaign's current rules (undefined when it is gone). Returns whether anything changed.
 */
export function expire(
  state: PlayerState,
  nowMs: number,
  rulesOf: (campaignId: number) => DeliveryRules | undefined,
  globalCap: FrequencyCap | null,
): boolean {
  let changed = false;
  for (const [id, history] of state.campaigns) {
    const cap = rulesOf(id)?.frequencyCap ?? null;
    if (cap === null) {
      state.campaigns.delete(id);
      changed = true;
      continue;
    }
    if (cap.periodMs === null) {
      if (history.times.length > 0) {
        history.times = [];
        changed = true;
      }
      if (history.count === 0) state.campaigns.delete(id);
      continue;
    }
    const kept = windowed(history.times, cap, nowMs);
    if (kept.length !== history.times.length || history.count !== 0) changed = true;
    history.times = kept;
    history.count = 0;
    if (kept.length === 0) state.campaigns.delete(id);
  }
  const global = globalCap === null ? [] : windowed(state.global, globalCap, nowMs);
  if (global.length !== state.global.length) changed = true;
  state.global = global;
  return changed;
}

/** 2: the events' partitions and offsets follow the version (1 had none). */
const VERSION = 2;

class Writer {
  bytes: number[] = [];
  uint(n: number): void {
    // Arithmetic, not bit operations: values go up to 2^53.
    while (n >= 0x80) {
      this.bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.bytes.push(n);
  }
  /**
   * Zigzag (0, -1, 1, -2, ... as 0, 1, 2, 3, ...), its first 7 bits written apart: 2|n| - 1 of a negative n below
   * -2^52 is odd and above 2^53, so it has no exact double, while |n| div 64 and |n| mod 64 do.
   */
  int(n: number): void {
    const magnitude = Math.abs(n);
    const negative = n < 0 ? 1 : 0;
    let high = Math.floor(magnitude / 64);
    let low = 2 * (magnitude % 64) - negative;
    if (low < 0) {
      low += 0x80;
      high--;
    }
    if (high === 0) return void this.bytes.push(low);
    this.bytes.push(low | 0x80);
    this.uint(high);
  }
}

class Reader {
  #at = 0;
  constructor(readonly bytes: Uint8Array) {}
  get done(): boolean {
    return this.#at >= this.bytes.length;
  }
  uint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.bytes[this.#at++];
      if (b === undefined) throw new RangeError("player state ends in the middle of a number");
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RangeError("player state holds a number out of range");
    }
  }
  /** Writer.int's number: the zigzag's first 7 bits read apart, so that no step leaves the exact doubles. */
  int(): number {
    const first = this.bytes[this.#at++];
    if (first === undefined) throw new RangeError("player state ends in the middle of a number");
    const low = first & 0x7f;
    const high = first < 0x80 ? 0 : this.uint();
    const negative = low & 1;
    const magnitude = high * 64 + (low + negative) / 2;
    if (!Number.isSafeInteger(magnitude)) throw new RangeError("player state holds a number out of range");
    return negative ? -magnitude : magnitude;
  }
}

function newestOf(state: PlayerState): number {
  let newest = 0;
  for (const t of state.global) newest = Math.max(newest, t);
  for (const h of state.campaigns.values()) for (const t of h.times) newest = Math.max(newest, t);
  return newest;
}

export function encodeState(state: PlayerState): Buffer {
  const w = new Writer();
  const newest = newestOf(state);
  const times = (list: readonly number[]): void => {
    w.uint(list.length);
    for (const t of list) w.uint(newest - t);
  };
  w.uint(VERSION);
  w.uint(state.sources.size);
  for (const [partition, offset] of state.sources) {
    w.uint(partition);
    w.uint(offset);
  }
  w.uint(newest);
  times(state.global);
  w.uint(state.campaigns.size);
  for (const [id, h] of state.campaigns) {
    w.int(id);
    w.uint(h.count);
    times(h.times);
  }
  return Buffer.from(w.bytes);
}

/** The state in `bytes`; throws RangeError when they are not a player state of this version. */
export function decodeState(bytes: Uint8Array): PlayerState {
  const r = new Reader(bytes);
  const version = r.uint();
  if (version !== 1 && version !== VERSION)
    throw new RangeError(`player state of unknown version ${version}`);
  const sources = new Map<number, number>();
  if (version !== 1) for (let n = r.uint(); n > 0; n--) sources.set(r.uint(), r.uint());
  const newest = r.uint();
  const times = (): number[] => {
    const n = r.uint();
    const list: number[] = [];
    for (let i = 0; i < n; i++) list.push(newest - r.uint());
    return list;
  };
  const global = times();
  const campaigns = new Map<number, CampaignHistory>();
  for (let n = r.uint(); n > 0; n--) {
    const id = r.int();
    const count = r.uint();
    campaigns.set(id, { count, times: times() });
  }
  if (!r.done) throw new RangeError("player state has bytes after its end");
  return { sources, campaigns, global };
}
