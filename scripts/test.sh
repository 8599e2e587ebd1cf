#!/usr/bin/env bash
# Runs every test of wiresync: formatting and lints, the native core tests, the browser tests
# in headless Chromium against real servers, the JS API tests and the TypeScript type tests.
# Installs what is missing first (scripts/setup.sh). Exit status 0 only if everything passed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
step() { printf '\n==> %s\n' "$*"; }
results=$(mktemp)   # every runner's output, for the total at the end

step "format and lints"
cargo fmt --all -- --check
for app in examples/own-exports examples/leptos-app; do
  cargo fmt --manifest-path "$app/Cargo.toml" -- --check
done
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --all-targets --features small-alloc,js -- -D warnings
# ...and the crate as a Rust app builds it: no JS API.
cargo clippy --quiet --target wasm32-unknown-unknown --lib -- -D warnings
# ...and the events-only build (wiresync/events): no outbox, no cache.
cargo clippy --quiet --target wasm32-unknown-unknown --lib --no-default-features --features small-alloc,js -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --lib --features small-alloc,share,js -- -D warnings
# The API docs (`cargo doc`, the whole browser API included) must build without a warning.
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --target wasm32-unknown-unknown

step "native tests (sans-IO core, catalog, property tests, doc tests)"
cargo test --quiet 2>&1 | tee -a "$results"

# A Rust app of examples/ built for wasm32 (debug, into target/examples, shared by both) and run
# through the wasm-bindgen CLI into target/examples/<app>-js; none of wiresync's JS API may
# reach its JS.
build_app() { # <dir under examples/> <wasm name>
  CARGO_TARGET_DIR=target/examples cargo build --quiet --target wasm32-unknown-unknown \
    --manifest-path "examples/$1/Cargo.toml"
  rm -rf "target/examples/$1-js"
  wasm-bindgen --target web --out-dir "target/examples/$1-js" \
    "target/examples/wasm32-unknown-unknown/debug/$2.wasm"
  ! grep -q "RawClient" "target/examples/$1-js/$2.js" \
    || { echo "examples/$1's wasm exports wiresync's JS API"; exit 1; }
}

step "a Rust app's wasm: its own #[wasm_bindgen] connect, none of wiresync's JS API (examples/own-exports)"
build_app own-exports own_exports
grep -q "export function connect" target/examples/own-exports-js/own_exports.js \
  || { echo "the app's own connect is missing from its wasm"; exit 1; }
echo "ok - a Rust app exports its own connect; no RawClient in its wasm"

step "a Leptos 0.8 CSR app on wiresync's Rust API (examples/leptos-app; run by tests/js/leptos-app.test.mjs)"
# About 3.5-4.5 min cold (leptos), seconds warm.
build_app leptos-app leptos_app
cp examples/leptos-app/index.html target/examples/leptos-app-js/
echo "ok - the Leptos app is built in target/examples/leptos-app-js (the JS tests run it)"

step "build the npm package"
./scripts/build.sh

step "start the test servers on 127.0.0.1"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
SIO_PORT=$(free_port); JSON_PORT=$(free_port)
logs=$(mktemp -d)
SIO_PORT=$SIO_PORT node tests/servers/socketio-server.mjs > "$logs/sio.log" 2>&1 &
sio_pid=$!
JSON_PORT=$JSON_PORT node tests/servers/json-server.mjs > "$logs/json.log" 2>&1 &
json_pid=$!
trap 'kill $sio_pid $json_pid 2>/dev/null || true' EXIT
for log in "$logs/sio.log" "$logs/json.log"; do
  for _ in $(seq 1 100); do grep -q listening "$log" && break; sleep 0.1; done
  grep -q listening "$log" || { cat "$log"; echo "a test server did not start"; exit 1; }
done
export WIRESYNC_SIO_URL="http://127.0.0.1:$SIO_PORT" WIRESYNC_JSON_URL="http://127.0.0.1:$JSON_PORT"

step "browser tests (wasm-bindgen-test in headless Chromium, through wasm-pack as Rust users run them)"
# wasm-pack finds the wasm-bindgen CLI matching Cargo.lock and /usr/bin/chromedriver on PATH
# (scripts/setup.sh installs both), so it downloads nothing; it builds into target/ like cargo.
# Its "failed to get wasm-pack version" warning is harmless. Only the `browser` test target runs
# (wasm-pack first compiles every test target for wasm, though). The timeout is for the whole
# test binary (TOOLCHAIN.md, pitfall 5).
WASM_BINDGEN_TEST_TIMEOUT=240 \
  wasm-pack test --headless --chrome -- --test browser 2>&1 | tee -a "$results"

step "JS API tests (Playwright, headless Chromium)"
node --test tests/js/ 2>&1 | tee -a "$results"

step "demo walk-through (Playwright: banner, live order through the cache, chat via the outbox, server down and up, failed + Retry)"
node www/smoke.mjs 2>&1 | tee -a "$results"

step "TypeScript type tests"
node tests/types/check.mjs 2>&1 | tee -a "$results"

# One total over the runners (each has printed its own summary above).
sum() { grep -hoE "$1" "$results" | grep -oE '[0-9]+' | awk '{ s += $1 } END { print s + 0 }'; }
cargo_passed=$(sum 'test result: ok\. [0-9]+ passed')
node_passed=$(sum '^# pass [0-9]+')
types_passed=$(sum '^[0-9]+ passed, 0 failed$')
smoke_passed=$(grep -c '^\[smoke\] PASS$' "$results" || true)
printf '\nwiresync: %d passed, 0 failed\n' $((cargo_passed + node_passed + types_passed + smoke_passed))
