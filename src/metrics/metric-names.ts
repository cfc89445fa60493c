// The engine's metric names in one place.

/** The metric names; dashboards and the UI read them, so they do not change. */
export const METRIC_NAMES = {
  eventsConsumed: "rtcrm_events_consumed_total",
  triggersProduced: "rtcrm_triggers_produced_total",
  deadLettered: "rtcrm_dead_lettered_total",
  campaignMatches: "rtcrm_campaign_matches_total",
  campaignErrors: "rtcrm_campaign_errors_total",
  campaignFuelExhausted: "rtcrm_campaign_fuel_exhausted_total",
  campaignEvaluationSeconds: "rtcrm_campaign_evaluation_seconds",
  poolQueueDepth: "rtcrm_pool_queue_depth",
  poolUtilization: "rtcrm_pool_utilization",
  poolWorkers: "rtcrm_pool_workers",
  workerHeapUsedBytes: "rtcrm_worker_heap_used_bytes",
  workerHeapTotalBytes: "rtcrm_worker_heap_total_bytes",
  sandboxMemoryBytes: "rtcrm_sandbox_memory_bytes",
  sandboxHeapBytes: "rtcrm_sandbox_heap_bytes",
  sandboxCampaignsBytes: "rtcrm_sandbox_campaigns_bytes",
  sandboxMemoryResets: "rtcrm_sandbox_memory_resets",
  workerFilters: "rtcrm_worker_filters_loaded",
  consumerLag: "rtcrm_consumer_lag",
  commitLatencySeconds: "rtcrm_commit_latency_seconds",
  campaignsActive: "rtcrm_campaigns_active",
  evaluationPairs: "rtcrm_evaluation_pairs_total",
} as const;
