// The broadcast state: every instance builds the same campaign set from the campaign topic.
// The latest record per key decides (last write wins): a valid record replaces the campaign, a tombstone
// deletes it, and an invalid record removes it too, so that the set depends only on the topic's content
// (after compaction only the latest record of a key remains).
import type { FieldAccess } from "../compile/field-access.js";
import type { Predicate } from "../compile/predicate.js";
import { errorMessage, FilterError } from "../errors.js";
import type { AuditFields } from "./audit-headers.js";
import { parseCampaign, type Campaign } from "./campaign.js";
import type { CampaignStatus } from "./status.js";

/** A campaign ready to evaluate: rules, compiled filter module and limits. */
export interface ActiveCampaign {
  readonly campaign: Campaign;
  readonly module: WebAssembly.Module;
  readonly artefact: string;
  readonly access: FieldAccess;
  readonly accessKey: string;
  /** The filter as a predicate the host interprets, or null: it then always runs in the sandbox. */
  readonly predicate: Predicate | null;
  /**
   * Set when the filter provably keeps no state between calls: campaigns with the same key (same artefact, same
   * limits) share one call per event. Null: the campaign's filter is called for it alone.
   */
  readonly shareKey: string | null;
  readonly fuel: number;
  readonly memoryBytes: number;
  readonly deadlineMs: number;
}

export interface FilterCompilerLike {
  compile(source: string): Promise<CompiledFilterLike>;
}

export interface CompiledFilterLike {
  readonly module: WebAssembly.Module;
  readonly hash: string;
  readonly access: FieldAccess;
  readonly accessKey: string;
  /** Absent: null (the filter always runs in the sandbox). */
  readonly predicate?: Predicate | null;
  /** Absent: false (each campaign's filter is called for it alone). */
  readonly stateless?: boolean;
}

export interface CampaignRecord {
  readonly key: string | null;
  readonly value: Uint8Array | null;
  readonly source: string;
  /** Who wrote the record, from its headers: repeated in its status. */
  readonly audit?: AuditFields;
}

export interface CampaignSetOptions {
  readonly compiler: FilterCompilerLike;
  readonly limitsFor: (campaignId: number) => FilterLimits;
  /** A campaign version left the set (replaced, deleted, rejected or quarantined): its filter can go. */
  readonly onRemoved?: (removed: ActiveCampaign) => void;
  /** Why a campaign version is quarantined (it is then kept out of the set), or undefined. */
  readonly quarantined?: (versionKey: string) => string | undefined;
  readonly now?: () => Date;
}

export interface FilterLimits {
  readonly fuel: number;
  readonly memoryBytes: number;
  readonly deadlineMs: number;
}

/**
 * The campaign ready to evaluate. Its share key is set only for a stateless filter: campaigns with the same artefact
 * and limits share one call per event.
 */
export function activeCampaign(
  campaign: Campaign,
  compiled: CompiledFilterLike,
  limits: FilterLimits,
): ActiveCampaign {
  return {
    campaign,
    module: compiled.module,
    artefact: compiled.hash,
    access: compiled.access,
    accessKey: compiled.accessKey,
    predicate: compiled.predicate ?? null,
    shareKey:
      compiled.stateless === true
        ? `${compiled.hash}:${limits.fuel}:${limits.memoryBytes}:${limits.deadlineMs}`
        : null,
    ...limits,
  };
}

const routeKey = (game: string, eventName: string): string => `${game}\u0000${eventName}`;

export class CampaignSet {
  readonly #byId = new Map<number, ActiveCampaign>();
  /** Per route, its campaigns in campaign-id order (changed in place). */
  readonly #routes = new Map<string, ActiveCampaign[]>();
  /**
   * Per route, the list route() handed out since its last change: batches being built hold it as their candidate
   * list, so a change makes a new one (on the next route() call) rather than changing it.
   */
  readonly #snapshots = new Map<string, readonly ActiveCampaign[]>();
  readonly #options: CampaignSetOptions;

  constructor(options: CampaignSetOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#byId.size;
  }

  get(campaignId: number): ActiveCampaign | undefined {
    return this.#byId.get(campaignId);
  }

  all(): IterableIterator<ActiveCampaign> {
    return this.#byId.values();
  }

  /** The campaigns that can match an event of this game and event name (others cost nothing). */
  route(game: string, eventName: string): readonly ActiveCampaign[] {
    const key = routeKey(game, eventName);
    let snapshot = this.#snapshots.get(key);
    if (snapshot === undefined) {
      snapshot = this.#routes.get(key)?.slice() ?? [];
      this.#snapshots.set(key, snapshot);
    }
    return snapshot;
  }

