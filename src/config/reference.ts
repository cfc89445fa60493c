// The configuration reference in README.md, generated from the schema (a test keeps the two equal).
import { SCHEMA } from "./schema.js";

function shown(value: unknown): string {
  if (value === null) return "cores − 1 (min. 1)";
  return `\`${JSON.stringify(value)}\``;
}

export function configReference(): string {
  const rows = Object.entries(SCHEMA).map(([key, spec]) => {
    const type =
      spec.type === "string" && "oneOf" in spec ? spec.oneOf.map((v) => `\`${v}\``).join(" \\| ") : spec.type;
    return `| \`${key}\` | ${type} | ${shown(spec.default)} | \`RTCRM_${key.toUpperCase()}\` | ${spec.description.replace(/\|/g, "\\|")} |`;
  });
  return [
    "| key | type | default | environment | meaning |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
