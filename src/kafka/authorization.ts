// Kafka's authorizer refusing an operation (ACLs): librdkafka's codes for it turned into KafkaAuthorizationError,
// which names the principal, the resource and the ACL an admin would add. Decided by error codes and by the
// broker's list of the operations it allows, never by the text of a message.
import rdkafka from "@confluentinc/kafka-javascript";
import { KafkaAuthorizationError, type KafkaOperation, type KafkaResourceType } from "../errors.js";
import type { RdSettings } from "./settings.js";

const { ERRORS } = rdkafka.CODES;

/** librdkafka's codes for an operation the authorizer refused, by the resource they are about. */
const REFUSED: ReadonlyMap<number, KafkaResourceType> = new Map([
  [ERRORS.ERR_TOPIC_AUTHORIZATION_FAILED, "topic"],
  [ERRORS.ERR_GROUP_AUTHORIZATION_FAILED, "group"],
  [ERRORS.ERR_CLUSTER_AUTHORIZATION_FAILED, "cluster"],
  [ERRORS.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "transactional-id"],
]);

/** A consumer's group refused (its FindCoordinator needs Describe on the group). */
export const GROUP_REFUSED_CODE = ERRORS.ERR_GROUP_AUTHORIZATION_FAILED;

/**
 * Codes of a producer that failed for good (an idempotent producer does when the cluster refuses it a producer
 * id, e.g. because its principal may write no topic at all), and of the records it then purged unsent.
 */
const FAILED_FOR_GOOD = new Set<number>([
  ERRORS.ERR__FATAL,
  ERRORS.ERR__PURGE_QUEUE,
  ERRORS.ERR__PURGE_INFLIGHT,
]);

/** Whether `error` says the producer failed for good (so that asking the broker why is worth it). */
export function isProducerFailure(error: unknown): boolean {
  const code = kafkaCode(error);
  return code !== undefined && FAILED_FOR_GOOD.has(code);
}

/** AclOperation values of Kafka's protocol (DescribeTopics' authorized operations). */
const { AclOperationTypes } = rdkafka;
const ACL_OPERATION: Readonly<Record<KafkaOperation, number>> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Create: AclOperationTypes.CREATE,
  Describe: AclOperationTypes.DESCRIBE,
};
const ACL_ALL: number = AclOperationTypes.ALL;

/** The librdkafka error code of `error` (or of its cause), if it has one. */
export function kafkaCode(error: unknown): number | undefined {
  for (const e of [error, (error as { cause?: unknown } | null)?.cause]) {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === "number") return code;
  }
  return undefined;
}

/** Whether `error` carries one of librdkafka's "authorization failed" codes. */
export function isAuthorizationFailure(error: unknown): boolean {
  const code = kafkaCode(error);
  return code !== undefined && REFUSED.has(code);
}

/** "User:<sasl.username>" when the settings log in with a user name; otherwise a description. */
export function principalOf(settings: RdSettings): string {
  const user = settings["sasl.username"];
  return typeof user === "string" && user !== "" ? `User:${user}` : "this client's principal";
}

const ACL_FLAG: Readonly<Record<KafkaResourceType, string>> = {
  topic: "--topic",
  group: "--group",
  "transactional-id": "--transactional-id",
  cluster: "--cluster",
};

/** The kafka-acls command that grants `operation` on the resource to the principal of `settings`. */
export function aclCommand(
  settings: RdSettings,
  resourceType: KafkaResourceType,
  resourceName: string,
  operation: KafkaOperation,
  prefixed = false,
): string {
  const principal = principalOf(settings);
  const who = principal.startsWith("User:") ? principal : "User:<principal>";
  const resource =
    resourceType === "cluster" ? ACL_FLAG.cluster : `${ACL_FLAG[resourceType]} ${resourceName}`;
  return (
    `kafka-acls.sh --bootstrap-server ${String(settings["bootstrap.servers"])} --add ` +
    `--allow-principal ${who} --operation ${operation} ${resource}` +
    (prefixed ? " --resource-pattern-type prefixed" : "")
  );
}

/** The error for `operation` on a resource that Kafka refused; `detail` says what was being done. */
export function notAuthorized(
  settings: RdSettings,
  resourceType: KafkaResourceType,
  resourceName: string,
  operation: KafkaOperation,
  options: { cause?: unknown; detail?: string; prefixed?: boolean } = {},
): KafkaAuthorizationError {
  const resource = resourceType === "cluster" ? "the cluster" : `${resourceType} ${resourceName}`;
  const message =
    `${principalOf(settings)} is not authorized to ${operation.toLowerCase()} ${resource}` +
    `${options.detail === undefined ? "" : ` (${options.detail})`}: Kafka's ACLs refuse it. ` +
    `A Kafka admin can allow it with: ${aclCommand(settings, resourceType, resourceName, operation, options.prefixed)}`;
  return new KafkaAuthorizationError(
    resourceType,
    resourceName,
    operation,
    message,
    options.cause === undefined ? {} : { cause: options.cause },
  );
}

