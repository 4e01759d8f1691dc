#!/usr/bin/env bash
# Quick start: installs the build dependencies, builds jwtgate (release preset) and runs
# `jwtgate demo` (proxy on :8080, echo upstream, local issuer). Extra arguments are passed
# to the demo, e.g. `bash scripts/demo.sh --port 18080 --admin-port 19901`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target jwtgate -j "$(nproc)"
exec build/release/proxy/jwtgate demo "$@"
