// What the soak samples every few seconds: the engine process's memory (the whole process, worker threads
// included, from /proc), the consumer lag of its group, and the machine's load; and the verdict on RSS.
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { KafkaJS } from "@confluentinc/kafka-javascript";

export interface Sample {
  /** Seconds since production started. */
  readonly t: number;
  readonly rssMiB: number | null;
  readonly peakRssMiB: number | null;
  readonly threads: number | null;
  /** CPU seconds the engine process used so far (user + system, all threads), and the soak process. */
  readonly engineCpuS: number | null;
  readonly soakCpuS: number;
  /** The engine main thread's V8 heap in use and its external memory, from its /metrics (null without). */
  readonly mainHeapMiB: number | null;
  readonly mainExternalMiB: number | null;
  /** V8 heap reserved by the main thread and by the workers (summed), and the workers' sandbox memory. */
  readonly mainHeapTotalMiB: number | null;
  readonly workerHeapTotalMiB: number | null;
  readonly sandboxMiB: number | null;
  /** Events produced but not yet committed by the engine's group. */
  readonly lag: number | null;
  readonly sent: number;
  readonly triggersRead: number;
  readonly load1: number;
}

export function procStatus(pid: number | undefined): {
  rssMiB: number | null;
  peakRssMiB: number | null;
  threads: number | null;
} {
  let text = "";
  try {
    if (pid !== undefined) text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    /* the process is gone */
  }
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
  };
  const threads = /^Threads:\s+(\d+)/m.exec(text);
  return { rssMiB: kb("VmRSS"), peakRssMiB: kb("VmHWM"), threads: threads ? Number(threads[1]) : null };
}

