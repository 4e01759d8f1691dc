#!/usr/bin/python3
"""Operations (SPEC "Operations" and its details): admin endpoints and readiness, the
Prometheus exposition (strictly parsed) and exact counter movements, the access log, request
ids, shadow mode, no secret in any log line, `jwtgate demo`, and SIGTERM drain."""

import base64
import calendar
import json
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import (AUDIENCE, ISSUER, Conn, Env, Failure, Gate, Key, case, check, claims,  # noqa: E402
                         expect_json_error, expect_status, free_port, jwks, main, request)
from lib.ops import Demo, JwksServer, admin_get, refused, scrape, wait_metrics, wait_ready  # noqa: E402
from lib.promtext import ParseError, parse  # noqa: E402
from lib.upstream import header_values  # noqa: E402

REQ = "jwtgate_requests_total"
DUR = "jwtgate_request_duration_seconds"
SPEC_FAMILIES = {
    "jwtgate_requests_total": ("counter", {"rule", "outcome"}),
    "jwtgate_request_duration_seconds": ("histogram", None),
    "jwtgate_upstream_errors_total": ("counter", {"kind"}),
    "jwtgate_jwks_fetches_total": ("counter", {"provider", "result"}),
    "jwtgate_jwks_keys": ("gauge", {"provider"}),
    "jwtgate_jwks_last_success_timestamp_seconds": ("gauge", {"provider"}),
    "jwtgate_token_cache_hits_total": ("counter", set()),
    "jwtgate_token_cache_misses_total": ("counter", set()),
    "jwtgate_connections_open": ("gauge", set()),
    "jwtgate_claim_headers_dropped_total": ("counter", set()),
}
ACCESS_FIELDS = ("ts", "level", "msg", "request_id", "method", "path", "status", "outcome", "rule", "provider",
                 "sub", "duration_ms", "upstream_ms", "bytes_in", "bytes_out")
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
RULES = [{"prefix": "/protected", "auth": "required"}, {"prefix": "/", "auth": "none"}]


def admin_port(e):
    return e.cfg["admin"]["port"]


def delta(m, m0, name, **labels):
    return m.total(name, **labels) - m0.total(name, **labels)


def visible_ascii(s):
    return 1 <= len(s) <= 128 and all(0x21 <= ord(c) <= 0x7E for c in s)


def expired_token(e, **kw):
    return e.key.sign(claims(ISSUER, aud=AUDIENCE, now=int(time.time()) - 1000, lifetime=60, **kw))


def access_by_id(gate, rids, timeout=3.0):
    """The access lines of these request ids, once each has one; then a settle pause so a
    duplicate line would be seen too."""
    gate.access(len(rids), timeout, match=lambda o: o.get("request_id") in rids)
    time.sleep(0.2)
    out = {}
    for o in gate.access(0, 0, match=lambda o: o.get("request_id") in rids):
        check(o["request_id"] not in out, "two access lines for request id %r" % o["request_id"])
        out[o["request_id"]] = o
    missing = [r for r in rids if r not in out]
    check(not missing, "no access line for %r" % missing)
    return out


# ------------------------------------------------------------------ the parser itself

GOOD = ('# HELP a_total A counter with \\\\ and \\n.\n# TYPE a_total counter\n'
        'a_total{x="q\\"uote",y="back\\\\slash",z="new\\nline"} 3\na_total{x="2"} 0 1700000000000\n'
        '# A comment\n# TYPE h histogram\n# HELP h A histogram.\nh_bucket{le="0.5"} 1\nh_bucket{le="1"} 2\n'
        'h_bucket{le="+Inf"} 3\nh_sum 1.5e0\nh_count 3\n# HELP g A gauge.\n# TYPE g gauge\ng -Inf\n')
