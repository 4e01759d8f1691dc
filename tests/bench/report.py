#!/usr/bin/env python3
"""Turns the raw output of tests/bench/run.sh (wrk reports, CPU tick deltas, openssl speed,
jwtgate's RSS) into the results table and the SPEC "Performance" ratios.

Usage: report.py RAW_DIR  (prints the report; run.sh also writes it to the results file)
Exit status: 0 every SPEC figure met, 1 one missed, 2 a run had errors (numbers void).

RAW_DIR holds <scenario>.wrk (wrk --latency output), cpu.txt ("<scenario> <ticks>" lines:
the measured server's utime+stime delta over the run), openssl.txt (openssl speed rsa2048),
rss.txt ("<when> <kB>" lines), cache.txt ("<scenario> <hits> <misses>": jwtgate's
token cache counters over the run) and meta.txt ("key=value" lines shown as the header).
"""
import os
import re
import sys

# (scenario, label, process whose CPU is counted)
SCENARIOS = [
    ("direct", "direct to upstream", "upstream nginx"),
    ("nginx", "nginx plain proxy (no auth)", "proxy nginx"),
    ("haproxy_same", "HAProxy jwt_verify, same token", "haproxy"),
    ("jwtgate_same", "jwtgate, same token (cache)", "jwtgate"),
    ("haproxy_distinct", "HAProxy jwt_verify, distinct tokens", "haproxy"),
    ("jwtgate_distinct", "jwtgate, distinct tokens", "jwtgate"),
    ("lat_direct", "paced: direct to upstream", "upstream nginx"),
    ("lat_jwtgate", "paced: jwtgate, same token", "jwtgate"),
]

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError("unknown latency %r" % text)
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse_wrk(text):
    r = {"errors": 0, "non2xx": 0}
    for line in text.splitlines():
        s = line.strip()
        m = re.match(r"(50|99)(?:\.000)?%\s+(\S+)$", s)
        if m:
            r["p" + m.group(1)] = to_ms(m.group(2))
            continue
        m = re.match(r"(\d+) requests in ([0-9.]+)(\w+),", s)
        if m:
            r["requests"] = int(m.group(1))
            continue
        m = re.match(r"Requests/sec:\s+([0-9.]+)", s)
        if m:
            r["rps"] = float(m.group(1))
            continue
        m = re.match(r"Non-2xx or 3xx responses:\s+(\d+)", s)
        if m:
            r["non2xx"] = int(m.group(1))
            continue
        m = re.match(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", s)
        if m:
            r["errors"] = sum(int(g) for g in m.groups())
    missing = [k for k in ("p50", "p99", "requests", "rps") if k not in r]
    if missing:
        raise ValueError("wrk output lacks " + ", ".join(missing))
    return r


def parse_openssl(text):
    # "rsa 2048 bits 0.000256s 0.000016s   3912.8  64307.8"
    for line in text.splitlines():
        m = re.match(r"rsa\s+2048 bits\s+\S+\s+\S+\s+([0-9.]+)\s+([0-9.]+)\s*$", line.strip())
        if m:
            return float(m.group(2))
    raise ValueError("no 'rsa 2048 bits' line in openssl speed output")


def read_pairs(path):
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                out[parts[0]] = int(parts[1])
    return out


def main():
    raw = sys.argv[1]
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    cpu = read_pairs(os.path.join(raw, "cpu.txt"))
    rss = read_pairs(os.path.join(raw, "rss.txt"))
    with open(os.path.join(raw, "openssl.txt")) as f:
        verify_per_s = parse_openssl(f.read())
    verify_us = 1e6 / verify_per_s

    lines = []
    with open(os.path.join(raw, "meta.txt")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            lines.append("%-14s %s" % (key + ":", value))
    lines.append("")

    res = {}
    invalid = []
    header = "%-38s %10s %9s %9s %10s  %s" % ("scenario", "req/s", "p50 ms", "p99 ms",
                                              "CPU us/req", "CPU of")
    lines += [header, "-" * len(header)]
    for name, label, proc in SCENARIOS:
        path = os.path.join(raw, name + ".wrk")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            r = parse_wrk(f.read())
        r["cpu_us"] = cpu[name] * tick_us / r["requests"] if r["requests"] else float("nan")
        res[name] = r
        flag = ""
        if r["non2xx"] or r["errors"]:
            flag = "  INVALID: %d non-2xx, %d socket errors" % (r["non2xx"], r["errors"])
            invalid.append(name)
        lines.append("%-38s %10.0f %9.3f %9.3f %10.2f  %s%s" % (
            label, r["rps"], r["p50"], r["p99"], r["cpu_us"], proc, flag))
    lines.append("")
    lines.append("openssl speed rsa2048: %.0f verify/s -> one verification = %.2f us CPU"
                 % (verify_per_s, verify_us))
    cache_path = os.path.join(raw, "cache.txt")
    if os.path.exists(cache_path):
        with open(cache_path) as f:
            for line in f:
                name, hits, misses = line.split()
                lines.append("jwtgate token cache during %s: %s hits, %s misses"
                             % (name, hits, misses))
    for when in ("idle_start", "idle_end"):
        if when in rss:
            lines.append("jwtgate RSS %-10s %.1f MiB" % (when.replace("_", " at ") + ":",
                                                       rss[when] / 1024.0))
    lines.append("")

    verdicts = []

    def check(text, ok):
        verdicts.append(ok)
        lines.append("%-4s %s" % ("ok" if ok else "MISS", text))

    lines.append("SPEC ratios (all from this run):")
    if {"jwtgate_same", "haproxy_same"} <= res.keys():
        ratio = res["jwtgate_same"]["rps"] / res["haproxy_same"]["rps"]
        check("same token, req/s jwtgate / HAProxy = %.2f (SPEC >= 1.00)" % ratio,
              ratio >= 1.0)
    if {"jwtgate_same", "nginx"} <= res.keys():
        ratio = res["jwtgate_same"]["cpu_us"] / res["nginx"]["cpu_us"]
        check("same token, CPU/req jwtgate / nginx plain = %.2f (SPEC <= 1.25)" % ratio,
              ratio <= 1.25)
    if {"jwtgate_distinct", "nginx"} <= res.keys():
        base = 1.25 * res["nginx"]["cpu_us"]
        budget = verify_us + base
        extra = res["jwtgate_distinct"]["cpu_us"] - base
        check("distinct tokens, jwtgate CPU/req - 1.25 x nginx = %.2f us vs one verify %.2f us"
              " (x%.2f); jwtgate / budget (verify + 1.25 x nginx = %.2f us) = %.2f (SPEC <= 1.00)"
              % (extra, verify_us, extra / verify_us, budget,
                 res["jwtgate_distinct"]["cpu_us"] / budget),
              res["jwtgate_distinct"]["cpu_us"] <= budget)
        if "haproxy_distinct" in res:
            hextra = res["haproxy_distinct"]["cpu_us"] - base
            lines.append("     distinct tokens, HAProxy CPU/req - 1.25 x nginx = %.2f us (x%.2f of a"
                         " verify); HAProxy / budget = %.2f (SPEC notes about 1.5)"
                         % (hextra, hextra / verify_us, res["haproxy_distinct"]["cpu_us"] / budget))
    if {"lat_jwtgate", "lat_direct"} <= res.keys():
        added = res["lat_jwtgate"]["p99"] - res["lat_direct"]["p99"]
        check("latency, p99 jwtgate %.3f ms - direct %.3f ms = %.3f ms added at %.0f req/s"
              " (SPEC < 1 ms at half of peak)" % (res["lat_jwtgate"]["p99"],
                                                 res["lat_direct"]["p99"], added,
                                                 res["lat_jwtgate"]["rps"]),
              added < 1.0)
    if "idle_start" in rss:
        mib = max(rss.values()) / 1024.0
        check("memory, jwtgate RSS idle = %.1f MiB (SPEC < 32 MiB)" % mib, mib < 32.0)
    if invalid:
        lines.append("INVALID runs (errors or non-2xx answers, their numbers mean nothing): "
                     + ", ".join(invalid))
    print("\n".join(lines))
    if invalid:
        return 2
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
