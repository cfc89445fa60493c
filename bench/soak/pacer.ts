// Produces events at a fixed rate: every few milliseconds, as many as are due since the start. A producer
// that falls behind (a busy machine) catches up in bursts; the achieved rate is reported next to the target.
import rdkafka from "@confluentinc/kafka-javascript";

const TICK_MS = 5;

export class PacedProducer {
  sent = 0;
  acked = 0;
  #failed: Error | null = null;
  readonly #producer: rdkafka.Producer;

  constructor(
    bootstrap: string,
    private readonly topic: string,
    private readonly partitions: number,
    /** Time (ms) each event was handed to the producer, by event number; 0 = not yet. */
    private readonly sentAt: Float64Array,
  ) {
    this.#producer = new rdkafka.Producer({
      "bootstrap.servers": bootstrap,
      dr_cb: true,
      "linger.ms": 5,
      "batch.num.messages": 10_000,
      "queue.buffering.max.messages": 200_000,
      "enable.idempotence": true,
      log_level: 3,
    });
    this.#producer.on("delivery-report", (err) => {
      if (err) this.#failed ??= new Error(`producing events failed: ${err.message}`);
      this.acked++;
    });
  }

  async connect(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.#producer.connect({}, (err) => (err ? reject(err) : resolve())),
    );
    this.#producer.setPollInterval(10);
  }

  /** Sends event n = 0 .. sentAt.length - 1 at `perSec`; resolves when the last one is handed over. */
  run(perSec: number, make: (n: number) => Buffer): Promise<void> {
    const total = this.sentAt.length;
    const start = Date.now();
    return new Promise<void>((resolve, reject) => {
      const tick = setInterval(() => {
        const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * perSec));
        try {
          for (; this.sent < due; this.sent++) {
            const n = this.sent;
            const at = Date.now();
            this.#producer.produce(this.topic, n % this.partitions, make(n), null, at);
            this.sentAt[n] = at;
          }
        } catch (error) {
          // A full local queue: the rest of this tick's events go out on the next ticks.
          if ((error as { code?: number }).code !== rdkafka.CODES.ERRORS.ERR__QUEUE_FULL) {
            clearInterval(tick);
            reject(error as Error);
            return;
          }
        }
        if (this.sent >= total) {
          clearInterval(tick);
          resolve();
        }
      }, TICK_MS);
    });
  }

  /** Waits for every acknowledgement, then disconnects; throws when an event could not be produced. */
  async close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked < this.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise<void>((resolve) => this.#producer.disconnect(5_000, () => resolve()));
    if (this.#failed) throw this.#failed;
    if (this.acked < this.sent)
      throw new Error(`${this.sent - this.acked} events unacknowledged after ${timeoutMs} ms`);
  }
}
