#!/usr/bin/env bash
# Builds only the jwtgate binary (no tests) into OUT_DIR: what deploy/Dockerfile runs.
set -euo pipefail
out=${1:?usage: build-release.sh OUT_DIR}
cd "$(dirname "$0")/.."
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DJWTGATE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target jwtgate
mkdir -p "$out"
install -m 0755 "$build/proxy/jwtgate" "$out/jwtgate"
"$out/jwtgate" --version