BAD = [
    ("no final newline", GOOD[:-1]),
    ("sample before TYPE", "a_total 1\n# HELP a_total x\n# TYPE a_total counter\n"),
    ("undeclared family", GOOD + "zzz 1\n"),
    ("counter without _total", "# HELP c x\n# TYPE c counter\nc 1\n"),
    ("negative counter", "# HELP c_total x\n# TYPE c_total counter\nc_total -1\n"),
    ("bad escape", '# HELP c_total x\n# TYPE c_total counter\nc_total{a="\\t"} 1\n'),
    ("unterminated value", '# HELP c_total x\n# TYPE c_total counter\nc_total{a="x} 1\n'),
    ("bad label name", '# HELP c_total x\n# TYPE c_total counter\nc_total{1a="x"} 1\n'),
    ("duplicate label", '# HELP c_total x\n# TYPE c_total counter\nc_total{a="x",a="y"} 1\n'),
    ("duplicate series", "# HELP g x\n# TYPE g gauge\ng 1\ng 2\n"),
    ("bad value", "# HELP g x\n# TYPE g gauge\ng one\n"),
    ("trailing garbage", "# HELP g x\n# TYPE g gauge\ng 1 2 3\n"),
    ("split family", "# HELP g x\n# TYPE g gauge\ng{a=\"1\"} 1\n# HELP f x\n# TYPE f gauge\nf 1\ng{a=\"2\"} 1\n"),
    ("second TYPE", "# HELP g x\n# TYPE g gauge\n# TYPE g gauge\ng 1\n"),
    ("unknown TYPE", "# HELP g x\n# TYPE g meter\ng 1\n"),
    ("no HELP", "# TYPE g gauge\ng 1\n"),
    ("non-cumulative buckets", GOOD.replace('h_bucket{le="1"} 2', 'h_bucket{le="1"} 0')),
    ("+Inf != count", GOOD.replace("h_count 3", "h_count 4")),
    ("no +Inf bucket", GOOD.replace('h_bucket{le="+Inf"} 3\n', "")),
    ("buckets out of order", GOOD.replace('h_bucket{le="0.5"} 1\nh_bucket{le="1"} 2',
                                          'h_bucket{le="1"} 2\nh_bucket{le="0.5"} 1')),
    ("histogram without _sum", GOOD.replace("h_sum 1.5e0\n", "")),
    ("reserved label", "# HELP g x\n# TYPE g gauge\ng{__name__=\"x\"} 1\n"),
]


@case("ops.promtext_parser")
def _(ctx):
    m = parse(GOOD)
    check(m.value("a_total", x='q"uote', y="back\\slash", z="new\nline") == 3, "label unescaping")
    check(m.family("a_total").help == "A counter with \\ and \n.", "HELP unescaping %r" % m.family("a_total").help)
    check(m.value("h_count") == 3 and m.value("g") == float("-inf"), "values")
    for name, text in BAD:
        try:
            parse(text)
        except ParseError:
            continue
        raise Failure("the parser accepted: %s" % name)


# ------------------------------------------------------------------ admin endpoints

@case("ops.admin_endpoints")
def _(ctx):
    e = Env(ctx)
    a = admin_port(e)
    r = admin_get(a, "/healthz")
    expect_status(r, 200, "/healthz")
    r = wait_ready(a, 5)
    check((r.header("Content-Type") or "").startswith("application/json"), "/readyz Content-Type %r"
          % r.header("Content-Type"))
    check(r.json() == {"ready": True, "providers": {"main": "ready"}}, "/readyz body %r" % r.body)
    # the proxy port never serves them: they are ordinary paths routed to the upstream
    for path in ("/healthz", "/readyz", "/metrics"):
        r = e.get(path)
        expect_status(r, 200, "proxy port %s" % path)
        check(e.up.last(path) is not None, "%s on the proxy port was not forwarded upstream" % path)
        check(r.json().get("path") == path, "%s on the proxy port answered by jwtgate itself: %r" % (path, r.body[:80]))


@case("ops.host_name_addresses")
def _(ctx):
    # "localhost" for both listeners: resolved once at startup, bound to its first address
    e = Env(ctx, start=False)
    e.cfg["listen"]["address"] = "localhost"
    e.cfg["admin"]["address"] = "localhost"
    e.gate = Gate(ctx.bin, e.cfg, ctx.tmp)
    ctx.defer(e.gate.kill)
    e.gate.start()
    expect_status(e.get("/public"), 200, "proxy on localhost")
    expect_status(admin_get(admin_port(e), "/healthz"), 200, "admin on localhost")
    # a name that does not resolve: a clear error and exit status 2, not a crash
    bad = Env(ctx, start=False)
    bad.cfg["listen"]["address"] = "no-such-host.invalid"
    g = Gate(ctx.bin, bad.cfg, ctx.tmp)
    ctx.defer(g.kill)
    g.start(wait=False)
    rc = g.wait_exit(30)  # the resolver's own timeouts bound this
    check(rc == 2, "exit status %r for an unresolvable listen.address" % rc)
    check("no-such-host.invalid" in g.stderr() and "resolve" in g.stderr(), "stderr %r" % g.stderr()[-300:])


