#!/usr/bin/python3
"""Proxy: the path bypass table end to end. For each raw request target: does jwtgate
demand a token, and exactly which target does the upstream receive with one?"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import Conn, Env, case, check, expect_json_error, expect_status, main  # noqa: E402
from lib.upstream import header_values  # noqa: E402

# (name, raw target, protected?, target the upstream receives)
TABLE = [
    ("plain", "/protected/x", True, "/protected/x"),
    ("exact prefix", "/protected", True, "/protected"),
    ("dot-dot into protected", "/public/../protected/x", True, "/protected/x"),
    ("dot segment", "/protected/./x", True, "/protected/x"),
    ("leading double slash", "//protected/x", True, "/protected/x"),
    ("inner double slash", "/protected//x", True, "/protected/x"),
    ("encoded unreserved", "/%70rotected/x", True, "/protected/x"),
    ("encoded dots into protected", "/public/%2e%2e/protected/x", True, "/protected/x"),
    ("mixed-case encoded dots", "/public/%2E%2e/protected/x", True, "/protected/x"),
    ("dot-dot out of protected", "/protected/../public/x", False, "/public/x"),
    ("encoded dots out of protected", "/protected/%2e%2e/x", False, "/x"),
    ("prefix is segment-bounded", "/protectedx", False, "/protectedx"),
    ("case-sensitive", "/PROTECTED/x", False, "/PROTECTED/x"),
    ("query kept", "/protected/x?a=1&b=%20", True, "/protected/x?a=1&b=%20"),
    ("empty query kept", "/protected/x?", True, "/protected/x?"),
    ("reserved escape kept", "/protected/a%3Fb", True, "/protected/a%3Fb"),
    ("lower-case escape uppercased", "/protected/a%3fb", True, "/protected/a%3Fb"),
    ("absolute-form", "http://other.example/public/../protected/x", True, "/protected/x"),
]

BAD = [
    ("encoded slash", "/protected%2Fx"),
    ("encoded slash lower", "/public/..%2fprotected/x"),
    ("encoded backslash", "/public/..%5Cprotected"),
    ("raw backslash", "/public\\..\\protected"),
    ("above root", "/../protected/x"),
    ("above root deep", "/a/../../protected/x"),
    ("encoded NUL", "/protected%00/x"),
    ("bad escape", "/protected/%G1"),
    ("truncated escape", "/protected/%4"),
    ("fragment", "/protected/x#frag"),
    ("non-ASCII", "/protected/caf\xe9"),
    ("control", "/protected/\x01x"),
    ("asterisk with GET", "*"),
]


def run_row(e, name, target, protected, forwarded):
    e.up.requests.clear()
    with Conn(e.port) as c:
        r = c.request("GET", target, [("Host", "gate.test")])
    if protected:
        expect_json_error(r, 401, {"error": "No token provided"})
        check(not e.up.reqs(), "%s: %s reached the upstream without a token" % (name, target))
    else:
        expect_status(r, 200, "%s without token" % name)
    with Conn(e.port) as c:
        r = c.request("GET", target, [("Host", "gate.test"), ("Authorization", "Bearer " + e.token())])
    expect_status(r, 200, "%s with token" % name)
    got = e.up.last()["target"]
    check(got == forwarded, "%s: %r forwarded as %r, expected %r" % (name, target, got, forwarded))


@case("paths.bypass_table")
def _(ctx):
    e = Env(ctx, rules=[{"prefix": "/protected", "auth": "required"}, {"prefix": "/", "auth": "none"}])
    for name, target, protected, forwarded in TABLE:
        run_row(e, name, target, protected, forwarded)


@case("paths.rejected_targets")
def _(ctx):
    e = Env(ctx)
    for name, target in BAD:
        with Conn(e.port) as c:
            c.send(("GET %s HTTP/1.1\r\nHost: gate.test\r\nAuthorization: Bearer %s\r\n\r\n"
                    % (target, e.token())).encode("latin-1"))
            r = c.read_response()
        check(r.status == 400, "%s: %r answered %d, expected 400" % (name, target, r.status))
        expect_json_error(r, 400)
    check(not e.up.reqs(), "rejected targets reached the upstream: %r" % [x["target"] for x in e.up.reqs()])


@case("paths.absolute_form_host")
def _(ctx):
    e = Env(ctx)
    r = e.get("http://api.example:8443/public/a?q=1", headers=[("Host", "ignored.example")])
    expect_status(r, 200)
    rec = e.up.last()
    check(rec["target"] == "/public/a?q=1", "target %r" % rec["target"])
    check(header_values(rec, "Host") == ["api.example:8443"], "Host %r" % header_values(rec, "Host"))
    check(header_values(rec, "X-Forwarded-Host") == ["api.example:8443"], "X-Forwarded-Host %r"
          % header_values(rec, "X-Forwarded-Host"))


@case("paths.client_host_kept")
def _(ctx):
    e = Env(ctx)
    expect_status(e.get("/h", headers=[("Host", "app.example.com")]), 200)
    rec = e.up.last("/h")
    check(header_values(rec, "Host") == ["app.example.com"], "Host %r" % header_values(rec, "Host"))
    with Conn(e.port) as c:
        c.send(b"GET /h10 HTTP/1.0\r\n\r\n")
        expect_status(c.read_response(), 200)
    host = header_values(e.up.last("/h10"), "Host")
    check(host == ["127.0.0.1:%d" % e.up.port], "HTTP/1.0 without Host sent Host %r" % host)


@case("paths.upstream_path_prefix")
def _(ctx):
    e = Env(ctx, start=False)
    e.cfg["upstream"]["url"] = e.up.url + "/base"
    from lib.harness import Gate
    e.gate = Gate(ctx.bin, e.cfg, ctx.tmp)
    ctx.defer(e.gate.kill)
    e.gate.start()
    expect_status(e.get("/public/../x?y=1"), 200)
    check(e.up.last()["target"] == "/base/x?y=1", "prefixed target %r" % e.up.last()["target"])


@case("paths.asterisk_options")
def _(ctx):
    e = Env(ctx, rules=[{"prefix": "/", "auth": "required"}])
    with Conn(e.port) as c:
        r = c.request("OPTIONS", "*")
    expect_status(r, 200, "OPTIONS *")
    check(e.up.last()["target"] == "*", "OPTIONS * forwarded as %r" % e.up.last()["target"])


@case("paths.query_token_removed")
def _(ctx):
    e = Env(ctx, provider={"token_sources": [{"header": "Authorization", "scheme": "Bearer"},
                                             {"query": "access_token"}]})
    t = e.token()
    expect_status(e.get("/protected/q?a=1&access_token=%s&b=2" % t), 200)
    check(e.up.last()["target"] == "/protected/q?a=1&b=2", "query token forwarded: %r" % e.up.last()["target"])
    r = e.get("/protected/q2?access_token=not-a-jwt!&d=4")
    expect_json_error(r, 401)
    check(not e.up.reqs("/protected/q2"), "invalid query token forwarded")


if __name__ == "__main__":
    main()
