// Expected triggers from the pure evaluation function and an in-process sandbox (bench/lib/expected.ts):
// the reference against which the engine's output through Kafka is compared.
import { ExpectedTriggers } from "../../bench/lib/expected.js";

export class Reference {
  readonly #expected: ExpectedTriggers;

  constructor(campaignRecords: unknown[]) {
    this.#expected = new ExpectedTriggers(campaignRecords.map((c) => JSON.stringify(c)));
  }

  /** Campaign ids that match `eventJson` at `nowMs`, in campaign id order. */
  matches(eventJson: string, nowMs: number): number[] {
    const event = JSON.parse(eventJson) as { game: string; event_name: string };
    return this.#expected.matches(eventJson, event.game, event.event_name, nowMs).sort((a, b) => a - b);
  }
}
