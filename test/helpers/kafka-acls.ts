// Kafka ACLs for the tests: what each component needs (README, Kafka permissions), and Kafka's own AclCommand
// (from the broker's jars, run as an admin over SASL) to create them.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const LIBS = join(process.env.RTCRM_KAFKA_DIR ?? join(REPO, ".kafka"), "libs");

export interface AclEntry {
  readonly resource: "topic" | "group" | "transactional-id";
  readonly name: string;
  /** The name is a prefix (kafka-acls --resource-pattern-type prefixed). */
  readonly prefixed?: boolean;
  readonly operations: readonly ("Read" | "Write" | "Describe")[];
}

/** The engine's settings that name Kafka resources. */
export interface EngineNames {
  readonly kafka_group_id: string;
  readonly event_topic: string;
  readonly campaign_topic: string;
  readonly campaign_status_topic: string;
  readonly trigger_topic: string;
  readonly dead_letter_topic: string;
  readonly holdout_topic: string;
}

/** What the engine needs, no more: topics it reads and writes, its group, and (exactly-once) its transactional id. */
export function engineAcls(c: EngineNames, exactlyOnce: boolean): AclEntry[] {
  const group = c.kafka_group_id;
  return [
    { resource: "topic", name: c.event_topic, operations: ["Read"] },
    { resource: "topic", name: c.campaign_topic, operations: ["Read"] },
    { resource: "topic", name: c.campaign_status_topic, operations: ["Read", "Write"] },
    { resource: "topic", name: c.trigger_topic, operations: ["Write"] },
    { resource: "topic", name: c.dead_letter_topic, operations: ["Write"] },
    { resource: "topic", name: c.holdout_topic, operations: ["Write"] },
    { resource: "topic", name: `${group}-rules-repartition`, operations: ["Read", "Write"] },
    { resource: "topic", name: `${group}-rules-changelog`, operations: ["Read", "Write"] },
    { resource: "group", name: group, operations: ["Read"] },
    // Consumers that only assign partitions and never commit; their group ids are random under these prefixes.
    { resource: "group", name: "rtcrm-campaigns-", prefixed: true, operations: ["Describe"] },
    { resource: "group", name: "rtcrm-restore-", prefixed: true, operations: ["Describe"] },
    ...(exactlyOnce
      ? [
          // The default transactional_id is rtcrm-<group>-<hostname>.
          {
            resource: "transactional-id",
            name: `rtcrm-${group}-`,
            prefixed: true,
            operations: ["Write"],
          } as const,
        ]
      : []),
  ];
}

/** The web UI or the CLI: follows campaigns, their status and triggers; an editor also writes campaigns and events. */
export function clientAcls(c: EngineNames, editor: boolean): AclEntry[] {
  return [
    { resource: "topic", name: c.campaign_topic, operations: editor ? ["Read", "Write"] : ["Read"] },
    { resource: "topic", name: c.campaign_status_topic, operations: ["Read"] },
    { resource: "topic", name: c.trigger_topic, operations: ["Read"] },
    ...(editor ? [{ resource: "topic", name: c.event_topic, operations: ["Write"] } as const] : []),
    { resource: "group", name: "rtcrm-cli-", prefixed: true, operations: ["Describe"] },
  ];
}

/** Runs Kafka's AclCommand/TopicCommand as a SASL/PLAIN admin against `bootstrap`. */
export class KafkaAdminTool {
  readonly #bootstrap: string;
  readonly #commandConfig: string;

  constructor(bootstrap: string, user: string, password: string, dir: string) {
    this.#bootstrap = bootstrap;
    this.#commandConfig = join(dir, `${user}.properties`);
    writeFileSync(
      this.#commandConfig,
      [
        "security.protocol=SASL_PLAINTEXT",
        "sasl.mechanism=PLAIN",
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${user}" password="${password}";`,
        "",
      ].join("\n"),
    );
  }

  async #tool(mainClass: string, args: string[]): Promise<string> {
    const { stdout } = await run(
      "java",
      [
        "-Xmx128m",
        "-Dlog4j2.configurationFile=" + join(REPO, "kafka", "log4j2.properties"),
        "-Dkafka.logs.file=/dev/null",
        "-cp",
        `${LIBS}/*`,
        mainClass,
        "--bootstrap-server",
        this.#bootstrap,
        "--command-config",
        this.#commandConfig,
        ...args,
      ],
      { timeout: 120_000 },
    );
    return stdout;
  }

  /**
   * Allows `principal` the entries' operations: one AclCommand per kind of resource, pattern and operations
   * (it adds every operation named to every resource named).
   */
  async grant(principal: string, entries: readonly AclEntry[]): Promise<void> {
    const calls = new Map<string, { entry: AclEntry; names: string[] }>();
    for (const e of entries) {
      const key = `${e.resource}|${String(e.prefixed)}|${e.operations.join(",")}`;
      const call = calls.get(key) ?? { entry: e, names: [] };
      call.names.push(e.name);
      calls.set(key, call);
    }
    for (const { entry, names } of calls.values()) {
      await this.#tool("org.apache.kafka.tools.AclCommand", [
        "--add",
        "--allow-principal",
        principal,
        ...entry.operations.flatMap((op) => ["--operation", op]),
        ...names.flatMap((name) => [`--${entry.resource}`, name]),
        ...(entry.prefixed ? ["--resource-pattern-type", "prefixed"] : []),
      ]);
    }
  }

  /** The ACLs of `principal` as AclCommand lists them. */
  list(principal: string): Promise<string> {
    return this.#tool("org.apache.kafka.tools.AclCommand", ["--list", "--principal", principal]);
  }
}
