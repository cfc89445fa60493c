#!/usr/bin/env bash
# Writes wasm/quickjs.patch from an edited copy of the QuickJS sources.
#
#   bash wasm/build.sh                 # once: wasm/build/src holds the pristine sources with the patch applied
#   cp -r wasm/build/src /tmp/qjs      # edit /tmp/qjs/quickjs.c (or libregexp.c, ...); the end of quickjs.c,
#                                      # from "---- appended by wasm/build.sh ----", is wasm/quickjs-ext.c: leave it
#   bash wasm/patch.sh /tmp/qjs        # writes wasm/quickjs.patch (the pristine sources -> your copy)
#   bash wasm/build.sh                 # applies it and builds
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EDITED="$(cd "${1:?usage: bash wasm/patch.sh DIR-WITH-EDITED-SOURCES}" && pwd)"
TGZ="$HERE/build/qjsc-0.3.0.tgz"
[[ -f "$TGZ" ]] || { echo "wasm/patch.sh: run bash wasm/build.sh once first (it fetches $TGZ)" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
tar xzf "$TGZ" -C "$WORK" package/deps/quickjs_2021_03_27
mkdir -p "$WORK/a" "$WORK/b"
for f in quickjs.c libregexp.c libunicode.c cutils.c libbf.c; do
  cp "$WORK/package/deps/quickjs_2021_03_27/$f" "$WORK/a/$f"
  # the appended helpers are not part of the patch
  sed '/^\/\* ---- appended by wasm\/build.sh ---- \*\/$/,$d' "$EDITED/$f" > "$WORK/b/$f"
done
# build.sh appends after an empty line: drop it again
sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$WORK/b/quickjs.c"
(cd "$WORK" && diff -rup a b > "$HERE/quickjs.patch") || true
# no timestamps in the file headers: the patch changes only when the sources do
sed -i -E 's/^(---|\+\+\+) ([^\t]+)\t.*/\1 \2/' "$HERE/quickjs.patch"
echo "wasm/patch.sh: wrote $HERE/quickjs.patch ($(grep -c '^@@' "$HERE/quickjs.patch") hunks)"