/**
 * `error` as a KafkaAuthorizationError when its code says the authorizer refused it, for `operation` on the
 * topic `topic` (a group or transactional id refused keeps its own kind, named by `names`; `detail` is added to
 * a topic's message); null otherwise.
 */
export function authorizationError(
  error: unknown,
  settings: RdSettings,
  topic: string,
  operation: KafkaOperation,
  names: { group?: string; transactionalId?: string; detail?: string } = {},
): KafkaAuthorizationError | null {
  const about = { cause: error, ...(names.detail === undefined ? {} : { detail: names.detail }) };
  const code = kafkaCode(error);
  const kind = code === undefined ? undefined : REFUSED.get(code);
  switch (kind) {
    case undefined:
      return null;
    case "topic":
      return notAuthorized(settings, "topic", topic, operation, about);
    case "group":
      return notAuthorized(settings, "group", names.group ?? "<group>", "Read", { cause: error });
    case "transactional-id":
      return notAuthorized(settings, "transactional-id", names.transactionalId ?? "<id>", "Write", {
        cause: error,
      });
    case "cluster":
      // Creating a topic is allowed by Create on the topic or on the cluster: the topic's ACL is the narrower.
      return operation === "Create"
        ? notAuthorized(settings, "topic", topic, "Create", about)
        : notAuthorized(settings, "cluster", "kafka-cluster", operation, { cause: error });
  }
}

/**
 * The operations the broker allows this client's principal on `topic` (DescribeTopics with authorized
 * operations); "refused" when it may not even describe the topic (Kafka then does not say whether it exists),
 * "unknown" when the broker described it with another error (e.g. it does not exist).
 */
export function allowedTopicOperations(
  settings: RdSettings,
  topic: string,
  timeoutMs: number,
): Promise<Set<KafkaOperation> | "refused" | "unknown"> {
  const admin = rdkafka.AdminClient.create({ ...settings, log_level: 0 });
  return new Promise<Set<KafkaOperation> | "refused" | "unknown">((resolve, reject) => {
    admin.describeTopics(
      [topic],
      { includeAuthorizedOperations: true, timeout: timeoutMs },
      (err, result) => {
        if (err) return reject(err);
        const described = result.find((t) => t.name === topic);
        if (!described) return resolve("unknown");
        if (described.error) return resolve(isAuthorizationFailure(described.error) ? "refused" : "unknown");
        // Described, so at least Describe is allowed: no list at all means the broker did not say.
        if (!described.authorizedOperations?.length) return resolve("unknown");
        const granted = new Set<number>(described.authorizedOperations);
        const allowed = new Set<KafkaOperation>();
        for (const [name, value] of Object.entries(ACL_OPERATION) as [KafkaOperation, number][])
          if (granted.has(value) || granted.has(ACL_ALL)) allowed.add(name);
        resolve(allowed);
      },
    );
  }).finally(() => admin.disconnect());
}

/**
 * Asks the broker whether the principal may do `operation` on `topic`: a KafkaAuthorizationError (with `cause`,
 * when given) when it may not; null when it may, or when the broker cannot tell.
 */
export async function refusedBeforehand(
  settings: RdSettings,
  topic: string,
  operation: KafkaOperation,
  timeoutMs: number,
  cause?: unknown,
): Promise<KafkaAuthorizationError | null> {
  let allowed: Awaited<ReturnType<typeof allowedTopicOperations>>;
  try {
    allowed = await allowedTopicOperations(settings, topic, timeoutMs);
  } catch {
    return null;
  }
  if (allowed === "unknown" || (allowed !== "refused" && allowed.has(operation))) return null;
  return notAuthorized(settings, "topic", topic, operation, {
    ...(cause === undefined ? {} : { cause }),
    ...(allowed === "refused"
      ? { detail: "or it does not exist: Kafka does not tell without Describe" }
      : {}),
  });
}

/**
 * Why `operation` on `topic` failed (`error`: a refusal, or a producer that failed for good, e.g. an idempotent
 * producer refused its producer id because the principal may write no topic at all): a KafkaAuthorizationError
 * when the error's code or the broker's list of allowed operations says the principal may not do it; null
 * otherwise.
 */
export function topicRefusal(
  settings: RdSettings,
  topic: string,
  operation: KafkaOperation,
  error: unknown,
  timeoutMs: number,
): Promise<KafkaAuthorizationError | null> {
  const direct = authorizationError(error, settings, topic, operation);
  return direct ? Promise.resolve(direct) : refusedBeforehand(settings, topic, operation, timeoutMs, error);
}
