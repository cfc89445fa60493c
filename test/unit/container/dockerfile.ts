// The repository's Dockerfile as the container tests read it, through the same parser that lints it
// (scripts/lint-dockerfile.mjs, plain JavaScript so that `npm run lint` needs no build).
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";

/** The repository root: tests run from dist/test/…, four levels below it. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const DOCKERFILE = join(REPO_ROOT, "Dockerfile");
export const LINT_SCRIPT = join(REPO_ROOT, "scripts", "lint-dockerfile.mjs");

export interface Instruction {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export interface Finding {
  readonly line: number;
  readonly rule: string;
  readonly message: string;
}

export interface DockerfileLinter {
  parseDockerfile(text: string): Instruction[];
  execForm(args: string): string[] | null;
  splitFlags(args: string): { flags: Record<string, string>; rest: string };
  stages(instructions: Instruction[]): Stage[];
  lintDockerfile(text: string): Finding[];
}

export async function loadLinter(): Promise<DockerfileLinter> {
  return (await import(pathToFileURL(LINT_SCRIPT).href)) as DockerfileLinter;
}

/** The build stages of the repository's Dockerfile. */
export async function dockerfileStages(): Promise<{ linter: DockerfileLinter; stages: Stage[] }> {
  const linter = await loadLinter();
  return { linter, stages: linter.stages(linter.parseDockerfile(readFileSync(DOCKERFILE, "utf8"))) };
}

/** The last instruction `keyword` of a stage, which is the one Docker applies (CMD, ENTRYPOINT, …). */
export function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1);
}