  /** Applies one campaign record and says what became of it. */
  async apply(record: CampaignRecord): Promise<CampaignStatus> {
    const at = (this.#options.now?.() ?? new Date()).toISOString();
    const status = (
      campaign_id: number | null,
      kind: CampaignStatus["status"],
      extra: Partial<CampaignStatus> = {},
    ): CampaignStatus => ({
      campaign_id,
      status: kind,
      ...extra,
      source: record.source,
      at,
      ...record.audit,
    });
    const keyId = record.key === null ? null : parseKey(record.key);

    if (record.value === null || record.value.length === 0) {
      if (keyId === null) {
        return status(null, "rejected", {
          reasons: [`a tombstone needs the campaign id as key, got ${JSON.stringify(record.key)}`],
        });
      }
      this.#remove(keyId);
      return status(keyId, "deleted");
    }

    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(record.value));
    } catch (error) {
      if (keyId !== null) this.#remove(keyId);
      return status(keyId, "rejected", { reasons: [`not valid JSON: ${errorMessage(error)}`] });
    }
    const parsed = parseCampaign(parsedJson);
    const campaignId = parsed.ok ? parsed.campaign.campaignId : (parsed.campaignId ?? keyId);
    const reasons = parsed.ok ? [] : [...parsed.reasons];
    if (keyId !== null && campaignId !== null && keyId !== campaignId) {
      reasons.push(`the record key ${record.key} does not match campaign_id ${campaignId}`);
    }
    if (record.key !== null && keyId === null) {
      reasons.push(`the record key must be the campaign id, got ${JSON.stringify(record.key)}`);
    }
    let compiled: CompiledFilterLike | undefined;
    const filter = (parsedJson as { filter?: unknown } | null)?.filter;
    if (typeof filter === "string" && filter.trim() !== "") {
      try {
        compiled = await this.#options.compiler.compile(filter);
      } catch (error) {
        reasons.push(
          error instanceof FilterError
            ? `filter: ${error.message}`
            : `filter could not be compiled: ${errorMessage(error)}`,
        );
      }
    }
    if (!parsed.ok || reasons.length > 0 || !compiled) {
      for (const id of new Set([campaignId, keyId])) if (id !== null) this.#remove(id);
      return status(campaignId, "rejected", { reasons });
    }
    const campaign = parsed.campaign;
    const quarantined = this.#options.quarantined?.(campaign.versionKey);
    if (quarantined !== undefined) {
      this.#remove(campaign.campaignId);
      return status(campaign.campaignId, "quarantined", {
        reasons: [`this version was quarantined earlier: ${quarantined}`],
        version: campaign.versionKey,
        filter_artefact: compiled.hash,
      });
    }
    this.#put(activeCampaign(campaign, compiled, this.#options.limitsFor(campaign.campaignId)));
    return status(campaign.campaignId, "accepted", {
      version: campaign.versionKey,
      filter_artefact: compiled.hash,
    });
  }

  /**
   * Takes campaign version `versionKey` out of evaluation (its filter kept being stopped by the sandbox) until a
   * new version is written. Null when that version is not the campaign's current one.
   */
  quarantine(campaignId: number, versionKey: string, reason: string, source: string): CampaignStatus | null {
    const active = this.#byId.get(campaignId);
    if (!active || active.campaign.versionKey !== versionKey) return null;
    this.#remove(campaignId);
    return {
      campaign_id: campaignId,
      status: "quarantined",
      reasons: [reason],
      version: versionKey,
      filter_artefact: active.artefact,
      source,
      at: (this.#options.now?.() ?? new Date()).toISOString(),
    };
  }

  #put(active: ActiveCampaign): void {
    this.#remove(active.campaign.campaignId);
    this.#byId.set(active.campaign.campaignId, active);
    const key = routeKey(active.campaign.game, active.campaign.eventName);
    // Inserted where it belongs rather than sorted again: 10,000 campaigns on few routes load in O(n) per put.
    let route = this.#routes.get(key);
    if (!route) this.#routes.set(key, (route = []));
    this.#snapshots.delete(key);
    const id = active.campaign.campaignId;
    let lo = 0;
    let hi = route.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((route[mid] as ActiveCampaign).campaign.campaignId < id) lo = mid + 1;
      else hi = mid;
    }
    route.splice(lo, 0, active);
  }

  #remove(campaignId: number): void {
    const old = this.#byId.get(campaignId);
    if (!old) return;
    this.#byId.delete(campaignId);
    const key = routeKey(old.campaign.game, old.campaign.eventName);
    const route = this.#routes.get(key) ?? [];
    const at = route.indexOf(old);
    if (at >= 0) route.splice(at, 1);
    if (route.length === 0) this.#routes.delete(key);
    this.#snapshots.delete(key);
    this.#options.onRemoved?.(old);
  }
}

function parseKey(key: string): number | null {
  const trimmed = key.trim();
  if (!/^-?\d+$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return Number.isSafeInteger(n) ? n : null;
}
