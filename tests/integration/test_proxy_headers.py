#!/usr/bin/python3
"""Proxy header rewriting: identity headers can never be spoofed (any case, duplicates,
any route), claim values with CR/LF are never emitted, X-Forwarded-*, token stripping."""

import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import Env, case, check, expect_status, main  # noqa: E402
from lib.upstream import header_values  # noqa: E402

IDENTITY = ["X-User-Id", "X-User-Email", "X-User-Scope", "X-Org-Id", "X-Jwt-Payload", "X-Internal-Auth"]


def env(ctx, **kw):
    prov = {"payload_header": "X-Jwt-Payload"}
    prov.update(kw.pop("provider", {}))
    rules = [{"prefix": "/protected", "auth": "required"}, {"prefix": "/optional", "auth": "optional"},
             {"prefix": "/", "auth": "none"}]
    top = {"strip_request_headers": ["X-Internal-Auth"]}
    return Env(ctx, provider=prov, rules=rules, top=top, **kw)


def spoof_headers():
    out = []
    for h in IDENTITY:
        out += [(h, "spoofed"), (h.lower(), "spoofed"), (h.upper(), "spoofed"), (h.swapcase(), "spoofed")]
    return out


def fetch(e, path, token=None, headers=()):
    r = e.get(path, token, headers)
    expect_status(r, 200, path)
    rec = e.up.last(path.split("?")[0])
    check(rec is not None, "upstream did not receive %s" % path)
    return rec


@case("headers.spoof_every_route")
def _(ctx):
    e = env(ctx)
    for path, token in (("/protected/s", e.token(sub="real")), ("/public/s", None), ("/optional/s", None),
                        ("/optional/t", e.token(sub="real"))):
        rec = fetch(e, path, token, spoof_headers())
        check(all(v != "spoofed" for _, v in rec["headers"]), "%s: spoofed header survived: %r" % (path, rec["headers"]))
        if token:
            check(header_values(rec, "X-User-Id") == ["real"], "%s: X-User-Id %r" % (path, header_values(rec, "X-User-Id")))
        else:
            check(not header_values(rec, "X-User-Id"), "%s: identity header on an anonymous request" % path)


@case("headers.payload_header")
def _(ctx):
    e = env(ctx)
    rec = fetch(e, "/protected/p", e.token(sub="p-user", org={"id": "o1"}))
    v = header_values(rec, "X-Jwt-Payload")
    check(len(v) == 1, "X-Jwt-Payload %r" % v)
    payload = json.loads(base64.urlsafe_b64decode(v[0] + "=" * (-len(v[0]) % 4)))
    check(payload.get("sub") == "p-user", "payload %r" % payload)
    check(header_values(rec, "X-Org-Id") == ["o1"], "X-Org-Id %r" % header_values(rec, "X-Org-Id"))


@case("headers.control_characters_never_emitted")
def _(ctx):
    e = env(ctx)
    for bad in ("evil\r\nX-Injected: 1", "a\nb", "nul\x00", "bell\x07", "del\x7f"):
        rec = fetch(e, "/protected/crlf", e.token(sub="ok-user", email=bad))
        check(not header_values(rec, "X-User-Email"), "claim with control characters emitted: %r"
              % header_values(rec, "X-User-Email"))
        check(not header_values(rec, "X-Injected"), "header injected through a claim")
        check(header_values(rec, "X-User-Id") == ["ok-user"], "other claim headers lost")
        check("X-Injected" not in rec["raw_head"] and "\x00" not in rec["raw_head"],
              "claim bytes reached the raw head: %r" % rec["raw_head"])
        check(all(line.endswith("\r\n") for line in rec["raw_head"].splitlines(True)),
              "bare LF in the forwarded head: %r" % rec["raw_head"])
    rec = fetch(e, "/protected/tab", e.token(email="tab\there", scope="caf\u00e9"))
    check(header_values(rec, "X-User-Email") == ["tab\there"], "TAB refused: %r" % header_values(rec, "X-User-Email"))
    check(header_values(rec, "X-User-Scope") == ["caf\u00e9".encode().decode("latin-1")], "UTF-8 value altered: %r"
          % header_values(rec, "X-User-Scope"))


