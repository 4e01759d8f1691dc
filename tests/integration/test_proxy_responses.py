#!/usr/bin/python3
"""Proxy: every row of SPEC's response table end to end (status, exact JSON body,
WWW-Authenticate, Retry-After), X-Request-Id on every answer, and the access log."""

import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import (AUDIENCE, ISSUER, Conn, Env, Failure, Key, case, check, claims,  # noqa: E402
                         expect_json_error, expect_status, free_port, jwks, main)

NO_TOKEN = {"error": "No token provided"}
EXPIRED = {"error": "Token has expired"}


def not_forwarded(env, path):
    check(not env.up.reqs(path), "upstream received %s although jwtgate answered" % path)


@case("responses.no_token")
def _(ctx):
    e = Env(ctx)
    r = e.get("/protected/a")
    expect_json_error(r, 401, NO_TOKEN)
    check(r.header("WWW-Authenticate") == 'Bearer realm="jwtgate"', "WWW-Authenticate %r" % r.header("WWW-Authenticate"))
    not_forwarded(e, "/protected/a")


@case("responses.other_scheme_is_no_token")
def _(ctx):
    e = Env(ctx)
    expect_json_error(e.get("/protected/a", headers=[("Authorization", "Basic dXNlcjpwYXNz")]), 401, NO_TOKEN)


@case("responses.expired")
def _(ctx):
    e = Env(ctx)
    t = e.key.sign(claims(ISSUER, aud=AUDIENCE, now=int(time.time()) - 1000, lifetime=60))
    r = e.get("/protected/a", t)
    expect_json_error(r, 401, EXPIRED)
    check(r.header("WWW-Authenticate") == 'Bearer error="invalid_token", error_description="Token has expired"',
          "WWW-Authenticate %r" % r.header("WWW-Authenticate"))
    not_forwarded(e, "/protected/a")


@case("responses.invalid_signature")
def _(ctx):
    e = Env(ctx)
    evil = Key.rsa("k1", "RS256")  # same kid, another key
    t = e.token(key=evil)
    r = e.get("/protected/a", t)
    j = expect_json_error(r, 401)
    check(j.get("error") == "Invalid token" and set(j) == {"error", "details"}, "body %r" % j)
    check(isinstance(j["details"], str) and j["details"], "details %r" % j)
    for part in t.split("."):
        check(part not in r.body.decode() and part not in " ".join(v for _, v in r.headers),
              "the response echoes part of the token")
    check((r.header("WWW-Authenticate") or "").startswith('Bearer error="invalid_token"'),
          "WWW-Authenticate %r" % r.header("WWW-Authenticate"))
    not_forwarded(e, "/protected/a")


@case("responses.invalid_malformed_bearer")
def _(ctx):
    e = Env(ctx)
    for value in ("Bearer", "Bearer not.a.jwt!", "Bearer a.b"):
        j = expect_json_error(e.get("/protected/m", headers=[("Authorization", value)]), 401)
        check(j.get("error") == "Invalid token", "%r -> %r" % (value, j))


@case("responses.insufficient_scope")
def _(ctx):
    rules = [{"prefix": "/orders", "auth": "required", "require": {"scopes": ["orders:read", "orders:list"]}},
             {"prefix": "/", "auth": "none"}]
    e = Env(ctx, rules=rules)
    r = e.get("/orders/1", e.token(scope="orders:read"))
    expect_json_error(r, 403, {"error": "Insufficient scope"})
    wa = r.header("WWW-Authenticate") or ""
    check(wa.startswith('Bearer error="insufficient_scope"') and 'scope="orders:read orders:list"' in wa,
          "WWW-Authenticate %r" % wa)
    not_forwarded(e, "/orders/1")
    expect_status(e.get("/orders/2", e.token(scope="orders:list orders:read")), 200, "all scopes present")


@case("responses.claims_forbidden")
def _(ctx):
    rules = [{"prefix": "/admin", "auth": "required", "require": {"claims": {"role": "admin"}}},
             {"prefix": "/", "auth": "none"}]
    e = Env(ctx, rules=rules)
    r = e.get("/admin/x", e.token(role="user"))
    expect_json_error(r, 403, {"error": "Forbidden"})
    check(r.header("WWW-Authenticate") is None, "403 Forbidden carries WWW-Authenticate")
    not_forwarded(e, "/admin/x")
    expect_status(e.get("/admin/y", e.token(role=["user", "admin"])), 200, "claim array containing admin")


