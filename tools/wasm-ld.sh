#!/usr/bin/env bash
# The widget's linker (.cargo/config.toml, wasm32 only): Rust's own wasm-ld, without the exports
# of wasm-streams' JS classes (IntoUnderlyingSource, IntoUnderlyingByteSource,
# IntoUnderlyingSink). Leptos always links wasm-streams (server_fn's `browser` feature), and
# every `#[wasm_bindgen]` export is a root the linker keeps with all it reaches: the streams'
# pull futures, their vtables, panic strings and std's I/O error texts. A client-only app never
# streams, so without these roots the linker drops it all (4 KB of brotli, BENCHMARKS.md);
# tools/minify-wasm.mjs drops the classes from the JS glue. Code anything else reaches stays.
set -euo pipefail
lld="$("${RUSTC:-rustc}" --print sysroot)/lib/rustlib/$("${RUSTC:-rustc}" -vV | sed -n 's/^host: //p')/bin/rust-lld"
args=()
drop_next=0
for arg in "$@"; do
  if [ "$drop_next" = 1 ]; then
    drop_next=0
    case "$arg" in
      *intounderlying*) unset 'args[-1]'; continue ;;
    esac
  fi
  [ "$arg" = "--export" ] && drop_next=1
  # rustc passes a response file only when the command line is too long for the system: then
  # the exports stay (a bigger wasm, not a broken one); say so.
  case "$arg" in @*) echo "tools/wasm-ld.sh: arguments in a response file, exports kept" >&2 ;; esac
  args+=("$arg")
done
exec "$lld" "${args[@]}"
