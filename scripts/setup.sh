#!/usr/bin/env bash
# One-time set-up on a fresh machine: system packages, npm dependencies, build.
# Idempotent: a second run only does what is missing. Used by `npm start`, `npm test` and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

# Nothing to do when the inputs are those of the last successful set-up: the fingerprint of scripts/setup-stamp.sh
# (Node.js version, system packages, lock file, sources, outputs present) equals the one it recorded.
if bash scripts/setup-stamp.sh check; then
  say "up to date (nothing changed since the last set-up; scripts/setup-stamp.sh)"
  exit 0
fi
before=$(bash scripts/setup-stamp.sh fingerprint)

# Debian/Ubuntu packages: the Kafka client's native build (librdkafka against system libraries),
# the QuickJS-to-WebAssembly toolchain, Java/Maven for the local broker, Chromium for the UI's browser test,
# and kcat, the librdkafka pipeline the end-to-end benchmark compares the engine to.
debian_packages=(
  build-essential patch python3 pkg-config openssl
  zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev
  clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
  openjdk-17-jre-headless maven
  chromium
  kcat
)

missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
fi
# A JDK installed some other way (e.g. openjdk-17-jdk or Temurin) serves the broker as well.
if command -v java >/dev/null; then
  missing=("${missing[@]/openjdk-17-jre-headless/}")
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sed '/^$/d')
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing system packages: ${missing[*]}"
    say "install them with: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then say "Node.js 20 or newer is needed (found $(node --version))"; exit 1; fi

# npm dependencies. The Kafka client's prebuilt binary is downloaded from the internet when reachable;
# CKJS_LINKING=dynamic builds it from source against the system libraries above instead (about 2 minutes).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (the Kafka client builds from source: about 2 minutes)"
  CKJS_LINKING=${CKJS_LINKING:-dynamic} npm ci --no-audit --no-fund
fi

say "building"
npm run --silent build
bash scripts/setup-stamp.sh write "$before"
say "done"
