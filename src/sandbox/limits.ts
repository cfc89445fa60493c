// The limits of one filter call and of a sandbox as a whole, with their defaults.

export interface Limits {
  /** Fuel of the call: 1 unit = one interrupt poll, and built-ins charge for their work (README, Limits). */
  readonly fuel: number;
  /** Bytes the filter may hold in the engine: its context, what it keeps between calls, what the call allocates. */
  readonly memoryBytes: number;
  /** Wall-clock limit of the call in milliseconds, checked inside the sandbox (outcome `timeout`); 0: none. */
  readonly deadlineMs: number;
}

export const DEFAULT_LOAD_LIMITS: Limits = {
  fuel: 1_000_000,
  memoryBytes: 16 * 1024 * 1024,
  deadlineMs: 1_000,
};
export const DEFAULT_CAMPAIGNS_MEMORY_BYTES = 512 * 1024 * 1024;
/**
 * Memory an event may take while it is decoded for a call, apart from what filters hold, so that no filter can
 * make decoding fail. Kafka's default record limit is 1 MB; decoded, a JSON event takes a few times its size.
 */
export const EVENT_MEMORY_BYTES = 64 * 1024 * 1024;
