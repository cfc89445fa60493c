#!/usr/bin/env node
// Process entry of the engine: `node dist/src/main.js [--config path]` (also `rtcrm run`).
import { exitWhenDone } from "./process-exit.js";
import { runEngine } from "./run-engine.js";

exitWhenDone(runEngine(process.argv.slice(2)));
