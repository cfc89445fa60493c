#!/usr/bin/env node
// Process entry of the web UI: `npm run ui` or `node dist/src/ui/server.js [--config path] [--port n] ...`.
import { runUi } from "./run-ui.js";

runUi(process.argv.slice(2)).then(
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
