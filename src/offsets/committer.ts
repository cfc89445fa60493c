// What the consumer loop and the trigger sink need from offset commits, whichever the delivery mode:
// at-least-once (offset-committer.ts) or exactly-once in Kafka transactions (transactional-committer.ts).
import type { OutRecord, Ack } from "../kafka/acking-producer.js";

/** Where an event's records go: acknowledged once written (at-least-once) or once in the open transaction. */
export interface RecordOutput {
  send(record: OutRecord, ack: Ack): void;
}

export interface Committer {
  readonly output: RecordOutput;
  /** Starts committing on the interval. */
  start(): void;
  /** Runs `assign` when the committer allows it (exactly-once: after the previous transaction's abort). */
  whenAssigning(assign: () => void): void;
  /** Partitions are about to be revoked: commit what is done, or abort the open transaction. */
  revoking(): void;
  /** The last commit; resolves false when it could not commit. Later revokes commit nothing. Idempotent. */
  stop(): Promise<boolean>;
}