@case("responses.deny_rule")
def _(ctx):
    rules = [{"prefix": "/internal", "auth": "deny"}, {"prefix": "/", "auth": "none"}]
    e = Env(ctx, rules=rules)
    expect_json_error(e.get("/internal/x", e.token()), 403, {"error": "Forbidden"})
    expect_json_error(e.get("/internal"), 403, {"error": "Forbidden"})
    not_forwarded(e, "/internal/x")


@case("responses.key_set_unavailable")
def _(ctx):
    dead = free_port()
    other = {"name": "remote", "issuer": "https://remote.test",
             "jwks_uri": "http://127.0.0.1:%d/jwks.json" % dead,
             "jwks_fetch_timeout": "1s", "jwks_min_refresh_interval": "1s"}
    e = Env(ctx, extra_providers=[other])
    k = Key.rsa("r1", "RS256")
    t = k.sign(claims("https://remote.test", aud=AUDIENCE))
    t0 = time.monotonic()
    r = e.get("/protected/r", t, timeout=15)
    dt = time.monotonic() - t0
    expect_json_error(r, 503, {"error": "Key set unavailable"})
    ra = r.header("Retry-After")
    check(ra is not None and ra.isdigit() and int(ra) >= 1, "Retry-After %r" % ra)
    check(dt < 5, "503 took %.1fs with a 1s fetch timeout" % dt)
    # the loaded provider and public routes are unaffected
    expect_status(e.get("/protected/ok", e.token()), 200, "token of the loaded provider")
    expect_status(e.get("/public"), 200, "public route")


@case("responses.bad_path")
def _(ctx):
    e = Env(ctx)
    for target in ("/a/%2e%2e/%2e%2e/x", "/a%2Fb", "/x%00", "/../etc/passwd", "/a%5cb", "/%zz"):
        r = e.get(target)
        j = expect_json_error(r, 400)
        check(j.get("error") == "Bad request", "%s -> %r" % (target, j))
    check(not e.up.reqs(), "a malformed path reached the upstream: %r" % [x["target"] for x in e.up.reqs()])


@case("responses.head_too_large")
def _(ctx):
    e = Env(ctx, limits={"max_header_bytes": "4KiB"})
    expect_status(e.get("/pub", headers=[("X-Pad", "a" * 3000)]), 200, "3000-byte header under 4KiB")
    expect_json_error(e.get("/big", headers=[("X-Pad", "a" * 5000)]), 431)
    expect_json_error(e.get("/many", headers=[("X-P%d" % i, "b" * 60) for i in range(80)]), 431)
    check(not e.up.reqs("/big") and not e.up.reqs("/many"), "oversized head forwarded")


@case("responses.body_too_large")
def _(ctx):
    e = Env(ctx, limits={"max_body_bytes": "1KiB"})
    expect_status(e.request("POST", "/pub/small", body=b"x" * 1024), 200, "exactly the limit")
    expect_json_error(e.request("POST", "/pub/large", body=b"x" * 1025), 413)
    check(not e.up.reqs("/pub/large"), "oversized fixed-length body forwarded")
    # chunked: exceeded while streaming, before any response -> 413
    with Conn(e.port) as c:
        c.send(b"POST /pub/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        c.send(b"200\r\n" + b"y" * 512 + b"\r\n" + b"200\r\n" + b"y" * 512 + b"\r\n" + b"10\r\n" + b"y" * 16 + b"\r\n")
        r = c.read_response()
    expect_json_error(r, 413)


@case("responses.upstream_refused")
def _(ctx):
    e = Env(ctx, upstream_url="http://127.0.0.1:%d" % free_port())
    r = e.get("/pub")
    expect_json_error(r, 502, {"error": "Bad gateway"})
    expect_json_error(e.get("/protected/x", e.token()), 502, {"error": "Bad gateway"})


@case("responses.upstream_reset")
def _(ctx):
    e = Env(ctx)
    expect_json_error(e.get("/pub", headers=[("X-Test-Control", "drop")]), 502, {"error": "Bad gateway"})
    expect_status(e.get("/pub/after"), 200, "next request after an upstream reset")


@case("responses.upstream_timeout")
def _(ctx):
    e = Env(ctx, upstream={"timeout": "1s"})
    t0 = time.monotonic()
    r = e.get("/slow", headers=[("X-Test-Control", "delay=4")], timeout=10)
    dt = time.monotonic() - t0
    expect_json_error(r, 504, {"error": "Gateway timeout"})
    check(dt < 3, "504 after %.1fs with a 1s upstream timeout" % dt)


@case("responses.upstream_connect_timeout")
def _(ctx):
    # a listening socket whose backlog is full never completes the handshake
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(0)
    ctx.defer(blocker.close)
    port = blocker.getsockname()[1]
    fillers = []
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)
    ctx.defer(lambda: [s.close() for s in fillers])
    e = Env(ctx, upstream_url="http://127.0.0.1:%d" % port, upstream={"connect_timeout": "500ms"})
    t0 = time.monotonic()
    r = e.get("/pub", timeout=10)
    dt = time.monotonic() - t0
    check(r.status in (502, 504), "connect to a saturated backlog: %s" % r.status)
    check(dt < 3, "answer after %.1fs with a 500ms connect timeout" % dt)


