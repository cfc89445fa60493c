// Loads the configuration once: defaults, then a --config file, then RTCRM_* environment variables;
// every problem is collected and reported together.
import { readFileSync } from "node:fs";
import { parseFrequencyCap, type FrequencyCap } from "../campaigns/delivery-rules.js";
import { ConfigError } from "../errors.js";
import { describeValue } from "./secrets.js";
import { checkUiAccess } from "../ui/auth/access-config.js";
import { SCHEMA, SEED_KEYS, type ConfigKey, type KeySpec, type Scalar } from "./schema.js";

export interface Config {
  kafka_bootstrap_servers: string;
  kafka_group_id: string;
  event_topic: string;
  campaign_topic: string;
  trigger_topic: string;
  dead_letter_topic: string;
  campaign_status_topic: string;
  holdout_topic: string;
  events_keyed_by_player: boolean;
  rules_repartition_topic: string;
  rules_changelog_topic: string;
  state_dir: string;
  global_frequency_cap: Record<string, Scalar>;
  create_topics: boolean;
  new_topic_partitions: number;
  auto_offset_reset: "earliest" | "latest";
  workers: number | null;
  batch_size: number;
  max_pending_events: number;
  fuel_per_evaluation: number;
  fuel_overrides: Record<string, number>;
  memory_limit_bytes: number;
  worker_memory_limit_bytes: number;
  call_deadline_ms: number;
  quarantine_after: number;
  quarantine_window_ms: number;
  watchdog_ms: number;
  time_basis: "processing-time" | "created-at";
  delivery: "at-least-once" | "exactly-once";
  transactional_id: string;
  group_instance_id: string;
  session_timeout_ms: number;
  http_port: number;
  http_host: string;
  commit_interval_ms: number;
  shutdown_timeout_ms: number;
  filters_compiled_dir: string;
  log_level: "debug" | "info" | "warn" | "error";
  ui_auth: "none" | "password" | "proxy";
  ui_users: Record<string, Scalar>;
  ui_tokens: Record<string, Scalar>;
  ui_roles: Record<string, Scalar>;
  ui_session_ttl_s: number;
  ui_session_secret: string;
  ui_cookie_secure: boolean;
  ui_allowed_hosts: string;
  ui_trusted_proxies: string;
  ui_proxy_user_header: string;
  kafka: Record<string, Scalar>;
}

export interface LoadedConfig {
  readonly config: Config;
  /** Things worth telling the operator that are not errors (e.g. a seed key mapped to its new name). */
  readonly warnings: string[];
}

export function defaults(): Config {
  return withGroupNames(schemaDefaults()) as unknown as Config;
}

/** The schema's defaults as written (names of internal topics still hold "{kafka_group_id}"). */
function schemaDefaults(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SCHEMA)) {
    out[key] = spec.type === "map" ? { ...spec.default } : spec.default;
  }
  return out;
}

/** Internal topics belong to one consumer group (another group's engine must never read them): "{kafka_group_id}". */
function withGroupNames(config: Record<string, unknown>): Record<string, unknown> {
  for (const key of ["rules_repartition_topic", "rules_changelog_topic"] as const) {
    const value = config[key];
    if (typeof value === "string" && typeof config.kafka_group_id === "string")
      config[key] = value.replaceAll("{kafka_group_id}", config.kafka_group_id);
  }
  return config;
}

/** librdkafka's default max.poll.interval.ms, which session.timeout.ms must not exceed. */
const MAX_POLL_INTERVAL_MS = 300_000;

/** librdkafka settings of the group membership that the engine derives from its own keys (README, Recovery). */
const MEMBERSHIP_PROPERTIES: Readonly<Record<string, ConfigKey>> = {
  "group.instance.id": "group_instance_id",
  "session.timeout.ms": "session_timeout_ms",
  "heartbeat.interval.ms": "session_timeout_ms",
};

