// FilterRefs and ActiveCampaigns built by hand, the way the engine builds them (campaigns/campaign-set.ts): the
// predicate from the compiled filter, and the share key set only for a stateless filter, from its artefact and
// limits. Tests that must reach the sandbox override `predicate` (and `shareKey`) deliberately, saying why.
import type { ActiveCampaign, CompiledFilterLike } from "../../src/campaigns/campaign-set.js";
import type { Campaign } from "../../src/campaigns/campaign.js";
import type { FilterRef } from "../../src/pool/protocol.js";

export interface FilterLimits {
  readonly fuel: number;
  readonly memoryBytes: number;
  readonly deadlineMs: number;
}

/** The share key campaign-set.ts gives a compiled filter under `limits`: null unless the filter is stateless. */
export function shareKeyOf(compiled: CompiledFilterLike, limits: FilterLimits): string | null {
  return compiled.stateless === true
    ? `${compiled.hash}:${limits.fuel}:${limits.memoryBytes}:${limits.deadlineMs}`
    : null;
}

/** The active campaign the campaign set would make of `campaign` with its compiled filter and limits. */
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
    shareKey: shareKeyOf(compiled, limits),
    fuel: limits.fuel,
    memoryBytes: limits.memoryBytes,
    deadlineMs: limits.deadlineMs,
  };
}

/** The FilterRef the batch builder would send for that campaign (what a worker needs of it). */
export function filterRef(campaign: Campaign, compiled: CompiledFilterLike, limits: FilterLimits): FilterRef {
  const { module, access, accessKey, predicate, shareKey, fuel, memoryBytes, deadlineMs } = activeCampaign(
    campaign,
    compiled,
    limits,
  );
  return { campaign, module, access, accessKey, predicate, shareKey, fuel, memoryBytes, deadlineMs };
}