@case("ops.readyz_not_ready_then_ready")
def _(ctx):
    jport = free_port()
    remote = {"name": "remote", "issuer": "https://remote.test", "jwks_uri": "http://127.0.0.1:%d/jwks.json" % jport,
              "jwks_fetch_timeout": "1s", "jwks_min_refresh_interval": "1s"}
    e = Env(ctx, extra_providers=[remote])
    a = admin_port(e)
    r = admin_get(a, "/readyz")
    expect_status(r, 503, "/readyz with a provider whose JWKS is unreachable")
    j = r.json()
    check(j.get("ready") is False and set(j) == {"ready", "providers"}, "/readyz body %r" % j)
    check(set(j["providers"]) == {"main", "remote"} and j["providers"]["main"] == "ready", "providers %r" % j)
    check(isinstance(j["providers"]["remote"], str) and j["providers"]["remote"] not in ("", "ready"),
          "reason for remote %r" % j["providers"]["remote"])
    m = wait_metrics(a, lambda m: m.total("jwtgate_jwks_fetches_total", provider="remote", result="error") >= 1)
    check(m.total("jwtgate_jwks_fetches_total", provider="remote", result="error") >= 1, "failed fetch not counted")
    check(m.value("jwtgate_jwks_keys", provider="remote") == 0, "keys of an unloaded provider")
    check(m.value("jwtgate_jwks_keys", provider="main") == 1, "keys of the inline provider")
    # the issuer comes up: the retry (1 s backoff) loads the key set
    k1, k2 = Key.ec("r1"), Key.ec("r2")
    before = time.time()
    srv = JwksServer(jwks(k1, k2), port=jport)
    ctx.defer(srv.close)
    r = wait_ready(a, 10)
    check(r.json() == {"ready": True, "providers": {"main": "ready", "remote": "ready"}}, "/readyz body %r" % r.body)
    m = scrape(a)
    check(m.value("jwtgate_jwks_keys", provider="remote") == 2, "jwks_keys{remote} %r"
          % m.value("jwtgate_jwks_keys", provider="remote"))
    check(m.total("jwtgate_jwks_fetches_total", provider="remote", result="success") >= 1, "good fetch not counted")
    ts = m.value("jwtgate_jwks_last_success_timestamp_seconds", provider="remote")
    check(ts is not None and before - 2 <= ts <= time.time() + 2, "last success timestamp %r (now %d)"
          % (ts, time.time()))
    expect_status(e.get("/protected/r", k2.sign(claims("https://remote.test"))), 200, "token of the fetched key set")


# ------------------------------------------------------------------ metrics

@case("ops.metrics_format_and_names")
def _(ctx):
    k = Key.ec("m1")
    srv = JwksServer(jwks(k))
    ctx.defer(srv.close)
    remote = {"name": "remote", "issuer": "https://remote.test", "jwks_uri": srv.url}
    e = Env(ctx, extra_providers=[remote])
    a = admin_port(e)
    wait_ready(a, 10)
    expect_status(e.get("/protected/a", e.token()), 200)
    expect_status(e.get("/protected/b", k.sign(claims("https://remote.test"))), 200)
    expect_status(e.get("/protected/b"), 401)
    expect_json_error(e.get("/drop", headers=[("X-Test-Control", "drop")]), 502)
    m = wait_metrics(a, lambda m: m.total(DUR + "_count") >= 4 and m.total("jwtgate_upstream_errors_total") >= 1)
    for name, (typ, labels) in SPEC_FAMILIES.items():
        f = m.family(name)
        check(f is not None, "metric family %s missing" % name)
        check(f.type == typ, "%s has TYPE %s, expected %s" % (name, f.type, typ))
        check(f.samples, "%s has no sample after traffic" % name)
        if labels is not None:
            for sname, got, _ in f.samples:
                check(set(got) == labels, "%s labels %r, expected %r" % (sname, sorted(got), sorted(labels)))
    check(m.total(DUR + "_count") == 4, "histogram count %r after 4 requests" % m.total(DUR + "_count"))
    check(m.total(DUR + "_sum") > 0, "histogram sum %r" % m.total(DUR + "_sum"))
    for p in ("main", "remote"):
        check(m.value("jwtgate_jwks_keys", provider=p) == 1, "jwks_keys{%s} %r" % (p, m.value("jwtgate_jwks_keys", provider=p)))
    check(m.total("jwtgate_jwks_fetches_total", provider="remote", result="success") >= 1, "remote fetch not counted")


