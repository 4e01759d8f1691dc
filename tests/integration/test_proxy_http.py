#!/usr/bin/python3
"""Proxy HTTP/1.1 behaviour: keep-alive and pipelining, HTTP/1.0, HEAD, body framings in
both directions, request smuggling defences, Expect: 100-continue, WebSocket tunnel,
slow clients, concurrency, and draining on SIGTERM."""

import hashlib
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import Conn, Env, build, case, check, expect_json_error, expect_status, main  # noqa: E402
from lib.upstream import header_values, pattern_sha256  # noqa: E402


@case("http.keepalive_mixed")
def _(ctx):
    e = Env(ctx)
    with Conn(e.port) as c:
        expect_status(c.request("GET", "/a"), 200, "first")
        expect_status(c.request("GET", "/protected/b"), 401, "401 on the same connection")
        r = c.request("GET", "/protected/c", [("Authorization", "Bearer " + e.token())])
        expect_status(r, 200, "after a 401")
        check((r.header("Connection") or "").lower() != "close", "keep-alive response says close")
        expect_status(c.request("GET", "/d"), 200, "fourth")
    check(e.up.connections == 1, "upstream connections not reused: %d for 3 requests" % e.up.connections)


@case("http.pipelining_in_order")
def _(ctx):
    e = Env(ctx)
    with Conn(e.port) as c:
        c.send(b"".join(build("GET", "/p/%d" % i) for i in range(10)) + build("GET", "/protected/no") +
               build("POST", "/p/body", body=b"hello"))
        for i in range(10):
            r = c.read_response()
            expect_status(r, 200, "pipelined %d" % i)
            check(r.json()["path"] == "/p/%d" % i, "response %d out of order: %r" % (i, r.json()["path"]))
        expect_status(c.read_response(), 401, "pipelined 401")
        r = c.read_response()
        check(r.json()["path"] == "/p/body" and r.json()["body_len"] == 5, "pipelined POST %r" % r.body[:100])


