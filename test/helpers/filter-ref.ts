// FilterRefs and ActiveCampaigns built by hand, the way the engine builds them (campaigns/campaign-set.ts): the
// predicate from the compiled filter, and the share key set only for a stateless filter, from its artefact and
// limits. Tests that must reach the sandbox override `predicate` (and `shareKey`) deliberately, saying why.
import {
  activeCampaign,
  type CompiledFilterLike,
  type FilterLimits,
} from "../../src/campaigns/campaign-set.js";
import type { Campaign } from "../../src/campaigns/campaign.js";
import type { FilterRef } from "../../src/pool/protocol.js";

export { activeCampaign, type FilterLimits } from "../../src/campaigns/campaign-set.js";

/** The FilterRef the batch builder would send for that campaign (what a worker needs of it). */
export function filterRef(campaign: Campaign, compiled: CompiledFilterLike, limits: FilterLimits): FilterRef {
  const { module, access, accessKey, predicate, shareKey, fuel, memoryBytes, deadlineMs } = activeCampaign(
    campaign,
    compiled,
    limits,
  );
  return { campaign, module, access, accessKey, predicate, shareKey, fuel, memoryBytes, deadlineMs };
}
