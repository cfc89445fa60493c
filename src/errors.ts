// One error hierarchy for the whole engine. Every error has a stable `code` from ErrorCodes,
// an optional `cause`, and `canRetry` telling a caller whether trying again may help.

export const ErrorCodes = {
  CONFIG_INVALID: "RTCRM_CONFIG_INVALID",
  CAMPAIGN_INVALID: "RTCRM_CAMPAIGN_INVALID",
  FILTER_INVALID: "RTCRM_FILTER_INVALID",
  EVENT_INVALID: "RTCRM_EVENT_INVALID",
  ENGINE_BUILD_MISSING: "RTCRM_ENGINE_BUILD_MISSING",
  POOL_CLOSED: "RTCRM_POOL_CLOSED",
  POOL_TASK_FAILED: "RTCRM_POOL_TASK_FAILED",
  KAFKA: "RTCRM_KAFKA",
  KAFKA_AUTH: "RTCRM_KAFKA_AUTH",
  /** Kafka's authorizer refused an operation of the client's principal (see KafkaAuthorizationError). */
  KAFKA_NOT_AUTHORIZED: "RTCRM_KAFKA_NOT_AUTHORIZED",
  /** Another instance joined the consumer group with this instance's group_instance_id. */
  KAFKA_FENCED_INSTANCE: "RTCRM_KAFKA_FENCED_INSTANCE",
  TOPIC_MISSING: "RTCRM_TOPIC_MISSING",
  SHUTDOWN_TIMEOUT: "RTCRM_SHUTDOWN_TIMEOUT",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface RtcrmErrorOptions {
  cause?: unknown;
  canRetry?: boolean;
}

export class RtcrmError extends Error {
  readonly code: ErrorCode;
  readonly canRetry: boolean;

  constructor(code: ErrorCode, message: string, options: RtcrmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.canRetry = options.canRetry ?? false;
  }
}

/** Configuration problems, all of them at once. */
export class ConfigError extends RtcrmError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(ErrorCodes.CONFIG_INVALID, `invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
  }
}

/** The Kafka resource an ACL names. */
export type KafkaResourceType = "topic" | "group" | "transactional-id" | "cluster";
/** The ACL operations the components of this project need (Kafka's names). */
export type KafkaOperation = "Read" | "Write" | "Create" | "Describe";

/**
 * Kafka's authorizer refused `operation` on a resource to the client's principal: retrying does not help, an
 * ACL does. The message names the principal, the resource and the ACL to add.
 */
export class KafkaAuthorizationError extends RtcrmError {
  readonly resourceType: KafkaResourceType;
  readonly resourceName: string;
  readonly operation: KafkaOperation;
  constructor(
    resourceType: KafkaResourceType,
    resourceName: string,
    operation: KafkaOperation,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(ErrorCodes.KAFKA_NOT_AUTHORIZED, message, options);
    this.resourceType = resourceType;
    this.resourceName = resourceName;
    this.operation = operation;
  }
}

/** A campaign record that cannot be accepted; `reasons` say what to change. */
export class CampaignError extends RtcrmError {
  readonly reasons: readonly string[];
  constructor(reasons: readonly string[]) {
    super(ErrorCodes.CAMPAIGN_INVALID, `invalid campaign: ${reasons.join("; ")}`);
    this.reasons = reasons;
  }
}

/** Where in the filter source a problem is; line and column are 1-based. */
export interface SourcePosition {
  line: number;
  /** Absent where only the line is known (errors found by QuickJS rather than the validator). */
  column?: number;
}

/** A filter that does not compile or uses something the sandbox forbids. */
export class FilterError extends RtcrmError {
  readonly position: SourcePosition | undefined;
  constructor(message: string, position?: SourcePosition) {
    super(
      ErrorCodes.FILTER_INVALID,
      position
        ? `${message} (line ${position.line}${position.column === undefined ? "" : `, column ${position.column}`})`
        : message,
    );
    this.position = position;
  }
}

export class EventError extends RtcrmError {
  constructor(message: string) {
    super(ErrorCodes.EVENT_INVALID, message);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