@case("ops.metrics_counters_move_exactly")
def _(ctx):
    rules = [{"prefix": "/protected", "auth": "required"}, {"prefix": "/open", "auth": "none"}]
    e = Env(ctx, rules=rules, top={"default_auth": "none"})
    a = admin_port(e)
    m0 = scrape(a)
    # phase 1: one token four times -> one miss, three hits
    t = e.token(sub="cache-user")
    for i in range(4):
        expect_status(e.get("/protected/c%d" % i, t), 200)
    m1 = wait_metrics(a, lambda m: delta(m, m0, DUR + "_count") >= 4)
    check(delta(m1, m0, "jwtgate_token_cache_hits_total") == 3, "cache hits +%r for a token seen 4 times"
          % delta(m1, m0, "jwtgate_token_cache_hits_total"))
    check(delta(m1, m0, "jwtgate_token_cache_misses_total") == 1, "cache misses +%r for a token seen 4 times"
          % delta(m1, m0, "jwtgate_token_cache_misses_total"))
    check(delta(m1, m0, REQ, rule="/protected", outcome="allowed") == 4, "allowed +%r after 4 allowed requests"
          % delta(m1, m0, REQ, rule="/protected", outcome="allowed"))
    # phase 2: distinct tokens, refusals, a claim with CR LF, the default rule
    for i in range(2):
        expect_status(e.get("/protected/d%d" % i, e.token(sub="u%d" % i)), 200)
    for i in range(3):
        expect_json_error(e.get("/protected/n%d" % i), 401, {"error": "No token provided"})
    expect_json_error(e.get("/protected/x", expired_token(e)), 401, {"error": "Token has expired"})
    expect_status(e.get("/protected/crlf", e.token(sub="evil\r\nX-Injected: 1")), 200)
    rec = e.up.last("/protected/crlf")
    check(not header_values(rec, "X-User-Id") and not header_values(rec, "X-Injected"), "CR LF claim emitted")
    expect_status(e.get("/elsewhere"), 200, "no rule, default_auth none")
    n2 = 2 + 3 + 1 + 1 + 1
    m2 = wait_metrics(a, lambda m: delta(m, m1, DUR + "_count") >= n2)
    want = {("/protected", "allowed"): 3, ("/protected", "no_token"): 3, ("/protected", "expired"): 1}
    for (rule, outcome), n in want.items():
        got = delta(m2, m1, REQ, rule=rule, outcome=outcome)
        check(got == n, "requests_total{rule=%r,outcome=%r} +%r, expected +%d" % (rule, outcome, got, n))
    check(delta(m2, m1, REQ, rule="default") == 1, "rule=\"default\" +%r" % delta(m2, m1, REQ, rule="default"))
    check(delta(m2, m1, REQ) == n2, "requests_total moved by %r for %d requests" % (delta(m2, m1, REQ), n2))
    check(delta(m2, m1, DUR + "_count") == n2, "histogram count +%r for %d requests" % (delta(m2, m1, DUR + "_count"), n2))
    check(delta(m2, m1, DUR + "_sum") > 0, "histogram sum did not grow")
    check(delta(m2, m1, "jwtgate_token_cache_hits_total") == 0, "cache hit for tokens never seen before")
    check(delta(m2, m1, "jwtgate_claim_headers_dropped_total") == 1, "claim_headers_dropped +%r, expected +1"
          % delta(m2, m1, "jwtgate_claim_headers_dropped_total"))
    # phase 3: an upstream reset -> 502 and an upstream error
    expect_json_error(e.get("/open/drop", headers=[("X-Test-Control", "drop")]), 502, {"error": "Bad gateway"})
    m3 = wait_metrics(a, lambda m: delta(m, m2, "jwtgate_upstream_errors_total") >= 1 and delta(m, m2, REQ) >= 1)
    check(delta(m3, m2, "jwtgate_upstream_errors_total") >= 1, "no upstream error counted for a 502")
    check(delta(m3, m2, REQ, rule="/open") == 1, "the 502 request not counted under its rule")


@case("ops.metrics_upstream_refused")
def _(ctx):
    e = Env(ctx, upstream_url="http://127.0.0.1:%d" % free_port())
    a = admin_port(e)
    m0 = scrape(a)
    f = m0.family("jwtgate_upstream_errors_total")
    check(f is not None and f.type == "counter", "jwtgate_upstream_errors_total not declared before any error")
    expect_json_error(e.get("/pub"), 502, {"error": "Bad gateway"})
    m = wait_metrics(a, lambda m: delta(m, m0, "jwtgate_upstream_errors_total") >= 1)
    check(delta(m, m0, "jwtgate_upstream_errors_total") >= 1, "refused upstream connection not counted")
    kinds = {labels.get("kind") for labels, _ in m.samples("jwtgate_upstream_errors_total")}
    check(all(kinds), "upstream error without a kind: %r" % kinds)


