#!/usr/bin/env bash
# Fails when core/ (the pure decision library) includes Asio or Beast.
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -nE '#\s*include\s*[<"]boost/(asio|beast)' core/*.hpp core/*.cpp; then
    echo "check-layering: core/ must not include boost/asio or boost/beast" >&2
    exit 1
fi
echo "check-layering: ok"
