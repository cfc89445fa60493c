// The filters a worker holds: by versionKey, least recently used first, at most `maxLoaded` after a task; a new
// version of a campaign replaces the old one at once. A filter is linked into the sandbox only when it is first
// called (predicate filters usually never are). Campaigns sharing a stateless filter (same shareKey) share one
// linked copy of it, in the sandbox's shared context; it is unloaded when the last campaign using it goes.
import { modulesDropped } from "../sandbox/module-reclaim.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import type { SandboxCall } from "./batch-evaluator.js";
import type { EventView } from "./event-view.js";
import type { FilterRef } from "./protocol.js";

/** The id of `ref`'s filter in the sandbox. */
function sandboxId(ref: FilterRef): string {
  return ref.shareKey ?? ref.campaign.versionKey;
}

export class FilterRegistry {
  readonly #sandbox: Sandbox;
  readonly #maxLoaded: number;
  /** versionKey -> filter; insertion order is refreshed on use, so the first key is the least recently used. */
  readonly #filters = new Map<string, FilterRef>();
  /** campaignId -> versionKey. */
  readonly #versionOf = new Map<number, string>();
  /** Sandbox id -> registered filters using it. */
  readonly #users = new Map<string, number>();
  /**
   * Versions replaced by a newer one during the current task: let go by trim(), after the task, since a route of
   * the same task may still hold them (a batch gathered across a campaign change).
   */
  readonly #replaced: string[] = [];
  /** Sandbox ids linked into the sandbox. */
  readonly #linked = new Set<string>();
  #onDrop: (versionKey: string) => void = () => {};

  constructor(sandbox: Sandbox, maxLoaded: number) {
    this.#sandbox = sandbox;
    this.#maxLoaded = maxLoaded;
  }

  /** Called with the versionKey of every filter let go (replaced, retired, least recently used). */
  onDrop(listener: (versionKey: string) => void): void {
    this.#onDrop = listener;
  }

  has(versionKey: string): boolean {
    return this.#filters.has(versionKey);
  }

  /** Takes `ref`; another version of its campaign it replaces is let go after the task (trim). */
  register(ref: FilterRef): void {
    const key = ref.campaign.versionKey;
    const previous = this.#versionOf.get(ref.campaign.campaignId);
    if (previous !== undefined && previous !== key) this.#replaced.push(previous);
    if (!this.#filters.delete(key)) this.#use(ref);
    this.#filters.set(key, ref);
    this.#versionOf.set(ref.campaign.campaignId, key);
  }

  /** The filter a task names, or undefined when it names one by key that this worker does not hold. */
  resolve(filter: FilterRef | string): FilterRef | undefined {
    if (typeof filter !== "string") {
      this.register(filter);
      return filter;
    }
    const ref = this.#filters.get(filter);
    if (!ref) return undefined;
    this.#filters.delete(filter);
    this.#filters.set(filter, ref);
    return ref;
  }

  drop(key: string, evicted: string[]): void {
    const ref = this.#filters.get(key);
    if (ref && this.#versionOf.get(ref.campaign.campaignId) === key)
      this.#versionOf.delete(ref.campaign.campaignId);
    if (this.#filters.delete(key)) modulesDropped();
    if (ref) this.#release(ref);
    evicted.push(key);
    this.#onDrop(key);
  }

  /** After a task (never during one, which may need more filters than the bound): unload the least recently used. */
  trim(evicted: string[]): string[] {
    for (const key of this.#replaced.splice(0)) if (this.#filters.has(key)) this.drop(key, evicted);
    while (this.#filters.size > this.#maxLoaded)
      this.drop(this.#filters.keys().next().value as string, evicted);
    return evicted.filter((k) => !this.#filters.has(k));
  }

  /** Links `ref`'s filter into the sandbox unless it is; returns its sandbox id. */
  link(ref: FilterRef): string {
    const id = sandboxId(ref);
    if (!this.#linked.has(id)) {
      this.#sandbox.load(id, ref.module, ref.shareKey !== null);
      this.#linked.add(id);
    }
    return id;
  }

  /**
   * The sandbox call of the batch evaluator. Each filter is given the fields it reads (EventView); stateless filters
   * that read the same fields read one decoded copy of them per event.
   */
  readonly call: SandboxCall = (ref: FilterRef, view: EventView) => {
    const id = this.link(ref);
    const started = performance.now();
    const outcome = this.#sandbox.evaluate(id, view.for(ref), {
      fuel: ref.fuel,
      memoryBytes: ref.memoryBytes,
      deadlineMs: ref.deadlineMs,
    });
    return { outcome, micros: (performance.now() - started) * 1000 };
  };

  #use(ref: FilterRef): void {
    const id = sandboxId(ref);
    this.#users.set(id, (this.#users.get(id) ?? 0) + 1);
  }

  #release(ref: FilterRef): void {
    const id = sandboxId(ref);
    const left = (this.#users.get(id) ?? 1) - 1;
    if (left > 0) {
      this.#users.set(id, left);
      return;
    }
    this.#users.delete(id);
    if (this.#linked.delete(id)) this.#sandbox.unload(id);
  }
}
