#!/usr/bin/python3
"""Proxy TLS: termination on the listener (listen.tls), and an https upstream verified
against upstream.ca_file (chain and host name, SNI sent); failures answer 502."""

import os
import socket
import ssl
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import Env, Gate, case, check, expect_json_error, expect_status, main  # noqa: E402
from lib.pki import CA  # noqa: E402
from lib.upstream import Upstream, header_values  # noqa: E402


def pki(ctx):
    d = tempfile.mkdtemp(prefix="jwtgate-pki-", dir=ctx.tmp)
    return CA(d, "good"), CA(d, "other")


def server_context(cert_key, seen_sni=None):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(*cert_key)
    if seen_sni is not None:
        def cb(sock, name, ctx_):
            seen_sni.append(name)
        c.sni_callback = cb
    return c


def tls_request(port, ca_file, raw, server_hostname="localhost"):
    c = ssl.create_default_context(cafile=ca_file)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with c.wrap_socket(s, server_hostname=server_hostname) as t:
            t.sendall(raw)
            data = b""
            while True:
                d = t.recv(65536)
                if not d:
                    break
                data += d
    return data


@case("tls.termination")
def _(ctx):
    good, _ = pki(ctx)
    cert, key = good.server("gate")
    e = Env(ctx, start=False)
    e.cfg["listen"]["tls"] = {"cert_file": cert, "key_file": key}
    e.gate = Gate(ctx.bin, e.cfg, ctx.tmp)
    ctx.defer(e.gate.kill)
    e.gate.start()
    data = tls_request(e.port, good.ca_file, b"GET /tls HTTP/1.1\r\nHost: gate\r\nConnection: close\r\n\r\n")
    check(data.startswith(b"HTTP/1.1 200"), "TLS request answered %r" % data[:80])
    rec = e.up.last("/tls")
    check(header_values(rec, "X-Forwarded-Proto") == ["https"], "X-Forwarded-Proto %r"
          % header_values(rec, "X-Forwarded-Proto"))
    data = tls_request(e.port, good.ca_file,
                       b"GET /protected/x HTTP/1.1\r\nHost: gate\r\nConnection: close\r\n\r\n")
    check(data.startswith(b"HTTP/1.1 401"), "TLS 401 %r" % data[:80])
    # plain HTTP on the TLS port gets no HTTP answer
    with socket.create_connection(("127.0.0.1", e.port), timeout=5) as s:
        s.sendall(b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            got = s.recv(100)
        except OSError:
            got = b""
        check(not got.startswith(b"HTTP/1.1 200"), "plain HTTP served on the TLS port")
    check(not e.up.reqs("/plain"), "plain request forwarded")


@case("tls.bad_files_exit_2")
def _(ctx):
    e = Env(ctx, start=False)
    e.cfg["listen"]["tls"] = {"cert_file": os.path.join(ctx.tmp, "missing.pem"),
                              "key_file": os.path.join(ctx.tmp, "missing.key")}
    g = Gate(ctx.bin, e.cfg, ctx.tmp)
    ctx.defer(g.kill)
    g.start(wait=False)
    rc = g.wait_exit(5)
    # the config loader may already refuse a missing file (1); the server refuses with 2
    check(rc in (1, 2), "exit code %r with missing TLS files" % rc)
    check("missing.pem" in g.stderr(), "stderr does not name the file: %r" % g.stderr())


def https_env(ctx, up_ctx, host, ca_file):
    up = Upstream(tls=up_ctx)
    ctx.defer(up.close)
    e = Env(ctx, upstream_url="https://%s:%d" % (host, up.port),
            upstream={"ca_file": ca_file, "connect_timeout": "2s"})
    return e, up


@case("tls.https_upstream_verified_with_sni")
def _(ctx):
    good, _ = pki(ctx)
    sni = []
    e, up = https_env(ctx, server_context(good.server("up"), sni), "localhost", good.ca_file)
    r = e.get("/protected/s", e.token(sub="tls-user"))
    expect_status(r, 200, "https upstream")
    rec = up.last("/protected/s")
    check(header_values(rec, "X-User-Id") == ["tls-user"], "claims not forwarded over TLS")
    check("localhost" in sni, "SNI not sent (seen %r)" % sni)
    expect_status(e.get("/again"), 200, "second request (pooled TLS connection)")


@case("tls.https_upstream_ip_literal")
def _(ctx):
    good, _ = pki(ctx)
    e, up = https_env(ctx, server_context(good.server("up-ip")), "127.0.0.1", good.ca_file)
    expect_status(e.get("/ip"), 200, "https upstream by IP address")


@case("tls.https_upstream_wrong_name")
def _(ctx):
    good, _ = pki(ctx)
    cert = good.server("wrong", dns=("wrong.example",), ips=())
    e, up = https_env(ctx, server_context(cert), "localhost", good.ca_file)
    expect_json_error(e.get("/w"), 502, {"error": "Bad gateway"})
    check(not up.reqs(), "request sent to an upstream with the wrong certificate name")


@case("tls.https_upstream_untrusted")
def _(ctx):
    good, other = pki(ctx)
    e, up = https_env(ctx, server_context(other.server("up")), "localhost", good.ca_file)
    expect_json_error(e.get("/u"), 502, {"error": "Bad gateway"})
    check(not up.reqs(), "request sent to an untrusted upstream")


if __name__ == "__main__":
    main()
