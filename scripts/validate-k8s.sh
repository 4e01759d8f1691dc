#!/usr/bin/env bash
# Validates the Kubernetes manifests in deploy/kubernetes against the Kubernetes API
# schemas (npm package kubernetes-models) with scripts/validate-k8s.mjs; given a jwtgate
# binary, also runs `jwtgate --check-config` on the ConfigMap's jwtgate.yaml.
#
#   scripts/validate-k8s.sh [JWTGATE_BIN] [MANIFEST_DIR]
#
# The npm packages are installed once into $JWTGATE_NPM_CACHE (default
# ~/.cache/jwtgate/validate-k8s). Prints one line per check and "N passed, M failed";
# exits 0 only when nothing failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-}
manifests=${2:-$root/deploy/kubernetes}
cache=${JWTGATE_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jwtgate/validate-k8s}

# kubernetes-models 5 needs Node 22; the 4.x line runs on Node 14 and later.
packages=(kubernetes-models@4.5.1 js-yaml@4.3.2)
stamp="$cache/.installed-$(IFS=_; echo "${packages[*]}")"
if [[ ! -f $stamp ]]; then
    mkdir -p "$cache"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$cache" "${packages[@]}" >&2
    touch "$stamp"
fi

args=(--modules "$cache/node_modules" --dir "$manifests")
if [[ -n $bin ]]; then
    args+=(--jwtgate "$bin")
fi
exec node "$root/scripts/validate-k8s.mjs" "${args[@]}"
