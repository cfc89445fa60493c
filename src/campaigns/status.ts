// Records of the campaign status topic: what became of each campaign record, keyed by campaign id.

export type CampaignStatusKind = "accepted" | "rejected" | "deleted" | "quarantined";

export interface CampaignStatus {
  readonly campaign_id: number | null;
  readonly status: CampaignStatusKind;
  /** What to change (rejected) or what happened (quarantined). */
  readonly reasons?: readonly string[];
  /** sha256 of the campaign as accepted. */
  readonly version?: string;
  /** Content hash of the compiled filter artefact in filters-compiled/. */
  readonly filter_artefact?: string;
  /** topic/partition/offset of the campaign record. */
  readonly source: string;
  readonly at: string;
  /**
   * Who wrote the campaign record, when and through what (`ui`, `cli`), as its writer asserted in the record's
   * headers (src/campaigns/audit-headers.ts); absent when the record has no such header (e.g. written by kcat).
   */
  readonly written_by?: string;
  readonly written_at?: string;
  readonly written_via?: string;
}

/** A record of the status topic as the engine writes it (status and source present), or null for anything else. */
export function parseStatusRecord(value: Buffer | null | undefined): CampaignStatus | null {
  if (!value || value.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString("utf8"));
  } catch {
    return null;
  }
  const s = parsed as Partial<CampaignStatus> | null;
  return typeof s === "object" && s !== null && typeof s.status === "string" && typeof s.source === "string"
    ? (s as CampaignStatus)
    : null;
}
