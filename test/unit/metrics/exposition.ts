// Reading Prometheus text in tests: each sample line as "name{labels}" -> value.
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** The value of one sample; throws when it is not there (an absent series is a failure, not a zero). */
export function sample(all: Map<string, number>, key: string): number {
  const value = all.get(key);
  if (value === undefined) {
    const near = [...all.keys()].filter((k) => k.startsWith(key.split("{")[0] ?? key)).slice(0, 10);
    throw new Error(`no sample ${key}; samples of that name: ${near.join(", ") || "none"}`);
  }
  return value;
}
