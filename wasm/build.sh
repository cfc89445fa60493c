#!/usr/bin/env bash
# Builds wasm/build/rtcrm-engine.wasm: QuickJS 2021-03-27 (sources from the
# npm package qjsc@0.3.0, sha512-pinned) + wasm/runtime.c as a WASI reactor.
# Idempotent; does nothing when the output is newer than every input.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
B="$HERE/build"
OUT="$B/rtcrm-engine.wasm"
# `--unmetered` builds, for the benchmark only, the same engine with QuickJS's interrupt polls compiled out
# (no fuel is counted, no budget can stop a filter): the baseline that shows what fuel metering costs.
VARIANT_FLAGS=()
if [[ "${1:-}" == "--unmetered" ]]; then
  OUT="$B/rtcrm-engine-unmetered.wasm"
  VARIANT_FLAGS=(-DRTCRM_UNMETERED)
fi
PKG="qjsc@0.3.0"
TGZ="$B/qjsc-0.3.0.tgz"
# npm "integrity" of qjsc-0.3.0.tgz
SHA512="a7+cU6/IVcZbIejffdt/wZVMX6LL2MDL3HQ9Zb5Gm23G9DvBMS/z9GHFxz39bAvp2PvMOM+ypSOAyokt2DdZ2w=="
QJS_DIR="package/deps/quickjs_2021_03_27"
CC="${CC:-clang-19}"
# C shadow stack; QuickJS's own limit (RTCRM_JS_STACK) must stay well below it
STACK_SIZE=$((1024 * 1024))
JS_STACK=$((384 * 1024))
MAX_MEMORY=$((1024 * 1024 * 1024))   # hard cap of the wasm memory (1 GiB)

INPUTS=("$HERE/build.sh" "$HERE/runtime.c" "$HERE/prelude.js" "$HERE/quickjs-ext.c" "$HERE/quickjs.patch")

start=$(date +%s%N)
mkdir -p "$B"

if [[ -f "$OUT" && -f "$TGZ" ]]; then
  stale=0
  for f in "${INPUTS[@]}" "$TGZ"; do
    [[ "$f" -nt "$OUT" ]] && stale=1
  done
  if [[ $stale == 0 ]]; then
    echo "build:wasm: $OUT is up to date"
    exit 0
  fi
fi

# ---- 1. sources from the npm registry, integrity-checked
check_tgz() {
  [[ -f "$TGZ" ]] && [[ "$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)" == "$SHA512" ]]
}
if ! check_tgz; then
  rm -f "$TGZ"
  (cd "$B" && npm pack "$PKG" --pack-destination "$B" --silent >/dev/null)
  if ! check_tgz; then
    echo "build:wasm: sha512 mismatch for $TGZ" >&2
    rm -f "$TGZ"
    exit 1
  fi
fi

# ---- 2. pristine copy + patches, regenerated from scratch each build
SRC="$B/src"
rm -rf "$SRC" "$B/extract"
mkdir -p "$SRC" "$B/extract"
tar xzf "$TGZ" -C "$B/extract" "$QJS_DIR"
for f in quickjs.c quickjs.h quickjs-atom.h quickjs-opcode.h libregexp.c libregexp.h \
         libregexp-opcode.h libunicode.c libunicode.h libunicode-table.h cutils.c cutils.h \
         libbf.c libbf.h list.h VERSION LICENSE; do
  cp "$B/extract/$QJS_DIR/$f" "$SRC/$f"
done
rm -rf "$B/extract"

# The patches (wasm/quickjs.patch, a unified diff against the pristine sources; wasm/README.md lists what
# they do): `patch` refuses to apply a hunk that does not match exactly, so a changed source fails the build.
patch --quiet --forward --fuzz=0 --no-backup-if-mismatch -p1 -d "$SRC" < "$HERE/quickjs.patch"
# Helpers needing QuickJS internals (interrupt counter, job queue, fuel), appended to quickjs.c.
{ echo; echo "/* ---- appended by wasm/build.sh ---- */"; cat "$HERE/quickjs-ext.c"; } >> "$SRC/quickjs.c"

# ---- 3. prelude as a C string
node -e '
const fs = require("fs");
const src = fs.readFileSync(process.argv[1], "utf8");
fs.writeFileSync(process.argv[2],
  "/* generated from wasm/prelude.js by build.sh */\nstatic const char rtcrm_prelude_src[] = " +
  JSON.stringify(src) + ";\n");
' "$HERE/prelude.js" "$SRC/prelude.h"

# ---- 4. compile (objects in parallel) and link
CFLAGS=(--target=wasm32-wasi --sysroot=/usr -O2 -mbulk-memory -Wno-everything
  -D_WASI_EMULATED_SIGNAL '-DCONFIG_VERSION="2021-03-27"' -DEMSCRIPTEN
  -DCONFIG_BIGNUM -DCONFIG_STACK_CHECK -DRTCRM_JS_STACK=$JS_STACK
  -DFE_DOWNWARD=0x400 -DFE_UPWARD=0x800 -I"$SRC" "${VARIANT_FLAGS[@]}"
  -ffile-prefix-map="$SRC"=quickjs -ffile-prefix-map="$HERE"=wasm)
OBJ="$B/obj"
if [[ ${#VARIANT_FLAGS[@]} -gt 0 ]]; then OBJ="$B/obj-unmetered"; fi
mkdir -p "$OBJ"
pids=()
for f in quickjs libregexp libunicode cutils libbf; do
  "$CC" "${CFLAGS[@]}" -c "$SRC/$f.c" -o "$OBJ/$f.o" & pids+=($!)
done
"$CC" "${CFLAGS[@]}" -Wall -c "$HERE/runtime.c" -o "$OBJ/runtime.o" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done

"$CC" --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
  -Wl,--no-entry -Wl,--stack-first -Wl,-z,stack-size=$STACK_SIZE \
  -Wl,--max-memory=$MAX_MEMORY -Wl,--strip-all \
  -o "$OUT.tmp" "$OBJ"/*.o -lwasi-emulated-signal
mv "$OUT.tmp" "$OUT"

# ---- 5. the host must provide only these WASI functions (as stubs)
node -e '
const fs = require("fs");
const m = new WebAssembly.Module(fs.readFileSync(process.argv[1]));
const allowed = new Set(["fd_write","fd_close","fd_seek","fd_fdstat_get","clock_time_get","proc_exit"]);
const ok = i => (i.module === "wasi_snapshot_preview1" && allowed.has(i.name)) || (i.module === "rtcrm" && i.name === "now");
const bad = WebAssembly.Module.imports(m).filter(i => !ok(i));
if (bad.length) { console.error("build:wasm: unexpected imports", bad); process.exit(1); }
console.log("build:wasm: imports:", WebAssembly.Module.imports(m).map(i => `${i.module}.${i.name}`).join(" "));
' "$OUT"

ms=$((($(date +%s%N) - start) / 1000000))
printf 'build:wasm: %s (%d bytes) in %d.%03ds\n' "$OUT" "$(stat -c %s "$OUT")" $((ms / 1000)) $((ms % 1000))
