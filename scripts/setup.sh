#!/usr/bin/env bash
# Installs what wiresync's build, demo and tests need on a Debian machine, skipping whatever is
# already there (safe to run again and again). See ../shared/TOOLCHAIN.md for why each step is
# done this way.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*"; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

# 1. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
# ...and the formatter and linter the test command runs (in rustup's default profile, not in
# its minimal one).
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    log "adding the $component component"
    rustup component add "$component"
  fi
done

# ...and the standard library's source: the published wasm rebuilds std for size
# (scripts/build.sh, -Zbuild-std). Checked by its files, as build.sh does.
if [ ! -f "$(rustc --print sysroot)/lib/rustlib/src/rust/library/Cargo.lock" ]; then
  log "adding the rust-src component"
  rustup component add rust-src
fi

# 2. Chromium and its driver, same version, from Debian (npx playwright install cannot work here).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  log "installing chromium and chromium-driver"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# ...and Redis, for the two-node Socket.IO cluster the cluster tests run (tests/servers/cluster.mjs
#    starts it on 127.0.0.1 on a free port, and stops it).
if ! command -v redis-server >/dev/null 2>&1; then
  log "installing redis-server"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi

# 3. The wasm-bindgen CLI at exactly the version in Cargo.lock (without --locked: its lockfile
#    pins a crate the registry here lacks).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ] || ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
  log "installing wasm-bindgen-cli $want (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$want" --force
fi

# ...and wasm-pack, which runs the browser tests the way Rust users run them
#    (`wasm-pack test --headless --chrome`). From crates.io: its npm package and prebuilt
#    binaries download from the internet. It uses the wasm-bindgen CLI above (same version as
#    Cargo.lock, else it tries a download) and /usr/bin/chromedriver (on PATH).
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}' || true)" != 0.15.1 ]; then
  log "installing wasm-pack 0.15.1 (a few minutes, once)"
  cargo install wasm-pack --version 0.15.1 --locked --force
fi

# 4. Node packages for the test servers, the browser driver, wasm-opt, esbuild and tsc.
# npm ci in each directory whose lock file changed since its last install (a stamp holds the
# lock's hash): tests/ (servers, Playwright, tools) and the bundler test apps.
for dir in tests tests/bundlers/vite tests/bundlers/webpack tests/bundlers/expo tests/bundlers/next; do
  [ -f "$dir/package-lock.json" ] || continue
  stamp=$dir/node_modules/.wiresync-lock-sha
  sha=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sha" ]; then
    log "installing npm packages in $dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$sha" > "$stamp"
  fi
done
log "ready"
