// What the benchmark ran on: recorded with every result.
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import rdkafka from "@confluentinc/kafka-javascript";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kafka: string;
  librdkafka: string;
  os: string;
}

export function machine(): Machine {
  const pom = readFileSync(new URL("../../../kafka/pom.xml", import.meta.url), "utf8");
  let os: string = process.platform;
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? os;
  } catch {
    /* not Linux */
  }
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kafka: /<kafka.version>([^<]+)</.exec(pom)?.[1] ?? "unknown",
    librdkafka: rdkafka.librdkafkaVersion,
    os,
  };
}
