#!/usr/bin/env node
// Process entry of the web UI: `npm run ui` or `node dist/src/ui/server.js [--config path] [--port n] ...`.
import { exitWhenDone } from "../process-exit.js";
import { runUi } from "./run-ui.js";

exitWhenDone(runUi(process.argv.slice(2)));
