// One campaign's history: its versions still on the compacted campaign topic (puts and tombstones, with who wrote
// them from the audit headers) and the engine's status records about them, merged into one timeline. Both topics
// are compacted, so older versions and statuses last only until compaction removes them.
import { auditFromHeaders, type AuditFields } from "../campaigns/audit-headers.js";
import { parseCampaign } from "../campaigns/campaign.js";
import { parseStatusRecord, type CampaignStatus } from "../campaigns/status.js";
import type { RdSettings } from "../kafka/settings.js";
import { decodeCampaignRecord } from "./campaign-client.js";
import { DEFAULT_TIMEOUT_MS, readToEnd, type ClientRecord } from "./kafka-io.js";

/** One record of the campaign on the campaign topic, with the engine's status records about it. */
export interface HistoryVersion extends AuditFields {
  readonly kind: "version";
  /** topic/partition/offset: the `source` of the engine's status records about it. */
  readonly source: string;
  readonly partition: number;
  readonly offset: number;
  /** The record's Kafka timestamp, ISO-8601 UTC. */
  readonly timestamp: string;
  readonly record: "put" | "deleted";
  /** sha256 of the campaign as the engine hashes it (its status `version`), when the record is a valid campaign. */
  readonly version?: string;
  /** The record as written (parsed JSON, or the text when it is not JSON); absent for a tombstone. */
  readonly value?: unknown;
  /** The engine's status records for this very record, in the order written (one per engine start that read it). */
  readonly statuses: readonly CampaignStatus[];
}

/**
 * A status record whose campaign record is no longer on the campaign topic (compacted away), or that is about no
 * record at all (a quarantine the engine decided for a version that is gone).
 */
export interface HistoryStatus {
  readonly kind: "status";
  readonly status: CampaignStatus;
}

export type TimelineEntry = HistoryVersion | HistoryStatus;

export interface CampaignHistory {
  readonly campaign_id: number;
  readonly campaign_topic: string;
  readonly status_topic: string;
  /** Oldest first; every version followed by (holding) its status records. */
  readonly timeline: readonly TimelineEntry[];
}

export interface HistoryTopics {
  readonly campaign_topic: string;
  readonly campaign_status_topic: string;
}

/** Reads both topics from the beginning to their current ends and merges what they hold about `campaignId`. */
export async function readCampaignHistory(
  settings: RdSettings,
  topics: HistoryTopics,
  campaignId: number,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<CampaignHistory> {
  const [campaignRecords, statusRecords] = await Promise.all([
    readToEnd(settings, topics.campaign_topic, timeoutMs),
    readToEnd(settings, topics.campaign_status_topic, timeoutMs),
  ]);
  const versions = campaignVersions(topics.campaign_topic, campaignRecords, campaignId);
  const statuses = statusRecords
    .map((r) => parseStatusRecord(r.value))
    .filter((s): s is CampaignStatus => s !== null);
  return {
    campaign_id: campaignId,
    campaign_topic: topics.campaign_topic,
    status_topic: topics.campaign_status_topic,
    timeline: mergeTimeline(campaignId, versions, statuses),
  };
}

/** The records of `campaignId` on the campaign topic (keyed by it, or naming it inside), without statuses. */
export function campaignVersions(
  topic: string,
  records: readonly ClientRecord[],
  campaignId: number,
): HistoryVersion[] {
  const out: HistoryVersion[] = [];
  for (const r of records) {
    const decoded = decodeCampaignRecord(r.key, r.value);
    if (decoded === null || decoded.campaignId !== campaignId) continue;
    const parsed = decoded.tombstone ? null : parseCampaign(decoded.value);
    out.push({
      kind: "version",
      source: `${topic}/${r.partition}/${r.offset}`,
      partition: r.partition,
      offset: r.offset,
      timestamp: new Date(r.timestamp).toISOString(),
      record: decoded.tombstone ? "deleted" : "put",
      ...auditFromHeaders(r.headers),
      ...(parsed?.ok ? { version: parsed.campaign.versionKey } : {}),
      ...(decoded.tombstone ? {} : { value: decoded.value }),
      statuses: [],
    });
  }
  return out;
}

/**
 * The timeline of one campaign: its versions oldest first (offset order within a partition), each holding the
 * status records whose `source` is that record. A quarantine the engine decided (`source` "engine") goes with the
 * last version of the same `version` hash. Other status records of the campaign whose record is gone stand on
 * their own, placed by their `at` among the versions' timestamps.
 */
export function mergeTimeline(
  campaignId: number,
  versions: readonly HistoryVersion[],
  statuses: readonly CampaignStatus[],
): TimelineEntry[] {
  const ordered = inOrder(versions).map((v) => ({ ...v, statuses: [...v.statuses] }));
  const bySource = new Map(ordered.map((v) => [v.source, v]));
  const orphans: CampaignStatus[] = [];
  for (const status of statuses) {
    const own = bySource.get(status.source);
    if (own) {
      own.statuses.push(status);
      continue;
    }
    if (status.campaign_id !== campaignId) continue;
    const sameVersion =
      status.version === undefined ? undefined : ordered.findLast((v) => v.version === status.version);
    if (sameVersion) sameVersion.statuses.push(status);
    else orphans.push(status);
  }
  const timeline: TimelineEntry[] = [];
  let next = 0;
  for (const v of ordered) {
    const before = Date.parse(v.timestamp);
    while (next < orphans.length && timeOf(orphans[next] as CampaignStatus) < before) {
      timeline.push({ kind: "status", status: orphans[next++] as CampaignStatus });
    }
    timeline.push(v);
  }
  for (; next < orphans.length; next++)
    timeline.push({ kind: "status", status: orphans[next] as CampaignStatus });
  return timeline;
}

/** When the engine wrote a status record; one without a readable time goes last. */
function timeOf(status: CampaignStatus): number {
  const t = Date.parse(status.at);
  return Number.isNaN(t) ? Infinity : t;
}

/**
 * Offset order within each partition (the order the broker holds them in, whatever the writers' clocks said), and
 * across partitions (a record keyed otherwise than by its id) by timestamp.
 */
function inOrder(versions: readonly HistoryVersion[]): HistoryVersion[] {
  const lanes = new Map<number, HistoryVersion[]>();
  for (const v of versions) {
    let lane = lanes.get(v.partition);
    if (!lane) lanes.set(v.partition, (lane = []));
    lane.push(v);
  }
  const queues = [...lanes.values()].map((lane) => lane.sort((a, b) => a.offset - b.offset));
  const out: HistoryVersion[] = [];
  for (;;) {
    let pick: HistoryVersion[] | undefined;
    for (const q of queues) {
      const head = q[0];
      if (head && (!pick || Date.parse(head.timestamp) < Date.parse((pick[0] as HistoryVersion).timestamp)))
        pick = q;
    }
    if (!pick) return out;
    out.push(pick.shift() as HistoryVersion);
  }
}