/** CPU seconds (user + system) of a process from /proc/<pid>/stat, whose times are in clock ticks. */
export function cpuSeconds(pid: number | undefined, ticksPerSecond: number): number | null {
  try {
    if (pid === undefined) return null;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3, the state.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}

export const ownCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export type EngineMemory = Pick<
  Sample,
  "mainHeapMiB" | "mainExternalMiB" | "mainHeapTotalMiB" | "workerHeapTotalMiB" | "sandboxMiB"
>;

const NO_MEMORY: EngineMemory = {
  mainHeapMiB: null,
  mainExternalMiB: null,
  mainHeapTotalMiB: null,
  workerHeapTotalMiB: null,
  sandboxMiB: null,
};

/**
 * Where the engine's memory is, from its /metrics: the main thread's heap (prom-client's default metrics), the
 * workers' heaps and sandboxes (summed over workers). Tells growth on the main thread from growth in the
 * workers, which the whole-process RSS does not.
 */
export async function scrapeEngineMemory(port: number): Promise<EngineMemory> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    const mib = (name: string) => {
      let sum: number | null = null;
      for (const m of text.matchAll(new RegExp(`^\\w*${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm")))
        sum = (sum ?? 0) + Number(m[1]);
      return sum === null ? null : Math.round((sum / 2 ** 20) * 10) / 10;
    };
    return {
      mainHeapMiB: mib("nodejs_heap_size_used_bytes"),
      mainExternalMiB: mib("nodejs_external_memory_bytes"),
      mainHeapTotalMiB: mib("nodejs_heap_size_total_bytes"),
      workerHeapTotalMiB: mib("rtcrm_worker_heap_total_bytes"),
      sandboxMiB: mib("rtcrm_sandbox_memory_bytes"),
    };
  } catch {
    return NO_MEMORY;
  }
}

export const load1 = (): number => Math.round((loadavg()[0] ?? 0) * 100) / 100;

/** Lag of a consumer group on one topic, through one admin client kept open for the run. */
export class LagProbe {
  readonly #admin: KafkaJS.Admin;

  constructor(
    bootstrap: string,
    private readonly group: string,
    private readonly topic: string,
  ) {
    this.#admin = new KafkaJS.Kafka({ "bootstrap.servers": bootstrap, log_level: 3 }).admin();
  }

  connect(): Promise<void> {
    return this.#admin.connect();
  }

  async lag(): Promise<number | null> {
    try {
      const ends = await this.#admin.fetchTopicOffsets(this.topic);
      const committed = await this.#admin.fetchOffsets({ groupId: this.group, topics: [this.topic] });
      const done = new Map<number, number>();
      for (const t of committed) for (const p of t.partitions) done.set(p.partition, Number(p.offset));
      let lag = 0;
      for (const e of ends) lag += Number(e.high) - Math.max(0, done.get(e.partition) ?? 0);
      return lag;
    } catch {
      return null;
    }
  }

  disconnect(): Promise<void> {
    return this.#admin.disconnect();
  }
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/**
 * Least-squares coefficient of x1 in y = a + b1·x1 + b2·x2: how y moves with x1 when x2 is held equal.
 * Falls back to the plain slope over x1 when x2 does not vary apart from x1.
 */
export function partialSlope(points: readonly (readonly [number, number, number])[]): number {
  const n = points.length;
  if (n < 3) return NaN;
  const mean = (k: 0 | 1 | 2) => points.reduce((a, p) => a + p[k], 0) / n;
  const [m1, m2, my] = [mean(0), mean(1), mean(2)];
  let s11 = 0;
  let s22 = 0;
  let s12 = 0;
  let s1y = 0;
  let s2y = 0;
  for (const [x1, x2, y] of points) {
    const [d1, d2, dy] = [x1 - m1, x2 - m2, y - my];
    s11 += d1 * d1;
    s22 += d2 * d2;
    s12 += d1 * d2;
    s1y += d1 * dy;
    s2y += d2 * dy;
  }
  const det = s11 * s22 - s12 * s12;
  if (s22 === 0 || det <= 1e-9 * s11 * s22) return slope(points.map((p) => [p[0], p[2]] as const));
  return (s1y * s22 - s2y * s12) / det;
}

/** RSS must not grow: the pass criterion, stated once. */
export const RSS_CRITERION = { maxGrowthMiBPerMin: 1, maxEndOverStart: 1.25 } as const;

export interface RssVerdict {
  readonly warmupSeconds: number;
  /** RSS at the first sample after the warm-up, at the end of production, the largest in between. */
  readonly startMiB: number;
  readonly endMiB: number;
  readonly maxMiB: number;
  /** Least-squares slope of RSS over time. */
  readonly slopeMiBPerMin: number;
  /**
   * The judged figure: RSS over time at equal lag (the coefficient of time when RSS is fitted on time and lag).
   * The engine's memory legitimately follows its backlog (up to max_pending_events in flight, the consumer's
   * prefetch), and on 2 shared cores the lag swings between a few thousand and tens of thousands of events;
   * a leak grows at any lag.
   */
  readonly growthAtEqualLagMiBPerMin: number;
  /** RSS per 1,000 events of lag, from the same fit. */
  readonly miBPerThousandLag: number;
  readonly endOverStart: number;
  readonly steadySamples: number;
  /** Slopes (MiB/min) of the parts the engine reports: where growth would be. */
  readonly parts: {
    readonly sandbox: number;
    readonly workerHeapReserved: number;
    readonly mainHeapReserved: number;
    readonly mainHeapUsed: number;
  };
  readonly pass: boolean;
}

/** The verdict on the steady part: samples from the end of the warm-up to the end of production. */
export function rssVerdict(
  samples: readonly Sample[],
  warmupSeconds: number,
  endSeconds: number,
): RssVerdict {
  const steady = samples.filter(
    (s): s is Sample & { rssMiB: number } => s.rssMiB !== null && s.t >= warmupSeconds && s.t <= endSeconds,
  );
  const first = steady[0]?.rssMiB ?? NaN;
  const last = steady[steady.length - 1]?.rssMiB ?? NaN;
  const perMin = slope(steady.map((s) => [s.t / 60, s.rssMiB] as const));
  const withLag = steady.filter((s) => s.lag !== null);
  const atEqualLag = partialSlope(withLag.map((s) => [s.t / 60, (s.lag ?? 0) / 1000, s.rssMiB] as const));
  const perLag = partialSlope(withLag.map((s) => [(s.lag ?? 0) / 1000, s.t / 60, s.rssMiB] as const));
  const partSlope = (read: (s: Sample) => number | null) =>
    slope(steady.flatMap((s) => (read(s) === null ? [] : [[s.t / 60, read(s) as number] as const])));
  const endOverStart = last / first;
  return {
    warmupSeconds,
    startMiB: first,
    endMiB: last,
    maxMiB: Math.max(...steady.map((s) => s.rssMiB)),
    slopeMiBPerMin: perMin,
    growthAtEqualLagMiBPerMin: atEqualLag,
    miBPerThousandLag: perLag,
    endOverStart,
    steadySamples: steady.length,
    parts: {
      sandbox: partSlope((s) => s.sandboxMiB),
      workerHeapReserved: partSlope((s) => s.workerHeapTotalMiB),
      mainHeapReserved: partSlope((s) => s.mainHeapTotalMiB),
      mainHeapUsed: partSlope((s) => s.mainHeapMiB),
    },
    pass:
      steady.length >= 3 &&
      atEqualLag < RSS_CRITERION.maxGrowthMiBPerMin &&
      endOverStart < RSS_CRITERION.maxEndOverStart,
  };
}
