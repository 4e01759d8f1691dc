#!/usr/bin/env bash
# Benchmarks jwtgate against nginx (plain reverse proxy) and HAProxy 2.6 (jwt_verify) and
# prints the SPEC "Performance" ratios from one run. Not part of CI. See README.md here.
#
# Usage: tests/bench/run.sh [JWTGATE_BINARY]   (default build/release/proxy/jwtgate)
# Environment: BENCH_OUT (results file, default build/bench-results.txt), BENCH_DURATION
# (seconds per run, 10), BENCH_CONNECTIONS (32), BENCH_TOKENS (2000), BENCH_CACHE_ENTRIES
# (100), BENCH_PACE_DELAY_MS (1), BENCH_TIMEOUT (whole run, 175 s).
# Exit status: 0 every SPEC figure met, 1 one missed, 2 a run had errors, other: failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# The whole run is bounded: re-run under timeout(1), which TERMs this script (whose trap
# stops every server) when the time is up.
if [[ -z ${JWTGATE_BENCH_BOUNDED:-} ]]; then
    JWTGATE_BENCH_BOUNDED=1 exec timeout --foreground -k 20 "${BENCH_TIMEOUT:-175}" \
        bash "${BASH_SOURCE[0]}" "$@"
fi

bin=${1:-$repo/build/release/proxy/jwtgate}
[[ $bin == /* ]] || bin=$PWD/$bin
out=${BENCH_OUT:-$repo/build/bench-results.txt}
[[ $out == /* ]] || out=$PWD/$out
duration=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-32}
ntokens=${BENCH_TOKENS:-2000}
cache_entries=${BENCH_CACHE_ENTRIES:-100}
pace_delay_ms=${BENCH_PACE_DELAY_MS:-1}
python=/usr/bin/python3

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 3
}

[[ -x $bin ]] || die "no jwtgate binary at $bin (build it, or pass its path)"

# --- dependencies (Debian packages), idempotent like scripts/install-deps.sh -------------
install_deps() {
    local packages=(wrk nginx haproxy curl openssl procps util-linux python3 python3-jwt
        python3-cryptography)
    local missing=() p
    for p in "${packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    local sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    log "installing ${missing[*]}"
    # Keep the packages' own services (nginx and haproxy on their default ports) from
    # starting: this benchmark runs private instances only.
    local policy=/usr/sbin/policy-rc.d added_policy=
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
        "${sudo_cmd[@]}" chmod 0755 "$policy"
        added_policy=1
    fi
    local rc=0
    {
        export DEBIAN_FRONTEND=noninteractive
        "${sudo_cmd[@]}" apt-get update -qq &&
            "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
                >/dev/null
    } || rc=$?
    [[ -n $added_policy ]] && "${sudo_cmd[@]}" rm -f "$policy"
    return "$rc"
}
install_deps || die "cannot install the benchmark's packages"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)

# --- processes: every one started is recorded and stopped by PID -------------------------
tmp=$(mktemp -d /tmp/jwtgate-bench.XXXXXX)
declare -a server_pids=()
pid_upstream='' pid_proxy='' pid_haproxy='' pid_jwtgate='' # set by start()
current_pid=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    local p
    [[ -n $current_pid ]] && kill -TERM "$current_pid" 2>/dev/null
    for p in "${server_pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for _ in $(seq 50); do
        local alive=
        for p in "${server_pids[@]}" $current_pid; do
            kill -0 "$p" 2>/dev/null && alive=1
        done
        [[ -z $alive ]] && break
        sleep 0.1
    done
    for p in "${server_pids[@]}" $current_pid; do
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Servers share one core, the load generator (and the upstream) the other, when there are two.
server_cpu=() gen_cpu=() pinning="none (fewer than 2 CPUs or no taskset)"
if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
    server_cpu=(taskset -c 0) gen_cpu=(taskset -c 1)
    pinning="proxies and openssl on CPU 0; wrk and the upstream nginx on CPU 1"
fi

# start NAME CPU_PREFIX_VAR CMD...: runs CMD in the background, its PID in pid_NAME.
start() {
    local name=$1 prefix_var=$2
    shift 2
    local -n prefix=$prefix_var
    "${prefix[@]}" "$@" >"$tmp/$name.log" 2>&1 &
    server_pids+=("$!")
    printf -v "pid_$name" '%s' "$!"
}

# wait_http NAME URL: polls URL until it answers (any status), for up to 10 s.
wait_http() {
    local name=$1 url=$2 pidvar="pid_$1"
    for _ in $(seq 100); do
        if ! kill -0 "${!pidvar}" 2>/dev/null; then
            cat "$tmp/$name.log" >&2
            die "$name exited during startup"
        fi
        curl -s -o /dev/null --max-time 1 "$url" && return 0
        sleep 0.1
    done
    cat "$tmp/$name.log" >&2
    die "$name did not answer on $url"
}

# The PIDs whose CPU time is a server's: nginx's master and its workers, else the process.
server_procs() {
    local pid=$1
    local children
    children=$(pgrep -P "$pid" | tr '\n' ' ' || true)
    echo "$pid $children"
}

# cpu_ticks PID...: utime + stime (all threads) summed over the processes, in clock ticks.
cpu_ticks() {
    local total=0 p stat
    local -a f
    for p in "$@"; do
        stat=$(<"/proc/$p/stat")
        read -r -a f <<<"${stat##*) }"
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

free_ports() {
    "$python" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# --- fixtures ------------------------------------------------------------------------------
log "minting $ntokens tokens in $tmp"
"$python" "$here/mint.py" "$tmp" --count "$ntokens" --delay-ms "$pace_delay_ms"
# shellcheck disable=SC1091
source "$tmp/claims.env"
token=$(<"$tmp/token")
other=$(head -n1 "$tmp/tokens.txt")
bad_token="${token%.*}.${other##*.}" # a valid signature of another payload

read -r up_port ngx_port hap_port jg_port admin_port <<<"$(free_ports 5)"

# --- configurations ------------------------------------------------------------------------
nginx_conf() { # NAME PORT LOCATION_BODY [HTTP_EXTRA]
    local d="$tmp/$1"
    mkdir -p "$d"
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type text/plain;
    keepalive_requests 10000000;
    client_body_temp_path $d/client;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    ${4:-}
    server {
        listen 127.0.0.1:$2;
        location / { $3 }
    }
}
EOF
}
nginx_conf upstream "$up_port" 'return 200 "ok\n";'
nginx_conf proxy "$ngx_port" \
    'proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";' \
    "upstream up { server 127.0.0.1:$up_port; keepalive 64; keepalive_requests 10000000; }"

# HAProxy: the documented jwt_verify recipe plus the claim checks jwtgate also makes
# (iss, aud, exp), so both do comparable work.
cat >"$tmp/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    option http-keep-alive
    http-reuse always
frontend fe
    bind 127.0.0.1:$hap_port
    http-request set-var(txn.bearer) http_auth_bearer
    http-request set-var(txn.jwt_alg) var(txn.bearer),jwt_header_query('\$.alg')
    http-request deny deny_status 401 unless { var(txn.jwt_alg) -m str RS256 }
    http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.jwt_alg,"$tmp/pub.pem") -m int 1 }
    http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('\$.iss') -m str $ISSUER }
    http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('\$.aud') -m str $AUDIENCE }
    http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('\$.exp','int')
    http-request set-var(txn.now) date()
    http-request deny deny_status 401 unless { var(txn.exp),sub(txn.now) -m int gt 0 }
    default_backend be
backend be
    server up 127.0.0.1:$up_port
EOF

cat >"$tmp/jwtgate.yaml" <<EOF
listen:
  address: 127.0.0.1
  port: $jg_port
threads: 1
token_cache:
  max_entries: $cache_entries
admin:
  address: 127.0.0.1
  port: $admin_port
upstream:
  url: http://127.0.0.1:$up_port
providers:
  - name: bench
    issuer: $ISSUER
    jwks_file: $tmp/jwks.json
    audiences: [$AUDIENCE]
    algorithms: [RS256]
default_auth: required
log:
  level: warn
  access_log: false
EOF

# --- start ---------------------------------------------------------------------------------
"$nginx_bin" -t -q -p "$tmp/upstream/" -c "$tmp/upstream/nginx.conf" ||
    die "nginx rejects the upstream configuration"
"$haproxy_bin" -c -q -f "$tmp/haproxy.cfg" || die "haproxy rejects its configuration"
"$bin" --check-config "$tmp/jwtgate.yaml" >/dev/null || die "jwtgate rejects its configuration"

start upstream gen_cpu "$nginx_bin" -p "$tmp/upstream/" -c "$tmp/upstream/nginx.conf"
start proxy server_cpu "$nginx_bin" -p "$tmp/proxy/" -c "$tmp/proxy/nginx.conf"
start haproxy server_cpu "$haproxy_bin" -db -f "$tmp/haproxy.cfg"
start jwtgate server_cpu "$bin" --config "$tmp/jwtgate.yaml"
up_url="http://127.0.0.1:$up_port/"
ngx_url="http://127.0.0.1:$ngx_port/"
hap_url="http://127.0.0.1:$hap_port/"
jg_url="http://127.0.0.1:$jg_port/"
wait_http upstream "$up_url"
wait_http proxy "$ngx_url"
wait_http haproxy "$hap_url"
wait_http jwtgate "http://127.0.0.1:$admin_port/readyz"
up_procs=$(server_procs "$pid_upstream")
ngx_procs=$(server_procs "$pid_proxy")

# Each server must answer the token with the upstream's body and refuse the others;
# otherwise cheap refusals would pass for throughput.
expect() { # WANT_STATUS URL [TOKEN]
    local auth=() got
    [[ -n ${3:-} ]] && auth=(-H "Authorization: Bearer $3")
    got=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 5 "${auth[@]}" "$2")
    [[ $got == "$1" ]] || die "$2 answered $got, expected $1 (token: ${3:+yes})"
    if [[ $1 == 200 ]] && [[ $(<"$tmp/body") != ok ]]; then
        die "$2 answered 200 without the upstream's body"
    fi
}
expect 200 "$up_url"
expect 200 "$ngx_url"
for url in "$hap_url" "$jg_url"; do
    expect 200 "$url" "$token"
    expect 200 "$url" "$other"
    expect 401 "$url"
    expect 401 "$url" "$bad_token"
done
sleep 1
echo "idle_start $(rss_kb "$pid_jwtgate")" >"$tmp/rss.txt"

metric() { # NAME: a counter from jwtgate's /metrics
    curl -s --max-time 2 "http://127.0.0.1:$admin_port/metrics" |
        awk -v n="$1" '$1 == n {print $2; found=1} END {if (!found) print 0}'
}

# scenario NAME URL PROCS CONNECTIONS [WRK_ARGS...]: a 1 s warm-up, then the measured run;
# the server's CPU time over the measured run goes to cpu.txt.
scenario() {
    local name=$1 url=$2 procs=$3 c=$4
    shift 4
    log "$name: ${duration}s, $c connections"
    "${gen_cpu[@]}" timeout -k 2 10 wrk -t1 -c"$c" -d1s "$@" "$url" >/dev/null 2>&1 &
    current_pid=$!
    wait "$current_pid" || die "$name: warm-up failed"
    local hits0=0 miss0=0 before after
    if [[ $procs == "$jg_procs" ]]; then
        hits0=$(metric jwtgate_token_cache_hits_total)
        miss0=$(metric jwtgate_token_cache_misses_total)
    fi
    # shellcheck disable=SC2086
    before=$(cpu_ticks $procs)
    "${gen_cpu[@]}" timeout -k 2 $((duration + 15)) \
        wrk -t1 -c"$c" -d"${duration}s" --latency "$@" "$url" >"$tmp/raw/$name.wrk" 2>&1 &
    current_pid=$!
    wait "$current_pid" || die "$name: wrk failed: $(cat "$tmp/raw/$name.wrk")"
    current_pid=
    # shellcheck disable=SC2086
    after=$(cpu_ticks $procs)
    echo "$name $((after - before))" >>"$tmp/raw/cpu.txt"
    if [[ $procs == "$jg_procs" ]]; then
        echo "$name $(($(metric jwtgate_token_cache_hits_total) - hits0))" \
            "$(($(metric jwtgate_token_cache_misses_total) - miss0))" >>"$tmp/raw/cache.txt"
    fi
}

mkdir -p "$tmp/raw"
mv "$tmp/rss.txt" "$tmp/raw/rss.txt"
jg_procs=$pid_jwtgate hap_procs=$pid_haproxy
auth=(-H "Authorization: Bearer $token")
scenario direct "$up_url" "$up_procs" "$conns"
scenario nginx "$ngx_url" "$ngx_procs" "$conns"
scenario haproxy_same "$hap_url" "$hap_procs" "$conns" "${auth[@]}"
scenario jwtgate_same "$jg_url" "$jg_procs" "$conns" "${auth[@]}"
scenario haproxy_distinct "$hap_url" "$hap_procs" "$conns" -s "$tmp/distinct.lua"
scenario jwtgate_distinct "$jg_url" "$jg_procs" "$conns" -s "$tmp/distinct.lua"

# Latency at half of jwtgate's peak: wrk2 (constant rate) is not in Debian, so each of C
# connections waits pace_delay_ms before every request (wrk's delay() hook; its timers have
# millisecond resolution). C is calibrated against jwtgate in two short runs so the rate is
# about half of the peak, then the same C is used for the direct and the proxied run.
peak=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/raw/jwtgate_same.wrk")
target=$((peak / 2))
clamp_conns() { local c=$1; ((c < 1)) && c=1; ((c > 2000)) && c=2000; echo "$c"; }
pace_conns=$(clamp_conns $((target * pace_delay_ms / 1000)))
for _ in 1 2; do
    "${gen_cpu[@]}" timeout -k 2 10 wrk -t1 -c"$pace_conns" -d2s -s "$tmp/paced.lua" "$jg_url" \
        >"$tmp/calibrate.wrk" 2>&1 &
    current_pid=$!
    wait "$current_pid" || die "calibration failed: $(cat "$tmp/calibrate.wrk")"
    current_pid=
    rate=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/calibrate.wrk")
    ((rate > 0)) || die "calibration measured no requests"
    pace_conns=$(clamp_conns $(((pace_conns * target + rate / 2) / rate)))
done
scenario lat_direct "$up_url" "$up_procs" "$pace_conns" -s "$tmp/paced.lua"
scenario lat_jwtgate "$jg_url" "$jg_procs" "$pace_conns" -s "$tmp/paced.lua"

sleep 1
echo "idle_end $(rss_kb "$pid_jwtgate")" >>"$tmp/raw/rss.txt"

log "openssl speed -seconds 3 rsa2048"
"${server_cpu[@]}" openssl speed -seconds 3 rsa2048 >"$tmp/raw/openssl.txt" 2>/dev/null &
current_pid=$!
wait "$current_pid" || die "openssl speed failed"
current_pid=

{
    echo "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "machine=$(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr)"
    echo "command=$(env | grep '^BENCH_' | sort | tr '\n' ' ')tests/bench/run.sh $*"
    echo "jwtgate=$bin ($("$bin" --version 2>&1 | head -n1))"
    echo "servers=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //'), $("$haproxy_bin" -v | head -n1 | cut -d' ' -f1-3), $(openssl version | cut -d' ' -f1-2), wrk $(wrk -v 2>&1 | head -n1 | cut -d' ' -f2)"
    echo "setup=1 thread/worker each, keep-alive; wrk -t1 -c$conns -d${duration}s; $ntokens distinct tokens, token_cache.max_entries $cache_entries"
    echo "pinning=$pinning"
    echo "paced runs=wrk -t1 -c$pace_conns with a ${pace_delay_ms} ms delay() before each request, calibrated for $target req/s (half of jwtgate's peak $peak); closed loop, not wrk2's constant rate, no coordinated-omission correction"
} >"$tmp/raw/meta.txt"

mkdir -p "$(dirname "$out")"
rc=0
"$python" "$here/report.py" "$tmp/raw" >"$out" || rc=$?
cat "$out"
log "results written to $out"
exit "$rc"
