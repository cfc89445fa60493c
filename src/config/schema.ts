// Every configuration key, its type, default and meaning: the one source for validation, defaults,
// environment overrides and the README's configuration reference.

export type Scalar = string | number | boolean;

interface KeyBase {
  readonly description: string;
}
export type KeySpec =
  | (KeyBase & { readonly type: "string"; readonly default: string; readonly oneOf?: readonly string[] })
  | (KeyBase & {
      readonly type: "integer";
      readonly default: number | null;
      readonly min: number;
      readonly max: number;
    })
  | (KeyBase & { readonly type: "boolean"; readonly default: boolean })
  | (KeyBase & {
      readonly type: "map";
      readonly default: Record<string, Scalar>;
      readonly values: "integer" | "scalar";
    });

export const SCHEMA = {
  kafka_bootstrap_servers: {
    type: "string",
    default: "localhost:9093",
    description: "Kafka brokers, host:port[,host:port...]",
  },
  kafka_group_id: {
    type: "string",
    default: "rtcrm",
    description: "consumer group of the events topic; instances in one group share its partitions",
  },
  event_topic: { type: "string", default: "events-valid", description: "interaction events (in)" },
  campaign_topic: {
    type: "string",
    default: "crm-campaigns",
    description: "campaigns (in, compacted, key = campaign_id)",
  },
  trigger_topic: { type: "string", default: "crm-triggers", description: "triggers (out, key = player_id)" },
  dead_letter_topic: {
    type: "string",
    default: "events-dlq",
    description: "malformed events with the reason in headers (out)",
  },
  campaign_status_topic: {
    type: "string",
    default: "crm-campaign-status",
    description: "accepted/rejected/deleted/quarantined campaigns (out, key = campaign_id)",
  },
  holdout_topic: {
    type: "string",
    default: "crm-holdouts",
    description:
      "what a held-out player would have been sent: the trigger's record, for measuring uplift (out, key = player_id)",
  },
  events_keyed_by_player: {
    type: "boolean",
    default: false,
    description:
      "events are keyed by player_id, so delivery rules keep their state in the event's partition; otherwise matches with rules go through rules_repartition_topic",
  },
  rules_repartition_topic: {
    type: "string",
    default: "{kafka_group_id}-rules-repartition",
    description:
      "internal: matches that need delivery rules, keyed and partitioned by player (unless events_keyed_by_player)",
  },
  rules_changelog_topic: {
    type: "string",
    default: "{kafka_group_id}-rules-changelog",
    description:
      "internal: per-player delivery-rule state (compacted, key = player_id), restored when partitions are assigned",
  },
  state_dir: {
    type: "string",
    default: "state",
    description: "local store (LMDB) of the delivery-rule state; a cache of rules_changelog_topic",
  },
  global_frequency_cap: {
    type: "map",
    default: {},
    values: "scalar",
    description:
      'at most max triggers per player over all campaigns per rolling period, e.g. {"max": 3, "period": "P1D"}; {} for none',
  },
  create_topics: {
    type: "boolean",
    default: true,
    description:
      "create missing topics at start (campaign and status topics compacted); when false, a missing topic stops the start",
  },
  new_topic_partitions: {
    type: "integer",
    default: 3,
    min: 1,
    max: 10_000,
    description: "partitions of the events, trigger and dead-letter topics the engine creates",
  },
  auto_offset_reset: {
    type: "string",
    default: "earliest",
    oneOf: ["earliest", "latest"],
    description: "where a new consumer group starts on the events topic",
  },
  workers: {
    type: "integer",
    default: null,
    min: 1,
    max: 256,
    description: "evaluation worker threads; default: cores minus one, at least one",
  },
  batch_size: {
    type: "integer",
    default: 256,
    min: 1,
    max: 100_000,
    description: "events per batch sent to a worker",
  },
  max_pending_events: {
    type: "integer",
    default: 20_000,
    min: 1,
    max: 10_000_000,
    description: "events fetched but not yet committed, across partitions, beyond which fetching pauses",
  },
  fuel_per_evaluation: {
    type: "integer",
    default: 1_000_000,
    min: 1,
    max: 1_000_000_000_000,
    description: "fuel budget of one filter call (units: see README, Limits)",
  },
  fuel_overrides: {
    type: "map",
    default: {},
    values: "integer",
    description: 'fuel budget per campaign_id, e.g. {"4711": 5000000}',
  },
  memory_limit_bytes: {
    type: "integer",
    default: 16 * 1024 * 1024,
    min: 256 * 1024,
    max: 256 * 1024 * 1024,
    description:
      "memory one campaign may hold in a worker: its context, what it keeps between calls and what a call allocates",
  },
  worker_memory_limit_bytes: {
    type: "integer",
    default: 512 * 1024 * 1024,
    min: 32 * 1024 * 1024,
    max: 768 * 1024 * 1024,
    description:
      "memory all campaigns of one worker may hold together; when a call could pass it, the campaigns holding the most are reset first (their globals are lost)",
  },
  call_deadline_ms: {
    type: "integer",
    default: 50,
    min: 1,
    max: 60_000,
    description:
      "wall-clock limit of one filter call, checked inside the sandbox: past it the call ends as timeout",
  },
  quarantine_after: {
    type: "integer",
    default: 3,
    min: 1,
    max: 1_000_000,
    description:
      "calls of one campaign version that the sandbox had to stop (timeout, out-of-fuel, out-of-memory, stack-overflow, trap, watchdog) within quarantine_window_ms, after which that version is quarantined (README, Quarantine)",
  },
  quarantine_window_ms: {
    type: "integer",
    default: 60_000,
    min: 1,
    max: 86_400_000,
    description: "the window in which quarantine_after stopped calls quarantine a campaign version",
  },
  watchdog_ms: {
    type: "integer",
    default: 5_000,
    min: 10,
    max: 600_000,
    description:
      "wall-clock limit of one batch in a worker, for faults of the engine itself (call_deadline_ms stops filters); past it the worker is restarted and the pair at fault isolated",
  },
  time_basis: {
    type: "string",
    default: "processing-time",
    oneOf: ["processing-time", "created-at"],
    description: "instant checked against start_date/end_date: processing time, or the event's created_at",
  },
  delivery: {
    type: "string",
    default: "at-least-once",
    oneOf: ["at-least-once", "exactly-once"],
    description:
      "delivery guarantee of triggers and dead-letter records: at-least-once, or exactly-once with Kafka transactions (see README, Guarantees)",
  },
  transactional_id: {
    type: "string",
    default: "",
    description:
      "exactly-once only: the producer's transactional.id, unique per instance and stable across its restarts (a restart then aborts what the previous run left open); default rtcrm-<group>-<hostname>",
  },
  group_instance_id: {
    type: "string",
    default: "",
    description:
      'static membership in the consumer group: the group.instance.id of this instance, unique per instance and stable across its restarts (a restarted instance takes its partitions back without a rebalance); default transactional_id when set, else rtcrm-<group>-<hostname>; "none" for dynamic membership',
  },
  session_timeout_ms: {
    type: "integer",
    default: 30_000,
    min: 6_000,
    max: 1_800_000,
    description:
      "how long the group waits for a member that stopped heartbeating (a crash) before its partitions go to the others; a restart within it takes them back without a rebalance (README, Recovery)",
  },
  http_port: {
    type: "integer",
    default: 9464,
    min: 0,
    max: 65_535,
    description: "port of the /metrics, /healthz and /readyz HTTP endpoints; 0 disables them",
  },
  http_host: {
    type: "string",
    default: "0.0.0.0",
    description: "address the HTTP endpoints listen on",
  },
  commit_interval_ms: {
    type: "integer",
    default: 1_000,
    min: 10,
    max: 600_000,
    description: "how often processed offsets are committed",
  },
  shutdown_timeout_ms: {
    type: "integer",
    default: 30_000,
    min: 100,
    max: 600_000,
    description: "deadline of a graceful stop; past it the engine exits non-zero and duplicates are possible",
  },
  filters_compiled_dir: {
    type: "string",
    default: "filters-compiled",
    description: "where compiled filter artefacts are cached (content-addressed)",
  },
  log_level: {
    type: "string",
    default: "info",
    oneOf: ["debug", "info", "warn", "error"],
    description: "lowest level logged (JSON lines on stderr)",
  },
  ui_auth: {
    type: "string",
    default: "none",
    oneOf: ["none", "password", "proxy"],
    description:
      "web UI log-in: none (only on a loopback address, or with --insecure-no-auth), password (ui_users, ui_tokens) or proxy (an identity header from ui_trusted_proxies); see README, Security",
  },
  ui_users: {
    type: "map",
    default: {},
    values: "scalar",
    description:
      'password log-in: user name -> scrypt hash from `rtcrm ui password` (never the password itself), e.g. {"alice": "scrypt$16384$8$1$..."}',
  },
  ui_tokens: {
    type: "map",
    default: {},
    values: "scalar",
    description:
      "API tokens for scripts (header Authorization: Bearer <token>): name -> SHA-256 of the token in hex, from `rtcrm ui token`",
  },
  ui_roles: {
    type: "map",
    default: {},
    values: "scalar",
    description:
      "role of each user, token or proxy identity: editor (writes campaigns and events) or viewer (reads); anyone not listed is a viewer",
  },
  ui_session_ttl_s: {
    type: "integer",
    default: 28_800,
    min: 1,
    max: 2_592_000,
    description: "lifetime of a log-in session in seconds (absolute, from the log-in)",
  },
  ui_session_secret: {
    type: "string",
    default: "",
    description:
      "key that signs session cookies (at least 32 characters; set it through RTCRM_UI_SESSION_SECRET); empty: a random key per process, so a restart logs everyone out",
  },
  ui_cookie_secure: {
    type: "boolean",
    default: false,
    description:
      "mark the session cookie Secure (send it over HTTPS only): set it when the UI is served through TLS",
  },
  ui_allowed_hosts: {
    type: "string",
    default: "",
    description:
      "host names the UI answers to besides loopback names and IP addresses, comma-separated (e.g. crm.example.com); any other Host header gets 421 (DNS rebinding)",
  },
  ui_trusted_proxies: {
    type: "string",
    default: "",
    description:
      "proxy log-in: addresses or CIDR ranges of the reverse proxies whose identity header is believed, comma-separated; requests from anywhere else are refused",
  },
  ui_proxy_user_header: {
    type: "string",
    default: "x-forwarded-user",
    description: "proxy log-in: the request header that carries the authenticated user's name",
  },
  kafka: {
    type: "map",
    default: {},
    values: "scalar",
    description:
      'extra librdkafka settings for every client, e.g. {"security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN"}',
  },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof SCHEMA;

/** Keys of the seed's config.json that have another name or no meaning here. */
export const SEED_KEYS: Readonly<Record<string, { replacedBy: ConfigKey | null; note: string }>> = {
  default_parallelism: {
    replacedBy: "workers",
    note: "the seed's Flink parallelism is the worker count here",
  },
  checkpoint_interval: {
    replacedBy: "commit_interval_ms",
    note: "offsets are committed instead of Flink checkpoints",
  },
  checkpoint_dir: {
    replacedBy: null,
    note: "no checkpoint directory: state is the campaign topic and committed offsets",
  },
};