@case("headers.forwarded_for_proto_host")
def _(ctx):
    e = env(ctx)
    rec = fetch(e, "/x1", headers=[("Host", "app.example")])
    check(header_values(rec, "X-Forwarded-For") == ["127.0.0.1"], "XFF %r" % header_values(rec, "X-Forwarded-For"))
    check(header_values(rec, "X-Forwarded-Proto") == ["http"], "XFP %r" % header_values(rec, "X-Forwarded-Proto"))
    check(header_values(rec, "X-Forwarded-Host") == ["app.example"], "XFH %r" % header_values(rec, "X-Forwarded-Host"))
    rec = fetch(e, "/x2", headers=[("x-forwarded-for", "10.0.0.1, 10.0.0.2"), ("X-FORWARDED-FOR", "10.0.0.3"),
                                   ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.example")])
    check(header_values(rec, "X-Forwarded-For") == ["10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1"],
          "XFF %r" % header_values(rec, "X-Forwarded-For"))
    check(header_values(rec, "X-Forwarded-Proto") == ["http"], "incoming X-Forwarded-Proto kept: %r"
          % header_values(rec, "X-Forwarded-Proto"))
    check(header_values(rec, "X-Forwarded-Host") == ["gate.test"], "incoming X-Forwarded-Host kept: %r"
          % header_values(rec, "X-Forwarded-Host"))


@case("headers.end_to_end_kept_in_order")
def _(ctx):
    e = env(ctx)
    hs = [("X-A", "1"), ("Accept", "text/plain"), ("X-A", "2"), ("Cookie", "a=1; b=2"), ("X-Empty", ""),
          ("Authorization", "Bearer " + e.token())]
    rec = fetch(e, "/protected/e2e", headers=hs)
    check(header_values(rec, "X-A") == ["1", "2"], "duplicates %r" % header_values(rec, "X-A"))
    check(header_values(rec, "Cookie") == ["a=1; b=2"], "cookie %r" % header_values(rec, "Cookie"))
    check(header_values(rec, "X-Empty") == [""], "empty header %r" % header_values(rec, "X-Empty"))
    check(len(header_values(rec, "Authorization")) == 1, "token not forwarded with forward_token: true")


@case("headers.forward_token_false_header")
def _(ctx):
    e = env(ctx, provider={"forward_token": False})
    rec = fetch(e, "/protected/nt", e.token())
    check(not header_values(rec, "Authorization"), "token forwarded with forward_token: false")


@case("headers.forward_token_false_cookie")
def _(ctx):
    e = env(ctx, provider={"forward_token": False, "token_sources": [{"cookie": "access_token"}]})
    t = e.token(sub="cookie-user")
    rec = fetch(e, "/protected/c", headers=[("Cookie", "theme=dark; access_token=%s; lang=en" % t)])
    check(header_values(rec, "Cookie") == ["theme=dark; lang=en"], "Cookie %r" % header_values(rec, "Cookie"))
    check(header_values(rec, "X-User-Id") == ["cookie-user"], "claim header %r" % header_values(rec, "X-User-Id"))
    rec = fetch(e, "/protected/c2", headers=[("Cookie", "access_token=%s" % t)])
    check(not header_values(rec, "Cookie"), "empty Cookie header forwarded: %r" % header_values(rec, "Cookie"))


@case("headers.request_id_generated")
def _(ctx):
    e = env(ctx)
    r = e.get("/rid")
    rid = r.header("X-Request-Id")
    check(rid and 1 <= len(rid) <= 128, "no generated request id: %r" % rid)
    check(header_values(e.up.last("/rid"), "X-Request-Id") == [rid], "upstream id differs")
    r2 = e.get("/rid")
    check(r2.header("X-Request-Id") != rid, "request ids repeat")


if __name__ == "__main__":
    main()
