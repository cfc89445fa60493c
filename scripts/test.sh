#!/usr/bin/env bash
# Runs the compiled tests with Node's built-in runner. Usage: scripts/test.sh [unit|integration|reliability|all]
# (all = unit + integration; the reliability tests run on their own: npm run test:reliability)
# (Node 20's runner takes no globs, and would also run the helpers under dist/test/, so the files are listed here.)
set -euo pipefail
cd "$(dirname "$0")/.."
scope=${1:-all}
case "$scope" in
  all) dirs=(dist/test/unit dist/test/integration) ;;
  *) dirs=("dist/test/$scope") ;;
esac
# The integration tests need the real broker: start it when it is not running, and stop it again after.
if [ "$scope" != unit ] && ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh start
  trap 'bash scripts/kafka.sh stop' EXIT
fi
mapfile -t files < <(find "${dirs[@]}" -name '*.test.js' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files under ${dirs[*]}" >&2; exit 1; fi
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
