// Options that several commands share: their help lines and specs.

export const CONFIG_OPTION = `  --config FILE      the engine's configuration file (topics, brokers, kafka settings); defaults and
                     RTCRM_* environment variables apply as for the engine (RTCRM_KAFKA_BOOTSTRAP_SERVERS=...)`;
export const TIMEOUT_OPTION = `  --timeout SECONDS  how long to wait for Kafka (default 30)`;
export const timeout = { timeout: { type: "string" } } as const;
