#!/usr/bin/env node
// Process entry of the engine: `node dist/src/main.js [--config path]` (also `rtcrm run`).
import { runEngine } from "./run-engine.js";

runEngine(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(
      `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
