#!/usr/bin/env bash
# Proves scripts/validate-k8s.sh both ways: it passes on deploy/kubernetes and fails, with
# the right message, on copies broken one way each. With a jwtgate binary as $1 it also
# checks the real `--check-config` on the ConfigMap's jwtgate.yaml (good and broken).
#
#   tests/deploy/test_validate_k8s.sh [JWTGATE_BIN]
#
# Prints one line per case and "N passed, M failed"; exits 0 only when nothing failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
validate=$root/scripts/validate-k8s.sh
bin=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0

# A fresh copy of the manifests in $work/<name>.
copy() {
    rm -rf "${work:?}/$1"
    cp -r "$root/deploy/kubernetes" "$work/$1"
    echo "$work/$1"
}

# expect NAME pass|fail SUBSTRING BIN DIR: runs the validator, checks status and output.
expect() {
    local name=$1 want=$2 needle=$3 check_bin=$4 dir=$5 out status
    out=$("$validate" "$check_bin" "$dir" 2>&1)
    status=$?
    local ok=1
    if [[ $want == pass && $status -ne 0 ]]; then ok=0; fi
    if [[ $want == fail && $status -eq 0 ]]; then ok=0; fi
    if [[ -n $needle && $out != *"$needle"* ]]; then ok=0; fi
    if ((ok)); then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name (exit $status, wanted $want${needle:+ with \"$needle\"})"
        printf '     | %s\n' "${out//$'\n'/$'\n'     | }"
    fi
}

expect "the committed manifests pass" pass "0 failed" "" "$root/deploy/kubernetes"

d=$(copy replicas)
sed -i 's/replicas: 2/replicas: "two"/' "$d/deployment.yaml"
expect "replicas: \"two\" is refused" fail "/spec/replicas must be integer" "" "$d"

d=$(copy typo)
sed -i '0,/readOnlyRootFilesystem/! s/readOnlyRootFilesystem: true/readOnlyRootFileSystem: true/' "$d/deployment.yaml"
expect "a misspelt securityContext field is refused" fail \
    "unknown field(s): spec.template.spec.containers[1].securityContext.readOnlyRootFileSystem" "" "$d"

d=$(copy port)
sed -i 's/targetPort: http /targetport: http /' "$d/service.yaml"
expect "a misspelt Service field is refused" fail "unknown field(s): spec.ports[0].targetport" "" "$d"

d=$(copy missing)
rm "$d/service.yaml"
expect "a resource listed in kustomization.yaml must exist" fail \
    "resources: service.yaml does not exist" "" "$d"

d=$(copy unlisted)
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: "1"\n' >"$d/extra.yaml"
expect "a manifest missing from kustomization.yaml is reported" fail \
    "extra.yaml is not listed in resources" "" "$d"

d=$(copy volume)
sed -i 's/            name: jwtgate-config/            name: jwtgate-cfg/' "$d/deployment.yaml"
expect "a configMap volume must name a defined ConfigMap" fail \
    "volume jwtgate-config -> ConfigMap jwtgate-cfg: no such ConfigMap" "" "$d"

d=$(copy kind)
sed -i 's/^apiVersion: v1$/apiVersion: v2/' "$d/service.yaml"
expect "an unknown apiVersion is refused" fail 'no Kubernetes schema for apiVersion "v2"' "" "$d"

# The --check-config wiring, with stand-ins that accept or refuse every file.
cat >"$work/accepts" <<'EOF'
#!/bin/sh
[ "$1" = --check-config ] && [ -f "$2" ] && exit 0
exit 9
EOF
cat >"$work/refuses" <<'EOF'
#!/bin/sh
echo "$2:3:1: upstreem: unknown key 'upstreem' (did you mean 'upstream'?)" >&2
exit 1
EOF
chmod +x "$work/accepts" "$work/refuses"
expect "the ConfigMap's jwtgate.yaml is handed to --check-config" pass \
    "jwtgate.yaml passes jwtgate --check-config" "$work/accepts" "$root/deploy/kubernetes"
expect "a --check-config failure fails the validation" fail \
    "unknown key 'upstreem'" "$work/refuses" "$root/deploy/kubernetes"

if [[ -n $bin ]]; then
    expect "the real jwtgate accepts config/jwtgate.yaml" pass "0 failed" "$bin" "$root/deploy/kubernetes"
    d=$(copy config)
    sed -i 's/^upstream:/upstreem:/' "$d/config/jwtgate.yaml"
    expect "the real jwtgate refuses a misspelt key" fail "upstreem" "$bin" "$d"
fi

echo "$passed passed, $failed failed"
((failed == 0))
