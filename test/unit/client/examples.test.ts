// The "Generate example" buttons must give a pair that matches when sent as generated.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { checkCampaignRecord } from "../../../src/client/check-campaign.js";
import { skipReason } from "../../../src/evaluation/evaluate.js";
import { exampleCampaign, exampleEvent } from "../../../src/client/examples.js";

test("the example campaign is valid, compiles, and is running now for the example event", () => {
  const now = Date.parse("2026-03-04T05:06:07.890Z");
  const record = exampleCampaign(now);
  assert.equal(record.campaign_id, 4711);
  assert.deepEqual(Object.keys(record), [
    "campaign_id",
    "enabled",
    "game",
    "event_name",
    "start_date",
    "end_date",
    "filter",
  ]);
  const checked = checkCampaignRecord(record);
  assert.ok(checked.ok, JSON.stringify(checked));
  const event = exampleEvent(now);
  assert.equal(skipReason(checked.campaign, event, now), null);
  // Its window still holds weeks later, so a page left open keeps working.
  assert.equal(skipReason(checked.campaign, event, now + 20 * 86_400_000), null);
});

test("the example campaign takes the next free id; every example event has its own event_id", () => {
  assert.equal(exampleCampaign(0, new Set([4711, 4712, 4714])).campaign_id, 4713);
  assert.notEqual(exampleEvent(0).event_id, exampleEvent(0).event_id);
  const parsed = parseCampaign(exampleCampaign(Date.now()));
  assert.ok(parsed.ok);
});
