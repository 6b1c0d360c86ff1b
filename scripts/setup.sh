#!/usr/bin/env bash
# Installs whatever this machine lacks to build, preview and test b24pay. Idempotent: every
# step checks first and takes well under a second when its tool is already there.
# Sourced by scripts/preview.sh and scripts/test.sh; also runnable on its own.
set -euo pipefail

B24PAY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export B24PAY_ROOT
export PATH="$B24PAY_ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages -----------------------------------------------------------------------
apt_missing=()
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || apt_missing+=(chromium-driver)
command -v firefox-esr >/dev/null 2>&1 || apt_missing+=(firefox-esr)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_missing+=(postgresql)
command -v node >/dev/null 2>&1 || apt_missing+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_missing+=(npm)
command -v pkg-config >/dev/null 2>&1 || apt_missing+=(pkg-config)
if [ ${#apt_missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${apt_missing[*]} (first time: 1-3 min)"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${apt_missing[@]}"; then
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${apt_missing[@]}"
  fi
fi

# --- Rust targets and cargo-installed tools -------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    step "adding rustup component $component"
    rustup component add "$component"
  fi
done

# wasm-bindgen-cli must match the wasm-bindgen crate exactly; read the version from Cargo.lock.
wbg_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$B24PAY_ROOT/Cargo.lock")"
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg_version" ] \
  || ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
  step "installing wasm-bindgen-cli $wbg_version (first time: ~4 min)"
  # Not --locked: its lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$wbg_version" --force
fi

trunk_version="0.21.14"
if [ "$(trunk --version 2>/dev/null)" != "trunk $trunk_version" ]; then
  step "installing trunk $trunk_version (first time: ~10 min)"
  cargo install --locked trunk --version "$trunk_version" --force
fi

geckodriver_version="0.37.1"
if [ "$(geckodriver --version 2>/dev/null | head -n 1 | awk '{print $2}')" != "$geckodriver_version" ]; then
  step "installing geckodriver $geckodriver_version (first time: ~3 min)"
  cargo install --locked geckodriver --version "$geckodriver_version" --force
fi

# --- npm tools: wasm-opt from binaryen 132, terser ---------------------------------------------
if [ "$(wasm-opt --version 2>/dev/null)" != "wasm-opt version 132 (version_132)" ] \
  || [ "$(command -v wasm-opt)" != "$B24PAY_ROOT/tools/node_modules/.bin/wasm-opt" ] \
  || [ ! -f "$B24PAY_ROOT/tools/node_modules/.package-lock.json" ] \
  || [ "$B24PAY_ROOT/tools/package-lock.json" -nt "$B24PAY_ROOT/tools/node_modules/.package-lock.json" ]; then
  step "installing npm tools (binaryen@132 for wasm-opt, terser)"
  (cd "$B24PAY_ROOT/tools" && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- Python tools (localstripe, fast-bitrix24) in a project-local virtual environment -------
venv="$B24PAY_ROOT/tools/venv"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.installed" ] \
  || [ "$B24PAY_ROOT/tools/requirements.txt" -nt "$venv/.installed" ]; then
  step "installing Python tools into tools/venv (localstripe, fast-bitrix24)"
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$B24PAY_ROOT/tools/requirements.txt"
  touch "$venv/.installed"
fi
export B24PAY_VENV="$venv"

# --- crates ---------------------------------------------------------------------------------
stamp="$B24PAY_ROOT/target/.fetched"
if [ ! -f "$stamp" ] || [ "$B24PAY_ROOT/Cargo.lock" -nt "$stamp" ]; then
  step "fetching crates"
  (cd "$B24PAY_ROOT" && cargo fetch --locked)
  mkdir -p "$B24PAY_ROOT/target" && touch "$stamp"
fi