@case("ops.metrics_connections_open")
def _(ctx):
    e = Env(ctx)
    a = admin_port(e)
    gauge = "jwtgate_connections_open"
    m = wait_metrics(a, lambda m: m.value(gauge) == 0)
    check(m.value(gauge) == 0, "connections_open %r with no client" % m.value(gauge))
    with Conn(e.port) as c1:
        expect_status(c1.request("GET", "/pub/ka"), 200)
        m = wait_metrics(a, lambda m: m.value(gauge) == 1)
        check(m.value(gauge) == 1, "connections_open %r with one keep-alive connection" % m.value(gauge))
        with Conn(e.port) as c2:
            expect_status(c2.request("GET", "/pub/ka2"), 200)
            m = wait_metrics(a, lambda m: m.value(gauge) == 2)
            check(m.value(gauge) == 2, "connections_open %r with two connections" % m.value(gauge))
    m = wait_metrics(a, lambda m: m.value(gauge) == 0)
    check(m.value(gauge) == 0, "connections_open %r after the clients closed" % m.value(gauge))


# ------------------------------------------------------------------ access log

@case("ops.access_log_fields")
def _(ctx):
    e = Env(ctx)
    t = e.token(sub="log-user")
    r_ok = e.get("/protected//a/./b/../c?x=1&y=2", t, headers=[("X-Request-Id", "al-ok")])
    expect_status(r_ok, 200)
    r_post = e.request("POST", "/protected/p?q=z", headers=[("X-Request-Id", "al-post")], body=b"hello world", token=t)
    expect_status(r_post, 200)
    r_401 = e.get("/protected/x?secretq=1", headers=[("X-Request-Id", "al-401")])
    expect_status(r_401, 401)
    r_pub = e.get("/pub/%7Euser", headers=[("X-Request-Id", "al-pub")])
    expect_status(r_pub, 200)
    lines = access_by_id(e.gate, ["al-ok", "al-post", "al-401", "al-pub"])
    now = time.time()
    for rid, o in lines.items():
        for k in ACCESS_FIELDS:
            check(k in o, "%s: access line lacks %s: %r" % (rid, k, o))
        check(o["level"] == "info" and o["msg"] == "access", "%s: level/msg %r" % (rid, o))
        check(isinstance(o["ts"], str) and TS.fullmatch(o["ts"]), "%s: ts %r" % (rid, o["ts"]))
        ts = calendar.timegm(time.strptime(o["ts"][:19], "%Y-%m-%dT%H:%M:%S"))
        check(abs(ts - now) < 60, "%s: ts %r is not now (UTC)" % (rid, o["ts"]))
        check("?" not in o["path"], "%s: query in the logged path %r" % (rid, o["path"]))
        for k in ("status", "bytes_in", "bytes_out"):
            check(isinstance(o[k], int) and o[k] >= 0, "%s: %s %r" % (rid, k, o[k]))
        check(isinstance(o["duration_ms"], (int, float)) and o["duration_ms"] >= 0, "%s: duration_ms %r" % (rid, o))
    ok = lines["al-ok"]
    check((ok["method"], ok["path"], ok["status"], ok["outcome"], ok["rule"], ok["provider"], ok["sub"])
          == ("GET", "/protected/a/c", 200, "allowed", "/protected", "main", "log-user"), "allowed line %r" % ok)
    check(isinstance(ok["upstream_ms"], (int, float)) and 0 <= ok["upstream_ms"] <= ok["duration_ms"] + 0.01,
          "upstream_ms %r duration_ms %r" % (ok["upstream_ms"], ok["duration_ms"]))
    check(ok["bytes_in"] == 0 and ok["bytes_out"] == len(r_ok.body), "bytes %r/%r, body %d"
          % (ok["bytes_in"], ok["bytes_out"], len(r_ok.body)))
    p = lines["al-post"]
    check(p["method"] == "POST" and p["path"] == "/protected/p" and p["bytes_in"] == 11
          and p["bytes_out"] == len(r_post.body), "POST line %r" % p)
    n = lines["al-401"]
    check((n["path"], n["status"], n["outcome"], n["rule"], n["provider"], n["sub"])
          == ("/protected/x", 401, "no_token", "/protected", "", ""), "401 line %r" % n)
    check(n["upstream_ms"] is None, "upstream_ms %r for a request never forwarded" % n["upstream_ms"])
    check(n["bytes_out"] == len(r_401.body), "401 bytes_out %r, body %d" % (n["bytes_out"], len(r_401.body)))
    pub = lines["al-pub"]
    check(pub["path"] == "/pub/~user" and pub["rule"] == "/" and pub["status"] == 200, "public line %r" % pub)
    for o in lines.values():
        check(o.get("shadow") in (None, False), "shadow flag on an enforce rule: %r" % o)


