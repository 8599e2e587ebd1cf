#!/usr/bin/env bash
# Builds the npm package into pkg/: the wasm (release, size-optimized), the wasm-bindgen glue,
# and the JS entry points and types from pkg-template/. Prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --target wasm32-unknown-unknown --lib --quiet
rm -rf pkg
wasm-bindgen --target web --out-dir pkg --out-name wiresync \
  target/wasm32-unknown-unknown/release/wiresync.wasm
# npm binaryen (Debian's wasm-opt 108 produces wasm that breaks at load).
tests/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-sign-ext \
  --enable-nontrapping-float-to-int --enable-mutable-globals --enable-reference-types \
  --enable-multivalue --strip-debug --strip-producers pkg/wiresync_bg.wasm -o pkg/wiresync_bg.wasm
cp -r pkg-template/. pkg/
rm -f pkg/.gitignore
for f in pkg/wiresync_bg.wasm pkg/wiresync.js pkg/index.js; do
  printf '[build] %-22s %7d B raw %7d B gzip\n' "${f#pkg/}" "$(wc -c < "$f")" "$(gzip -9c "$f" | wc -c)"
done
