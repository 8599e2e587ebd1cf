#!/usr/bin/env bash
# Runs the wiresync demo: installs what is missing, builds pkg/, then serves the demo page and a
# simulated Socket.IO 4.8.4 backend on http://127.0.0.1:${DEMO_PORT:-8080}/ (see www/server.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
exec node www/server.mjs