@case("ops.access_log_shadow_mode")
def _(ctx):
    rules = [{"prefix": "/shadow", "auth": "required", "mode": "shadow"}] + RULES
    e = Env(ctx, rules=rules)
    a = admin_port(e)
    m0 = scrape(a)
    evil = Key.rsa("k1", "RS256")
    cases = [("sh-none", None, "no_token"), ("sh-exp", expired_token(e, sub="x-user"), "expired"),
             ("sh-bad", e.token(key=evil, sub="x-user"), "invalid"), ("sh-ok", e.token(sub="sh-user"), "allowed")]
    for rid, tok, _ in cases:
        expect_status(e.get("/shadow/" + rid, tok, headers=[("X-Request-Id", rid), ("X-User-Id", "spoof")]), 200,
                      "shadow rule forwards " + rid)
        ids = header_values(e.up.last("/shadow/" + rid), "X-User-Id")
        want = ["sh-user"] if rid == "sh-ok" else []
        check(ids == want, "%s: upstream X-User-Id %r, expected %r" % (rid, ids, want))
    expect_status(e.get("/protected/e", headers=[("X-Request-Id", "sh-enforced")]), 401)
    lines = access_by_id(e.gate, [c[0] for c in cases] + ["sh-enforced"])
    for rid, _, outcome in cases:
        o = lines[rid]
        check(o.get("shadow") is True and o["outcome"] == outcome and o["status"] == 200 and o["rule"] == "/shadow",
              "%s: shadow line %r (expected outcome %s)" % (rid, o, outcome))
    check(lines["sh-ok"]["sub"] == "sh-user" and lines["sh-bad"]["sub"] == "", "sub in shadow lines %r"
          % ([lines["sh-ok"]["sub"], lines["sh-bad"]["sub"]],))
    check(lines["sh-enforced"].get("shadow") in (None, False), "shadow flag on an enforce rule")
    m = wait_metrics(a, lambda m: delta(m, m0, REQ) >= 5)
    for _, _, outcome in cases:
        got = delta(m, m0, REQ, rule="/shadow", outcome=outcome)
        check(got == 1, "requests_total{rule=\"/shadow\",outcome=%r} +%r, expected +1" % (outcome, got))


@case("ops.request_id")
def _(ctx):
    e = Env(ctx)
    seen = []
    kept = ["abc-123", "!", "~" * 128, 'A:b/c=d?e&f#g"{}', "0"]
    for i, rid in enumerate(kept):
        path = "/pub/kept%d" % i
        r = e.get(path, headers=[("X-Request-Id", rid)])
        expect_status(r, 200)
        check(r.all("X-Request-Id") == [rid], "%r returned as %r" % (rid, r.all("X-Request-Id")))
        check(header_values(e.up.last(path), "X-Request-Id") == [rid], "%r forwarded as %r"
              % (rid, header_values(e.up.last(path), "X-Request-Id")))
        seen.append(rid)
    r = e.get("/protected/own", headers=[("X-Request-Id", "own-401")])
    expect_json_error(r, 401)
    check(r.all("X-Request-Id") == ["own-401"], "jwtgate's 401 carries %r" % r.all("X-Request-Id"))
    seen.append("own-401")
    generated = []
    invalid = [("missing", None), ("empty", ""), ("too long", "a" * 129), ("tab", "ab\tcd"), ("space", "has space"),
               ("non-ASCII", "caf\xe9"), ("control", "ab\x01cd")]
    for i, (what, bad) in enumerate(invalid):
        path = "/pub/bad%d" % i
        hs = [] if bad is None else [("X-Request-Id", bad)]
        r = e.get(path, headers=hs)
        rids = r.all("X-Request-Id")
        check(len(rids) == 1 and visible_ascii(rids[0]) and rids[0] != bad,
              "%s id %r answered with %r" % (what, bad, rids))
        if r.status == 200:
            check(header_values(e.up.last(path), "X-Request-Id") == rids, "%s: upstream got %r, client %r"
                  % (what, header_values(e.up.last(path), "X-Request-Id"), rids))
        else:
            # a control character may make the head itself malformed: still a fresh id
            check(what == "control" and r.status == 400, "%s: status %s" % (what, r.status))
        generated.append(rids[0])
    r = e.get("/protected/own2", headers=[("X-Request-Id", "b" * 129)])
    expect_json_error(r, 401)
    rids = r.all("X-Request-Id")
    check(len(rids) == 1 and visible_ascii(rids[0]) and rids[0] != "b" * 129, "401 with an invalid id: %r" % rids)
    generated.append(rids[0])
    check(len(set(generated)) == len(generated), "generated ids repeat: %r" % generated)
    lines = access_by_id(e.gate, seen + generated)
    check(lines["own-401"]["status"] == 401, "own-401 line %r" % lines["own-401"])


