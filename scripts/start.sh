#!/usr/bin/env bash
# `npm start`: set up what is missing, start the local Kafka broker (127.0.0.1:9093), then the engine.
# On a set-up checkout where nothing changed, the set-up and the broker's start return at once
# (scripts/setup-stamp.sh decides), so this starts the engine about as fast as `node dist/src/main.js`.
# Pass engine options after `--`, e.g. `npm start -- --config my-config.json`.
# RTCRM_NO_LOCAL_KAFKA=1 skips the local broker (use your own cluster through the config).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${RTCRM_NO_LOCAL_KAFKA:-}" ]; then bash scripts/kafka.sh start; fi
if [ -f dist/src/main.js ]; then
  exec node dist/src/main.js "$@"
fi
echo "start: the local broker is running; the engine itself is not built yet in this version."