@case("responses.request_id")
def _(ctx):
    e = Env(ctx)
    r = e.get("/pub", headers=[("X-Request-Id", "abc-123")])
    check(r.header("X-Request-Id") == "abc-123", "kept id not returned: %r" % r.header("X-Request-Id"))
    rec = e.up.last("/pub")
    check([v for k, v in rec["headers"] if k.lower() == "x-request-id"] == ["abc-123"], "upstream id %r" % rec["headers"])
    r = e.get("/protected/x", headers=[("X-Request-Id", "abc-456")])
    check(r.header("X-Request-Id") == "abc-456", "401 without the client's request id")
    for bad in ("", "a" * 129, "has space", "caf\xe9"):
        r = e.get("/pub2", headers=[("X-Request-Id", bad)])
        rid = r.header("X-Request-Id") or ""
        check(rid and rid != bad and 1 <= len(rid) <= 128, "invalid id %r kept as %r" % (bad, rid))
        got = [v for k, v in e.up.last("/pub2")["headers"] if k.lower() == "x-request-id"]
        check(got == [rid], "upstream id %r, client got %r" % (got, rid))


@case("responses.access_log")
def _(ctx):
    e = Env(ctx)
    t = e.token(sub="log-user")
    expect_status(e.get("/protected/log?access_token=secret-q", t, headers=[("X-Request-Id", "rid-1")]), 200)
    expect_status(e.get("/protected/log2", headers=[("Cookie", "session=cookie-secret"), ("X-Request-Id", "rid-2")]), 401)
    lines = e.gate.access(2, match=lambda o: o.get("request_id") in ("rid-1", "rid-2"))
    check(len(lines) == 2, "access lines: %r" % lines)
    a = [o for o in lines if o["request_id"] == "rid-1"][0]
    for k in ("ts", "level", "msg", "request_id", "method", "path", "status", "outcome", "rule", "provider",
              "sub", "duration_ms", "upstream_ms", "bytes_in", "bytes_out"):
        check(k in a, "access line lacks %s: %r" % (k, a))
    check(a["path"] == "/protected/log" and a["status"] == 200 and a["outcome"] == "allowed" and
          a["rule"] == "/protected" and a["provider"] == "main" and a["sub"] == "log-user" and a["method"] == "GET",
          "access line %r" % a)
    b = [o for o in lines if o["request_id"] == "rid-2"][0]
    check(b["status"] == 401 and b["outcome"] == "no_token", "401 line %r" % b)
    out = e.gate.stdout()
    for secret in [t] + t.split(".") + ["secret-q", "cookie-secret"]:
        check(secret not in out, "a token, signature or secret appears in the log")


@case("responses.shadow_mode")
def _(ctx):
    rules = [{"prefix": "/shadow", "auth": "required", "mode": "shadow"}, {"prefix": "/", "auth": "none"}]
    e = Env(ctx, rules=rules)
    expect_status(e.get("/shadow/a", headers=[("X-User-Id", "spoof")]), 200, "shadow without token")
    rec = e.up.last("/shadow/a")
    check(not [v for k, v in rec["headers"] if k.lower() == "x-user-id"], "claim header without a verified token")
    lines = e.gate.access(1, match=lambda o: o.get("path") == "/shadow/a")
    check(lines and lines[0].get("outcome") == "no_token" and lines[0].get("shadow") is True,
          "shadow access line %r" % lines)


if __name__ == "__main__":
    main()