# ------------------------------------------------------------------ secrets

@case("ops.no_secret_logged")
def _(ctx):
    sources = [{"header": "Authorization", "scheme": "Bearer"}, {"cookie": "access_token"}, {"query": "access_token"}]
    e = Env(ctx, provider={"token_sources": sources}, top={"log": {"level": "debug", "access_log": True}})
    evil = Key.rsa("k1", "RS256")
    marker = lambda n: "jti-secret-%s-%d" % (os.urandom(6).hex(), n)  # noqa: E731
    t_valid, t_query, t_cookie, t_pub = (e.token(sub="s-user", jti=marker(i)) for i in range(4))
    t_expired = expired_token(e, jti=marker(5))
    t_bad = e.token(key=evil, jti=marker(6))
    t_query_bad = e.token(key=evil, jti=marker(7))
    cookie_secret = "sess-" + os.urandom(8).hex()
    garbage = ["garbage-" + os.urandom(8).hex(), "aaa.bbb%s.ccc" % os.urandom(4).hex(),
               "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.%s" % os.urandom(6).hex()]
    basic = "c2VjcmV0LXVzZXI6" + os.urandom(6).hex()
    reqs = [
        ("/protected/valid", t_valid, [], 200),
        ("/protected/valid", t_valid, [], 200),  # cache hit path
        ("/protected/expired", t_expired, [], 401),
        ("/protected/badsig", t_bad, [], 401),
        ("/protected/q?a=1&access_token=" + t_query, None, [], 200),
        ("/protected/qbad?access_token=" + t_query_bad, None, [], 401),
        ("/protected/c", None, [("Cookie", "theme=dark; access_token=%s; session=%s" % (t_cookie, cookie_secret))], 200),
        ("/protected/g0", None, [("Authorization", "Bearer " + garbage[0])], 401),
        ("/protected/g1", None, [("Authorization", "Bearer " + garbage[1])], 401),
        ("/protected/g2", None, [("Authorization", "Bearer " + garbage[2])], 401),
        ("/protected/basic", None, [("Authorization", "Basic " + basic)], 401),
        ("/public/t?access_token=" + t_pub, t_pub, [("Cookie", "session=" + cookie_secret)], 200),
        ("/protected/drop", t_valid, [("X-Test-Control", "drop")], 502),
        ("/a%2Fb?access_token=" + t_query, t_valid, [], 400),
    ]
    for target, tok, hs, status in reqs:
        expect_status(e.get(target, tok, headers=hs), status, target.split("?")[0])
    rec = e.up.last("/protected/q")
    check(rec is not None and "access_token" not in rec["target"], "query token forwarded: %r" % (rec or {}).get("target"))
    # a malformed head carrying a token
    with Conn(e.port) as c:
        c.send(("POST /protected/smuggle HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 3\r\n"
                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % t_valid).encode())
        expect_status(c.read_response(), 400, "CL + TE")
    e.gate.access(len(reqs), 3.0)
    e.gate.signal(signal.SIGTERM)
    rc = e.gate.wait_exit(8)
    check(rc == 0, "exit status %r after SIGTERM" % rc)
    out, err = e.gate.stdout(), e.gate.stderr()
    access = [o for o in e.gate.log_lines() if o.get("msg") == "access"]  # also: every stdout line is JSON
    check(len(access) >= len(reqs), "only %d access lines for %d requests" % (len(access), len(reqs)))
    secrets = {"cookie value": cookie_secret, "Basic credentials": basic}
    for i, g in enumerate(garbage):
        secrets["garbage Authorization %d" % i] = g
    for name, tok in (("valid", t_valid), ("query", t_query), ("cookie", t_cookie), ("public", t_pub),
                      ("expired", t_expired), ("bad signature", t_bad), ("bad query", t_query_bad)):
        _, payload, sig = tok.split(".")
        secrets[name + " token"] = tok
        secrets[name + " payload segment"] = payload
        secrets[name + " signature segment"] = sig
        secrets[name + " signature prefix"] = sig[:16]
        secrets[name + " payload suffix"] = payload[-16:]
        secrets[name + " jti claim"] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]
    for stream, text in (("stdout", out), ("stderr", err)):
        for name, s in secrets.items():
            for line in text.splitlines():
                check(s not in line, "%s logs the %s: %r" % (stream, name, line[:200]))


