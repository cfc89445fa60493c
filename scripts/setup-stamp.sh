#!/usr/bin/env bash
# The fingerprint of everything scripts/setup.sh works from: when it equals the one the last successful set-up
# recorded (dist/.setup-stamp), the set-up has nothing to do and `npm start` goes straight to the engine.
#
#   scripts/setup-stamp.sh fingerprint     print the fingerprint
#   scripts/setup-stamp.sh check           exit 0 when it equals dist/.setup-stamp
#   scripts/setup-stamp.sh write [BEFORE]  record it in dist/.setup-stamp after a successful set-up; with BEFORE
#                                          (the fingerprint taken before the set-up), only if no source changed
#                                          meanwhile (else the next start builds again)
#
# RTCRM_SETUP_ROOT names another checkout to fingerprint (the tests use it); the default is this one.
#
# The fingerprint holds: the Node.js version; a content hash of package.json, package-lock.json, tsconfig.json,
# these set-up scripts, every .ts and .json file under src/, test/ and bench/ (bench/results/ aside) and every
# file under wasm/ (wasm/build/ aside), by path and content, so an edit, a new, renamed or deleted file counts
# whatever its modification time; the modification time of dpkg's status file (any system package installed or
# removed since); and which outputs are missing (node_modules, the WebAssembly engine, dist/src/main.js).
set -euo pipefail

command=${1:-}
root=$(cd "${RTCRM_SETUP_ROOT:-$(dirname "$0")/..}" && pwd)
stamp=$root/dist/.setup-stamp

fingerprint() {
  cd "$root"
  echo "node $(node --version)"
  echo "dpkg $(stat -c %Y /var/lib/dpkg/status 2>/dev/null || echo none)"
  local output
  for output in node_modules/.package-lock.json wasm/build/rtcrm-engine.wasm dist/src/main.js; do
    [ -e "$output" ] || echo "missing $output"
  done
  {
    for f in package.json package-lock.json tsconfig.json scripts/setup.sh scripts/setup-stamp.sh; do
      [ -f "$f" ] && printf '%s\0' "$f"
    done
    for d in src test bench; do
      [ -d "$d" ] && find "$d" -path bench/results -prune -o -type f \( -name '*.ts' -o -name '*.json' \) -print0
    done
    if [ -d wasm ]; then find wasm -path wasm/build -prune -o -type f -print0; fi
  } | LC_ALL=C sort -z | xargs -0 -r sha1sum | sha1sum | sed 's/ .*//; s/^/sources /'
}

case "$command" in
  fingerprint) fingerprint ;;
  check) [ -f "$stamp" ] && [ "$(fingerprint)" = "$(cat "$stamp")" ] ;;
  write)
    now=$(fingerprint)
    if [ -n "${2:-}" ] && [ "$(grep '^sources ' <<<"$2")" != "$(grep '^sources ' <<<"$now")" ]; then
      echo "setup: sources changed during the set-up; the next start builds again"
      exit 0
    fi
    mkdir -p "$root/dist"
    printf '%s\n' "$now" >"$stamp.tmp"
    mv "$stamp.tmp" "$stamp"
    ;;
  *)
    echo "usage: $0 fingerprint|check|write [BEFORE]" >&2
    exit 2
    ;;
esac