@case("http.http10")
def _(ctx):
    e = Env(ctx)
    with Conn(e.port) as c:
        c.send(b"GET /h10 HTTP/1.0\r\n\r\n")
        r = c.read_response()
        expect_status(r, 200)
        check(r.json()["path"] == "/h10", "path %r" % r.json()["path"])
        check(c.closed_by_peer(), "HTTP/1.0 without keep-alive left open")
    with Conn(e.port) as c:
        c.send(b"GET /h10a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.read_response()
        expect_status(r, 200)
        check((r.header("Connection") or "").lower() == "keep-alive", "Connection %r" % r.header("Connection"))
        c.send(b"GET /h10b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        expect_status(c.read_response(), 200, "second HTTP/1.0 keep-alive request")
    # a close-delimited upstream body reaches an HTTP/1.0 client intact
    with Conn(e.port, timeout=20) as c:
        c.send(b"GET /eof HTTP/1.0\r\nX-Test-Control: size=300000;eof\r\n\r\n")
        r = c.read_response()
        check(hashlib.sha256(r.body).hexdigest() == pattern_sha256(300000), "close-delimited body altered")


@case("http.head")
def _(ctx):
    e = Env(ctx)
    with Conn(e.port) as c:
        r = c.request("HEAD", "/head", [("X-Test-Control", "size=12345")])
        expect_status(r, 200)
        check(r.header("Content-Length") == "12345", "HEAD Content-Length %r" % r.header("Content-Length"))
        r = c.request("GET", "/after-head")
        check(r.json()["path"] == "/after-head", "framing broken after HEAD")
        r = c.request("HEAD", "/protected/x")
        expect_status(r, 401)
        check(r.body == b"", "HEAD 401 has a body")
        r = c.request("GET", "/after-head-401")
        check(r.json()["path"] == "/after-head-401", "framing broken after HEAD 401")


@case("http.chunked_upload")
def _(ctx):
    e = Env(ctx)
    pieces = [os.urandom(n) for n in (1, 10, 70000, 3, 200000)]
    with Conn(e.port, timeout=20) as c:
        c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i, p in enumerate(pieces):
            c.send(b"%x%s\r\n" % (len(p), b";ext=1" if i == 1 else b"") + p + b"\r\n")
        c.send(b"0\r\nX-Trailer: t\r\n\r\n")
        expect_status(c.read_response(), 200)
        expect_status(c.request("GET", "/after"), 200, "keep-alive after chunked upload")
    body = b"".join(pieces)
    rec = e.up.last("/up")
    check(rec["body_len"] == len(body) and rec["body_sha256"] == hashlib.sha256(body).hexdigest(),
          "chunked body altered (%d of %d)" % (rec["body_len"], len(body)))


@case("http.response_framings")
def _(ctx):
    e = Env(ctx)
    size = 3 * 1024 * 1024 + 17
    want = pattern_sha256(size)
    with Conn(e.port, timeout=20) as c:
        for mode in ("size=%d" % size, "size=%d;chunked" % size, "size=%d;eof" % size):
            r = c.request("GET", "/dl", [("X-Test-Control", mode)])
            expect_status(r, 200, mode)
            check(len(r.body) == size and hashlib.sha256(r.body).hexdigest() == want,
                  "%s: body altered (%d bytes)" % (mode, len(r.body)))
            if "eof" in mode:
                check("chunked" in (r.header("Transfer-Encoding") or "").lower(),
                      "close-delimited body not re-chunked for HTTP/1.1")
        expect_status(c.request("GET", "/after"), 200, "keep-alive after three framings")


@case("http.upstream_pool_stale_connections")
def _(ctx):
    e = Env(ctx, top={"threads": 1})
    # the upstream closes its side after answering: the pooled connection is found closed
    for i in range(3):
        expect_status(e.get("/ca/%d" % i, headers=[("X-Test-Control", "closeafter")]), 200, "closeafter %d" % i)
        time.sleep(0.1)
    check(e.up.connections == 3, "expected a fresh connection each time, saw %d" % e.up.connections)
    # a reused connection dropped before any answer: an idempotent request without body is
    # retried once on a fresh connection, invisibly to the client
    expect_status(e.get("/r/1"), 200, "warm-up")
    r = e.get("/r/2", headers=[("X-Test-Control", "dropreused")])
    expect_status(r, 200, "GET retried after the pooled connection was dropped")
    check(r.json()["path"] == "/r/2", "retried answer %r" % r.body[:80])
    # a request whose body was already streamed is never repeated
    expect_status(e.get("/r/3"), 200, "warm-up")
    r = e.request("POST", "/r/4", [("X-Test-Control", "dropreused")], body=b"x" * 10)
    expect_json_error(r, 502, {"error": "Bad gateway"})
    check(not e.up.reqs("/r/4"), "POST recorded although dropped")


@case("http.hop_by_hop")
def _(ctx):
    e = Env(ctx)
    hs = [("Connection", "keep-alive, X-Secret-Hop"), ("X-Secret-Hop", "1"), ("Keep-Alive", "timeout=5"),
          ("Proxy-Authorization", "Basic eDp5"), ("Proxy-Connection", "keep-alive"), ("TE", "gzip"),
          ("Trailer", "X-Sum"), ("Upgrade", "h2c"), ("X-End", "e")]
    r = e.get("/hop", headers=hs)
    expect_status(r, 200)
    rec = e.up.last("/hop")
    for h in ("X-Secret-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer",
              "Upgrade"):
        check(not header_values(rec, h), "%s forwarded: %r" % (h, header_values(rec, h)))
    check(header_values(rec, "X-End") == ["e"], "end-to-end header lost")
    check(all("x-secret-hop" not in v.lower() for v in header_values(rec, "Connection")), "Connection options forwarded")
    e.get("/te", headers=[("TE", "trailers")])
    check(header_values(e.up.last("/te"), "TE") == ["trailers"], "TE: trailers not kept")
    r = e.get("/resp-hop", headers=[("X-Test-Control", "hop")])
    for h in ("X-Hop", "Keep-Alive", "Proxy-Connection", "Trailer", "Upgrade"):
        check(not r.all(h), "response hop-by-hop %s returned: %r" % (h, r.all(h)))
    check(r.header("X-End") == "kept", "response end-to-end header lost")


@case("http.smuggling")
def _(ctx):
    e = Env(ctx)
    cases = [
        ("CL+TE", b"POST /s1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("TE+CL", b"POST /s2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
        ("two CL", b"POST /s3 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
        ("CL list", b"POST /s4 HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!", 400),
        ("bad CL", b"POST /s5 HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400),
        ("TE not final", b"POST /s6 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
        ("TE gzip only", b"POST /s7 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxyz", 400),
        ("TE chunked twice", b"POST /s8 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("TE gzip,chunked", b"POST /s9 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        ("TE in 1.0", b"POST /s10 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("no Host", b"GET /s11 HTTP/1.1\r\n\r\n", 400),
        ("two Host", b"GET /s12 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("bad chunk size", b"POST /s13 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
        ("chunk overrun", b"POST /s14 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", 400),
        ("space before colon", b"GET /s15 HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n", 400),
        ("bare LF in value", b"GET /s16 HTTP/1.1\r\nHost: x\r\nX-A: b\nX-B: c\r\n\r\n", 400),
        ("HTTP/2 line", b"GET /s17 HTTP/2.0\r\nHost: x\r\n\r\n", (400, 505)),
        ("HTTP/1.2 line", b"GET /s18 HTTP/1.2\r\nHost: x\r\n\r\n", (400, 505)),
    ]
    for name, raw, status in cases:
        with Conn(e.port) as c:
            c.send(raw)
            try:
                r = c.read_response()
            except (EOFError, ConnectionResetError):
                raise AssertionError("%s: connection closed without an answer" % name) from None
            ok = r.status in status if isinstance(status, tuple) else r.status == status
            check(ok, "%s: expected %s, got %d %r" % (name, status, r.status, r.body[:100]))
            check(c.closed_by_peer(), "%s: connection left open after a framing error" % name)
    forwarded = [x["path"] for x in e.up.reqs() if x["path"].startswith("/s") and x["body_len"] > 0]
    check(not forwarded, "smuggled bodies reached the upstream: %r" % forwarded)
    e.up.requests.clear()
    # the classic: a body that hides a second request must never reach the upstream as one
    with Conn(e.port) as c:
        c.send(b"POST /front HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"0\r\n\r\nGET /protected/smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
        c.read_response()
    time.sleep(0.2)
    check(not e.up.reqs("/protected/smuggled"), "smuggled request reached the upstream")


@case("http.expect_continue")
def _(ctx):
    e = Env(ctx)
    # denied: answered at once, the body is never read, the connection closes
    with Conn(e.port) as c:
        c.send(b"POST /protected/up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
        r = c.read_response(skip_1xx=False)
        expect_status(r, 401, "denied Expect request")
        check(c.closed_by_peer(), "connection kept after a denied Expect request")
    check(not e.up.reqs("/protected/up"), "denied Expect request forwarded")
    # allowed: the upstream's 100 Continue is relayed, then the body flows
    with Conn(e.port) as c:
        body = os.urandom(50000)
        c.send(b"POST /protected/up2 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nExpect: 100-continue\r\n"
               b"Authorization: Bearer %s\r\n\r\n" % (len(body), e.token().encode()))
        v, status, _, _ = c.read_head()
        check(status == 100, "expected 100 Continue first, got %d" % status)
        c.send(body)
        r = c.read_response()
        expect_status(r, 200)
        check(r.json()["body_len"] == len(body), "body after 100 Continue altered")
        check(header_values(e.up.last("/protected/up2"), "Expect") == ["100-continue"], "expectation not forwarded")
    # the upstream refuses before the body: its answer is relayed, the body stays unread
    with Conn(e.port) as c:
        c.send(b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n"
               b"X-Test-Control: early=403\r\n\r\n")
        r = c.read_response(skip_1xx=False)
        expect_status(r, 403, "upstream's early answer")
    with Conn(e.port) as c:
        expect_json_error(c.request("GET", "/x", [("Expect", "something-else")]), 417)
    # an upstream that ignores the expectation and waits for the body: after a moment
    # jwtgate sends its own 100, and the body flows (no 504 after upstream.timeout)
    with Conn(e.port) as c:
        body = os.urandom(30000)
        t0 = time.monotonic()
        c.send(b"POST /silent HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nExpect: 100-continue\r\n"
               b"X-Test-Control: no100\r\n\r\n" % len(body))
        v, status, _, _ = c.read_head()
        waited = time.monotonic() - t0
        check(status == 100, "expected jwtgate's 100 Continue, got %d" % status)
        check(0.5 <= waited < 5, "100 Continue after %.2fs (expected about 1 s)" % waited)
        c.send(body)
        r = c.read_response()
        expect_status(r, 200, "body sent after jwtgate's own 100")
        check(r.json()["body_len"] == len(body), "body of the silent-upstream request altered")
        # the connection stays usable
        expect_status(c.request("GET", "/after-silent"), 200, "next request on the connection")


@case("http.websocket_tunnel")
def _(ctx):
    e = Env(ctx, rules=[{"prefix": "/ws", "auth": "required"}, {"prefix": "/", "auth": "none"}])
    upgrade = [("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
               ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]
    with Conn(e.port) as c:
        r = c.request("GET", "/ws/chat", upgrade)
        expect_status(r, 401, "upgrade without token")
    check(not e.up.reqs("/ws/chat"), "unauthorised upgrade forwarded")
    with Conn(e.port) as c:
        c.send(build("GET", "/ws/chat", upgrade + [("Authorization", "Bearer " + e.token())]))
        v, status, _, hs = c.read_head()
        check(status == 101, "upgrade answered %d" % status)
        check(any(k.lower() == "upgrade" and v.lower() == "websocket" for k, v in hs), "101 lacks Upgrade: websocket")
        c.send(b"ping-1")
        got = b""
        deadline = time.monotonic() + 5
        while b"echo:ping-1" not in got and time.monotonic() < deadline:
            got += c.sock.recv(100)
        check(b"echo:ping-1" in got, "tunnel did not echo: %r" % got)
    rec = e.up.last("/ws/chat")
    check(header_values(rec, "Upgrade") == ["websocket"], "Upgrade not forwarded: %r" % rec["headers"])
    check(any("upgrade" in v.lower() for v in header_values(rec, "Connection")), "Connection: Upgrade not forwarded")


@case("http.slowloris")
def _(ctx):
    e = Env(ctx, limits={"header_timeout": "1s", "idle_timeout": "2s"})
    # a head trickled byte by byte is cut off at header_timeout
    c = Conn(e.port, timeout=5)
    ctx.defer(c.close)
    t0 = time.monotonic()
    closed = False
    for ch in b"GET /slow HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 100:
        try:
            c.send(bytes([ch]))
        except OSError:
            closed = True
            break
        time.sleep(0.05)
        if time.monotonic() - t0 > 4:
            break
    check(closed or c.closed_by_peer(1.0), "slow head not cut off")
    check(time.monotonic() - t0 < 4, "slow head lasted %.1fs with header_timeout 1s" % (time.monotonic() - t0))
    # a silent connection is closed too
    with Conn(e.port, timeout=5) as s:
        t0 = time.monotonic()
        check(s.closed_by_peer(4), "silent connection kept open")
        check(time.monotonic() - t0 < 2.5, "silent connection closed after %.1fs" % (time.monotonic() - t0))
    # an idle keep-alive connection is closed after idle_timeout, not header_timeout
    with Conn(e.port, timeout=5) as k:
        expect_status(k.request("GET", "/k"), 200)
        t0 = time.monotonic()
        check(k.closed_by_peer(5), "idle keep-alive connection never closed")
        dt = time.monotonic() - t0
        check(1.5 < dt < 4, "idle keep-alive connection closed after %.1fs (idle_timeout 2s)" % dt)
    expect_status(e.get("/still-serving"), 200, "after slow clients")


@case("http.concurrent_keepalive_clients")
def _(ctx):
    e = Env(ctx, top={"threads": 2})
    tok = e.token()
    errors = []
    lock = threading.Lock()

    def client(n):
        try:
            with Conn(e.port, timeout=30) as c:
                for i in range(20):
                    path = "/protected/c%d/%d" % (n, i) if i % 2 else "/pub/c%d/%d" % (n, i)
                    r = c.request("GET", path, [("Authorization", "Bearer " + tok)])
                    if r.status != 200 or r.json()["path"] != path:
                        raise AssertionError("client %d request %d: %s %r" % (n, i, r.status, r.body[:80]))
        except Exception as ex:  # noqa: BLE001
            with lock:
                errors.append(repr(ex))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(200)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not any(t.is_alive() for t in threads), "clients still running after 120s")
    check(not errors, "%d clients failed, first: %s" % (len(errors), errors[:1]))
    check(len(e.up.reqs()) == 4000, "upstream saw %d of 4000 requests" % len(e.up.reqs()))
    print("    200x20 requests in %.1fs" % (time.monotonic() - t0))


@case("http.sigterm_drains_in_flight")
def _(ctx):
    e = Env(ctx, limits={"drain_timeout": "5s"})
    result = {}

    def slow():
        try:
            result["r"] = e.get("/slow", headers=[("X-Test-Control", "delay=1.5")], timeout=10)
        except Exception as ex:  # noqa: BLE001
            result["err"] = repr(ex)

    idle = Conn(e.port)
    ctx.defer(idle.close)
    expect_status(idle.request("GET", "/warm"), 200)
    fresh = Conn(e.port)  # connected, nothing sent yet
    ctx.defer(fresh.close)
    t = threading.Thread(target=slow)
    t.start()
    deadline = time.monotonic() + 5
    while not e.up.reqs("/slow") and time.monotonic() < deadline:
        time.sleep(0.02)
    check(e.up.reqs("/slow"), "slow request never reached the upstream")
    e.gate.signal(signal.SIGTERM)
    time.sleep(0.2)
    refused = False
    try:
        socket.create_connection(("127.0.0.1", e.port), timeout=1).close()
    except OSError:
        refused = True
    check(refused, "new connections still accepted while draining")
    check(idle.closed_by_peer(2), "idle keep-alive connection not closed by the drain")
    check(fresh.closed_by_peer(2), "connection without a request not closed by the drain")
    t.join(10)
    check("r" in result, "in-flight request failed: %s" % result.get("err"))
    expect_status(result["r"], 200, "in-flight request during drain")
    rc = e.gate.wait_exit(8)
    check(rc == 0, "exit code %r after SIGTERM" % rc)


@case("http.sigterm_drain_timeout")
def _(ctx):
    e = Env(ctx, limits={"drain_timeout": "1s"})
    threading.Thread(target=lambda: _swallow(lambda: e.get("/stuck", headers=[("X-Test-Control", "delay=8")],
                                                           timeout=10)), daemon=True).start()
    deadline = time.monotonic() + 5
    while not e.up.reqs("/stuck") and time.monotonic() < deadline:
        time.sleep(0.02)
    t0 = time.monotonic()
    e.gate.signal(signal.SIGINT)
    rc = e.gate.wait_exit(6)
    check(rc == 0, "exit code %r after SIGINT" % rc)
    check(time.monotonic() - t0 < 3, "drain took %.1fs with drain_timeout 1s" % (time.monotonic() - t0))


def _swallow(f):
    try:
        f()
    except Exception:  # noqa: BLE001
        pass


@case("http.bind_failure_exit_2")
def _(ctx):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    ctx.defer(busy.close)
    e = Env(ctx, start=False)
    e.cfg["listen"]["port"] = busy.getsockname()[1]
    from lib.harness import Gate
    g = Gate(ctx.bin, e.cfg, ctx.tmp)
    ctx.defer(g.kill)
    g.start(wait=False)
    rc = g.wait_exit(5)
    check(rc == 2, "exit code %r when the port is taken" % rc)
    check("cannot listen" in g.stderr(), "stderr %r" % g.stderr())


@case("http.ipv6_listener")
def _(ctx):
    if not socket.has_ipv6:
        return
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        return  # no IPv6 loopback on this machine
    e = Env(ctx, start=False)
    e.cfg["listen"]["address"] = "::1"
    from lib.harness import Gate
    g = Gate(ctx.bin, e.cfg, ctx.tmp)
    ctx.defer(g.kill)
    g.start(wait=False)
    deadline = time.monotonic() + 5
    while True:
        try:
            c = socket.create_connection(("::1", e.cfg["listen"]["port"]), timeout=1)
            break
        except OSError:
            check(time.monotonic() < deadline, "IPv6 listener not up: %s" % g.stderr())
            time.sleep(0.05)
    c.sendall(b"GET /v6 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        data += d
    c.close()
    check(data.startswith(b"HTTP/1.1 200"), "IPv6 request: %r" % data[:100])
    rec = e.up.last("/v6")
    check(header_values(rec, "X-Forwarded-For") == ["::1"], "X-Forwarded-For %r" % header_values(rec, "X-Forwarded-For"))


if __name__ == "__main__":
    main()