# ------------------------------------------------------------------ demo

@case("ops.demo")
def _(ctx):
    port, aport = free_port(), free_port()
    d = Demo(ctx.bin, ctx.tmp, port, aport)
    ctx.defer(d.kill)
    token = d.wait_token()
    check(token.count(".") == 2, "TOKEN= line is not a compact JWS: %r" % token[:60])
    check("curl" in d.stdout(), "demo printed no curl lines")
    d.wait_port()
    r = wait_ready(aport, 15)
    j = r.json()
    check(j.get("ready") is True and j.get("providers") and all(v == "ready" for v in j["providers"].values()),
          "demo /readyz %r" % j)
    r = request(port, "GET", "/orders", [("Authorization", "Bearer " + token)])
    expect_status(r, 200, "demo /orders with TOKEN")
    hdrs = {k.lower(): v for k, v in r.json().get("headers", {}).items()}
    check(hdrs.get("x-user-id"), "the echo does not show X-User-Id: %r" % r.body[:300])
    expect_json_error(request(port, "GET", "/orders"), 401, {"error": "No token provided"})
    for bad in (token + ".x", token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")):
        j = expect_json_error(request(port, "GET", "/orders", [("Authorization", "Bearer " + bad)]), 401)
        check(j.get("error") == "Invalid token", "bad token -> %r" % j)
    expect_status(request(port, "GET", "/public/x"), 200, "demo /public/x without token")
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait_exit(5)
    check(rc == 0, "demo exit status %r %.1fs after SIGTERM" % (rc, time.monotonic() - t0))


# ------------------------------------------------------------------ SIGTERM

@case("ops.sigterm_idle_keepalive")
def _(ctx):
    e = Env(ctx, limits={"drain_timeout": "10s"})
    with Conn(e.port) as c:
        expect_status(c.request("GET", "/pub/idle"), 200)
        t0 = time.monotonic()
        e.gate.signal(signal.SIGTERM)
        deadline = t0 + 1.0
        while not refused(e.port):
            check(time.monotonic() < deadline, "the listener still accepts 1 s after SIGTERM")
            time.sleep(0.01)
        rc = e.gate.wait_exit(5)
        dt = time.monotonic() - t0
        check(rc == 0, "exit status %r after SIGTERM with an idle keep-alive connection" % rc)
        check(dt < 3, "exit took %.1fs with only an idle connection (drain_timeout 10s)" % dt)
        check(c.closed_by_peer(1), "the idle keep-alive connection was not closed")
    e.gate.log_lines()


@case("ops.sigterm_drains_in_flight")
def _(ctx):
    e = Env(ctx, limits={"drain_timeout": "10s"})
    result = {}

    def slow():
        try:
            result["r"] = e.get("/pub/slow", headers=[("X-Test-Control", "delay=1.5")], timeout=10)
        except Exception as x:  # noqa: BLE001
            result["r"] = x

    th = threading.Thread(target=slow, daemon=True)
    th.start()
    deadline = time.monotonic() + 3
    while not e.up.reqs("/pub/slow"):
        check(time.monotonic() < deadline, "the slow request did not reach the upstream")
        time.sleep(0.01)
    t0 = time.monotonic()
    e.gate.signal(signal.SIGTERM)
    while not refused(e.port):
        check(time.monotonic() < t0 + 0.5, "the listener still accepts 0.5 s after SIGTERM")
        time.sleep(0.01)
    check(e.gate.proc.poll() is None, "jwtgate exited with a request in flight")
    th.join(10)
    r = result.get("r")
    check(not isinstance(r, Exception) and r is not None and r.status == 200, "in-flight request during drain: %r" % r)
    rc = e.gate.wait_exit(8)
    check(rc == 0, "exit status %r after draining" % rc)
    check(time.monotonic() - t0 < 5, "drain took %.1fs for a 1.5s request" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()