function checkValue(key: string, spec: KeySpec, value: unknown, problems: string[]): unknown {
  switch (spec.type) {
    case "string":
      if (typeof value !== "string" || value === "") {
        problems.push(`${key}: expected a non-empty string, got ${describeValue(key, value)}`);
      } else if (spec.oneOf && !spec.oneOf.includes(value)) {
        problems.push(
          `${key}: expected one of ${spec.oneOf.map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(value)}`,
        );
      }
      return value;
    case "integer":
      if (value === null && spec.default === null) return null;
      if (typeof value !== "number" || !Number.isInteger(value)) {
        problems.push(`${key}: expected an integer, got ${describeValue(key, value)}`);
      } else if (value < spec.min || value > spec.max) {
        problems.push(`${key}: must be between ${spec.min} and ${spec.max}, got ${value}`);
      }
      return value;
    case "boolean":
      if (typeof value !== "boolean")
        problems.push(`${key}: expected true or false, got ${describeValue(key, value)}`);
      return value;
    case "map": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${key}: expected an object, got ${describeValue(key, value, true)}`);
        return value;
      }
      for (const [k, v] of Object.entries(value)) {
        if (spec.values === "integer") {
          if (!/^-?\d+$/.test(k)) problems.push(`${key}: keys are campaign ids, got ${JSON.stringify(k)}`);
          if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
            problems.push(`${key}.${k}: expected a positive integer, got ${describeValue(k, v)}`);
          }
        } else if (!["string", "number", "boolean"].includes(typeof v)) {
          problems.push(`${key}.${k}: expected a string, number or boolean, got ${describeValue(k, v)}`);
        }
      }
      return value;
    }
  }
}

function parseEnvValue(spec: KeySpec, text: string): unknown {
  if (spec.type === "string") return text;
  if (spec.type === "integer")
    return text === "" && spec.default === null ? null : /^-?\d+$/.test(text) ? Number(text) : text;
  if (spec.type === "boolean") return text === "true" ? true : text === "false" ? false : text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Builds the configuration from defaults, an optional JSON file and the environment
 * (RTCRM_<KEY> for a key, e.g. RTCRM_WORKERS=4; RTCRM_KAFKA__SASL_USERNAME=x for kafka["sasl.username"]).
 * Throws ConfigError listing every problem.
 */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const warnings: string[] = [];
  const merged = schemaDefaults();

  const apply = (source: string, raw: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(raw)) {
      const seed = SEED_KEYS[key];
      if (seed) {
        if (seed.replacedBy === null) {
          warnings.push(`${source}: ${key} is ignored (${seed.note})`);
          continue;
        }
        const target = seed.replacedBy;
        if (key in raw && target in raw) {
          problems.push(`${source}: both ${key} and ${target} are set; keep ${target}`);
          continue;
        }
        warnings.push(`${source}: ${key} is read as ${target} (${seed.note})`);
        merged[target] = checkValue(target, SCHEMA[target], value, problems);
        continue;
      }
      if (!(key in SCHEMA)) {
        problems.push(
          `${source}: unknown key ${JSON.stringify(key)}; known keys: ${Object.keys(SCHEMA).join(", ")}`,
        );
        continue;
      }
      const spec: KeySpec = SCHEMA[key as ConfigKey];
      merged[key] = checkValue(`${source}: ${key}`, spec, value, problems);
    }
  };

  if (options.file !== undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(options.file, "utf8");
    } catch (error) {
      problems.push(
        `${options.file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
    if (text !== undefined) {
      try {
        const raw = JSON.parse(text) as unknown;
        if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
          problems.push(`${options.file}: expected a JSON object`);
        } else {
          apply(options.file, raw as Record<string, unknown>);
        }
      } catch (error) {
        problems.push(`${options.file}: not valid JSON (${(error as Error).message})`);
      }
    }
  }

  const fromEnv: Record<string, unknown> = {};
  const kafkaExtra: Record<string, Scalar> = {};
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith("RTCRM_") || text === undefined) continue;
    if (name.startsWith("RTCRM_KAFKA__")) {
      kafkaExtra[name.slice("RTCRM_KAFKA__".length).toLowerCase().replace(/_/g, ".")] = text;
      continue;
    }
    const key = name.slice("RTCRM_".length).toLowerCase();
    if (key in SCHEMA) fromEnv[key] = parseEnvValue(SCHEMA[key as ConfigKey], text);
  }
  apply("environment", fromEnv);
  if (Object.keys(kafkaExtra).length > 0) {
    merged.kafka = { ...(merged.kafka as Record<string, Scalar>), ...kafkaExtra };
  }

  const perCampaign = merged["memory_limit_bytes"];
  const perWorker = merged["worker_memory_limit_bytes"];
  if (typeof perCampaign === "number" && typeof perWorker === "number" && perWorker < 2 * perCampaign) {
    problems.push(
      `worker_memory_limit_bytes (${perWorker}) must be at least twice memory_limit_bytes (${perCampaign}), so that one campaign's call always fits beside the others`,
    );
  }

  const kafkaMap = merged["kafka"];
  if (typeof kafkaMap === "object" && kafkaMap !== null) {
    for (const [property, key] of Object.entries(MEMBERSHIP_PROPERTIES))
      if (property in kafkaMap) problems.push(`kafka.${property}: set ${key} instead`);
    // librdkafka refuses a session timeout above the poll interval.
    const pollMs = Number(
      (kafkaMap as Record<string, Scalar>)["max.poll.interval.ms"] ?? MAX_POLL_INTERVAL_MS,
    );
    const sessionMs = merged["session_timeout_ms"];
    if (typeof sessionMs === "number" && sessionMs > pollMs)
      problems.push(
        `session_timeout_ms (${sessionMs}) must not exceed kafka.max.poll.interval.ms (${pollMs}; librdkafka's default ${MAX_POLL_INTERVAL_MS}): raise that too`,
      );
  }

  withGroupNames(merged);
  const globalCap = merged["global_frequency_cap"];
  if (typeof globalCap === "object" && globalCap !== null && Object.keys(globalCap).length > 0)
    parseFrequencyCap(globalCap, "global_frequency_cap", problems);

  checkUiAccess(merged as unknown as Config, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return { config: merged as unknown as Config, warnings };
}

/** The engine's cap over all campaigns per player, or null when there is none ({}). Valid after loadConfig. */
export function globalFrequencyCap(config: Pick<Config, "global_frequency_cap">): FrequencyCap | null {
  if (Object.keys(config.global_frequency_cap).length === 0) return null;
  return parseFrequencyCap(config.global_frequency_cap, "global_frequency_cap", []);
}

/** The fuel budget of a campaign: its override, or the default. */
export function fuelFor(
  config: Pick<Config, "fuel_per_evaluation" | "fuel_overrides">,
  campaignId: number,
): number {
  return config.fuel_overrides[String(campaignId)] ?? config.fuel_per_evaluation;
}

/**
 * loadConfig for a process entry: an invalid configuration is written to stderr (every problem) and gives
 * null, for the caller to exit with code 2.
 */
export function loadConfigOrReport(file: string | undefined): LoadedConfig | null {
  try {
    return loadConfig(file === undefined ? {} : { file });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return null;
  }
}
