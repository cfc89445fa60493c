// A broker of a test's own (scripts/kafka.sh on another port, fresh data): for scenarios that stop the
// broker or change its listeners, which the shared test broker must never see.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const KAFKA_SH = fileURLToPath(new URL("../../../scripts/kafka.sh", import.meta.url));
const run = promisify(execFile);

export class TestBroker {
  readonly port: number;
  readonly #env: Record<string, string>;

  /** `extraConfig`: server.properties lines appended to the defaults (later lines win). */
  constructor(port: number, extraConfig = "") {
    this.port = port;
    const env: Record<string, string> = { RTCRM_KAFKA_PORT: String(port) };
    if (extraConfig) {
      const file = join(tmpdir(), `rtcrm-broker-${port}.properties`);
      writeFileSync(file, extraConfig);
      env.RTCRM_KAFKA_EXTRA_CONFIG = file;
    }
    this.#env = env;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  async #kafka(command: "start" | "stop" | "reset"): Promise<void> {
    await run("bash", [KAFKA_SH, command], { env: { ...process.env, ...this.#env }, timeout: 180_000 });
  }

  /** Starts with empty storage. */
  async startFresh(): Promise<void> {
    await this.#kafka("reset");
    await this.#kafka("start");
  }

  /** Starts again on the data it has. */
  start(): Promise<void> {
    return this.#kafka("start");
  }

  stop(): Promise<void> {
    return this.#kafka("stop");
  }

  /** Stops it and deletes its data. */
  remove(): Promise<void> {
    return this.#kafka("reset");
  }
}
