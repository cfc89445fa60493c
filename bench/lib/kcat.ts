// The librdkafka reference for the end-to-end scenarios: `kcat` consuming the events topic piped into `kcat`
// producing to a fresh output topic, with the engine's producer settings. No decoding, no evaluation: what
// librdkafka alone moves on this machine, for the engine to be measured against.
//
//   one per event:   kcat -C -f '%s\n' | kcat -P
//   one per trigger: kcat -C -f '%p %o %s\n' | perl (the expected count of each event) | kcat -P
//
// The filter of the second is a few lines of Perl (perl-base, always on Debian) reading the workload's counts
// file (a byte per event, index = offset * partitions + partition) and printing each value that many times. On
// 300,000 of the generator's events (40 % of them to be repeated) it runs in 0.5 s, 0.2 s of it user CPU (mawk
// with the counts in an associative array: 0.8 s, 0.7 s user), and `kcat -C | perl > /dev/null` takes as long as
// `kcat -C | cat > /dev/null`: the pipe costs, the filter does not.
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { bootstrap, createTopic, deleteTopics, recordCount } from "./kafka.js";

/** The engine's producer settings (src/kafka/acking-producer.ts). */
const PRODUCER_SETTINGS: Record<string, string> = {
  acks: "all",
  "enable.idempotence": "true",
  "linger.ms": "5",
  "batch.num.messages": "10000",
  "queue.buffering.max.messages": "200000",
};

const CONSUMER_SETTINGS: Record<string, string> = {
  // The engine's event consumer's fetch queue (src/events/event-pipeline.ts).
  "queued.max.messages.kbytes": "16384",
  // -e exits once every partition has reported its end, which takes a fetch at the end offset: the broker holds
  // it for fetch.wait.max.ms (500 ms by default) per partition, an end-of-run cost the engine does not pay.
  // With a backlog to read, fetches return at once whatever this is.
  "fetch.wait.max.ms": "10",
};

// Lines "partition offset value"; prints value (newline included) counts[offset * partitions + partition] times.
const FILTER = String.raw`
my ($countsPath, $parts) = @ARGV;
open(my $f, "<:raw", $countsPath) or die "$countsPath: $!";
my $counts = do { local $/; <$f> };
close $f;
binmode STDIN; binmode STDOUT;
while (<STDIN>) {
  my $s = index($_, " ");
  my $e = index($_, " ", $s + 1);
  my $n = ord(substr($counts, substr($_, $s + 1, $e - $s - 1) * $parts + substr($_, 0, $s), 1));
  print substr($_, $e + 1) x $n if $n;
}
`;

export interface KcatOptions {
  /** The events topic, read from the beginning to its end. */
  readonly topic: string;
  readonly events: number;
  readonly partitions: number;
  /** Records the output topic must hold at the end (the run fails otherwise). */
  readonly expectedRecords: number;
  /** Given: one record per expected trigger (this counts file); absent: one record per event. */
  readonly countsPath?: string;
}

export interface KcatResult {
  /** From starting the pipeline (connections included) to the producer's exit after the consumer's EOF. */
  seconds: number;
  eventsPerSec: number;
  /** Records in the output topic. */
  records: number;
  recordsPerSec: number;
  /** Shell pipeline as run (bootstrap and topic names included). */
  command: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const settings = (s: Record<string, string>): string[] =>
  Object.entries(s).flatMap(([k, v]) => ["-X", `${k}=${v}`]);

/** "kcat 1.7.1, librdkafka 2.0.2" as `kcat -V` says it; null when kcat is not installed. */
export function kcatVersion(): string | null {
  try {
    const text = execFileSync("kcat", ["-V"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const kcat = /Version (\S+)/.exec(text)?.[1] ?? "?";
    const librdkafka = /librdkafka (\S+)/.exec(text)?.[1] ?? "?";
    return `kcat ${kcat}, librdkafka ${librdkafka}`;
  } catch {
    return null;
  }
}

/** Runs the pipeline into a fresh output topic of `partitions` partitions, deleted afterwards. */
export async function runKcatPipeline(o: KcatOptions): Promise<KcatResult> {
  const out = `${o.topic}-kcat-${o.countsPath ? "trigger" : "event"}-${randomUUID().slice(0, 6)}`;
  await createTopic(out, o.partitions);
  const consume = [
    "kcat",
    "-C",
    "-b",
    bootstrap,
    "-t",
    o.topic,
    "-o",
    "beginning",
    "-e",
    "-q",
    "-f",
    o.countsPath ? "%p %o %s\\n" : "%s\\n",
    ...settings(CONSUMER_SETTINGS),
  ];
  const filter = o.countsPath ? ["perl", "-e", FILTER, o.countsPath, String(o.partitions)] : null;
  const produce = ["kcat", "-P", "-b", bootstrap, "-t", out, "-q", ...settings(PRODUCER_SETTINGS)];
  const stages = [consume, ...(filter ? [filter] : []), produce];
  const command = stages.map((s) => s.map(quote).join(" ")).join(" | ");
  try {
    const started = process.hrtime.bigint();
    const child = spawn("bash", ["-c", `set -o pipefail; ${command}`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (c) => resolve(c));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) throw new Error(`kcat pipeline exited with ${code}: ${stderr.trim()}`);
    const records = await recordCount(out);
    if (records !== o.expectedRecords) {
      throw new Error(`kcat pipeline: ${records} records written, ${o.expectedRecords} expected`);
    }
    return {
      seconds,
      eventsPerSec: o.events / seconds,
      records,
      recordsPerSec: records / seconds,
      command: command.replace(quote(FILTER), "<filter>"),
    };
  } finally {
    await deleteTopics([out]);
  }
}
