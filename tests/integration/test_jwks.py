#!/usr/bin/python3
"""Remote and file key sets through the built binary: HTTPS verification (chain, host name,
SNI), readiness, 503 while never loaded, rotation by unknown-kid refetch (coalesced and
rate-limited), last good keys kept through outages and bad documents, one bad key skipped,
Cache-Control, discovery, a stalled JWKS server never blocking requests, recovery after
a down start, jwks_file rename and symlink swaps, and verify-token's one-shot fetch."""

import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import (AUDIENCE, ISSUER, Env, Failure, Gate, case, check, expect_json_error,  # noqa: E402
                         expect_status, free_port, main, request)
from lib.jwks_server import JwksServer  # noqa: E402
from lib.pki import CA  # noqa: E402
from tokens_util import Key, b64u, claims, jwks  # noqa: E402

import ssl  # noqa: E402

JWKS_PATH = "/.well-known/jwks.json"
TIMING = {"jwks_min_refresh_interval": "1s", "jwks_fetch_timeout": "2s", "jwks_refresh_interval": "60s"}
NOT_LOADED = {"error": "Key set unavailable"}


# ------------------------------------------------------------------ helpers

def jwks_server(ctx, doc=None, tls=None, host="127.0.0.1", port=0, path=JWKS_PATH, **kw):
    s = JwksServer(port=port, tls=tls, host=host)
    ctx.defer(s.close)
    if doc is not None:
        s.set(path, doc=doc, **kw)
    return s


def remote_env(ctx, provider, top=None, start=True):
    """An Env whose provider "main" takes its keys from `provider` (jwks_uri, discovery,
    jwks_file...) instead of the inline set, with short JWKS timings."""
    e = Env(ctx, start=False, top=top)
    prov = e.cfg["providers"][0]
    del prov["jwks"]
    prov.update(TIMING)
    prov.update(provider)
    e.gate = Gate(ctx.bin, e.cfg, ctx.tmp)
    ctx.defer(e.gate.kill)
    if start:
        e.gate.start()
    return e


def readyz(e):
    return request(e.cfg["admin"]["port"], "GET", "/readyz", timeout=5)


def wait_ready(e, timeout):
    """Polls /readyz until 200 (the admin listener may start a moment after the proxy's)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = readyz(e)
        except OSError:
            if time.monotonic() > deadline:
                raise
            r = None
        if r is not None and (r.status == 200 or time.monotonic() > deadline):
            return r
        time.sleep(0.05)


def expect_ready(e, timeout=5.0):
    r = wait_ready(e, timeout)
    expect_status(r, 200, "/readyz")
    check(r.json() == {"ready": True, "providers": {"main": "ready"}}, "/readyz body %r" % r.json())


def expect_not_ready(e):
    deadline = time.monotonic() + 3.0
    while True:
        try:
            r = readyz(e)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    expect_status(r, 503, "/readyz")
    j = r.json()
    check(j.get("ready") is False, "/readyz body %r" % j)
    reason = (j.get("providers") or {}).get("main")
    check(isinstance(reason, str) and reason and reason != "ready", "/readyz reason for main: %r" % j)
    return reason


def expect_unavailable(r):
    expect_json_error(r, 503, NOT_LOADED)
    ra = r.header("Retry-After")
    check(ra is not None and ra.isdigit() and int(ra) >= 1, "Retry-After %r" % ra)


def fresh(e, key, kid=True):
    """A new token (distinct jti) for the Env's issuer and audience."""
    return key.sign(claims(ISSUER, aud=AUDIENCE, jti=secrets.token_hex(8)), kid=kid)


def expect_unknown_key(r, what=""):
    try:
        expect_json_error(r, 401, {"error": "Invalid token", "details": "unknown key"})
    except Failure as ex:
        raise Failure("%s: %s" % (what, ex) if what else str(ex)) from None


def server_tls(cert_key):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(*cert_key)
    return c


def pki(ctx):
    d = tempfile.mkdtemp(prefix="jwtgate-pki-", dir=ctx.tmp)
    return CA(d, "good"), CA(d, "other")


def in_parallel(n, f):
    """Runs f(i) in n threads started together; returns the results (exceptions included)."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def run(i):
        try:
            barrier.wait(10)
            out[i] = f(i)
        except Exception as ex:  # noqa: BLE001
            out[i] = ex
    ts = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    check(not any(t.is_alive() for t in ts), "client threads still running after 30 s")
    return out


def check_gaps(times, floor, what):
    gaps = [b - a for a, b in zip(times, times[1:])]
    if any(g < floor for g in gaps):
        raise Failure("%s: fetches %.2fs apart, floor %.2fs (gaps %s)"
                      % (what, min(gaps), floor, ["%.2f" % g for g in gaps]))


# ------------------------------------------------------------------ HTTPS

@case("jwks.https_ready_with_ca_file")
def _(ctx):
    good, _ = pki(ctx)
    key = ctx.shared_key()
    s = jwks_server(ctx, jwks(key), tls=server_tls(good.server("jwks")), host="localhost")
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH), "jwks_ca_file": good.ca_file})
    expect_ready(e)
    check(s.count(JWKS_PATH) == 1, "fetches at startup: %d" % s.count(JWKS_PATH))
    check("localhost" in s.stats()["sni"], "SNI not sent: %r" % s.stats())
    expect_status(e.get("/protected/a", fresh(e, key)), 200, "valid token")
    expect_status(e.get("/protected/a"), 401, "no token")


@case("jwks.https_wrong_ca_never_ready")
def _(ctx):
    good, other = pki(ctx)
    key = ctx.shared_key()
    s = jwks_server(ctx, jwks(key), tls=server_tls(other.server("jwks")), host="localhost")
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH), "jwks_ca_file": good.ca_file})
    time.sleep(2.5)  # the first fetch and at least one retry (1 s backoff)
    expect_not_ready(e)
    st = s.stats()
    check(st["handshakes_failed"] >= 2, "fetch not retried after a TLS failure: %r" % st)
    check(st["requests"] == 0 and st["handshakes_ok"] == 0, "untrusted server got a request: %r" % st)
    t0 = time.monotonic()
    r = e.get("/protected/a", fresh(e, key))
    took = time.monotonic() - t0
    expect_unavailable(r)
    check(took < 3.5, "503 took %.1fs (jwks_fetch_timeout 2s)" % took)
    expect_status(e.get("/public"), 200, "public route while keys are unavailable")
    expect_status(e.get("/protected/a"), 401, "no token while keys are unavailable")
    expect_not_ready(e)


@case("jwks.https_wrong_host_never_ready")
def _(ctx):
    good, _ = pki(ctx)
    key = ctx.shared_key()
    cert = good.server("jwks-wrong", dns=("wrong.example",), ips=())
    s = jwks_server(ctx, jwks(key), tls=server_tls(cert), host="localhost")
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH), "jwks_ca_file": good.ca_file})
    time.sleep(2.5)
    expect_not_ready(e)
    st = s.stats()
    check(st["handshakes_failed"] >= 1 and st["requests"] == 0,
          "server with a certificate for another name got a request: %r" % st)
    expect_unavailable(e.get("/protected/a", fresh(e, key)))
    expect_status(e.get("/public"), 200, "public route")


# ------------------------------------------------------------------ rotation and refetch

@case("jwks.rotation_by_unknown_kid")
def _(ctx):
    k1, k2 = ctx.shared_key(), Key.ec("rot-2")
    s = jwks_server(ctx, jwks(k1))
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH)})
    expect_ready(e)
    expect_status(e.get("/protected/a", fresh(e, k1)), 200, "k1")
    check(s.count(JWKS_PATH) == 1, "fetches after startup: %d" % s.count(JWKS_PATH))
    s.set(JWKS_PATH, doc=jwks(k1, k2))
    # Inside the floor (1 s since the startup fetch) an unknown kid is refused without a fetch.
    time.sleep(1.3)
    r = e.get("/protected/a", fresh(e, k2))
    expect_status(r, 200, "new kid after one refetch")
    check(s.count(JWKS_PATH) == 2, "fetches after the new kid: %d, expected 2" % s.count(JWKS_PATH))
    expect_status(e.get("/protected/b", fresh(e, k2)), 200, "new kid again")
    expect_status(e.get("/protected/b", fresh(e, k1)), 200, "old kid still in the set")
    # Inside the floor: an unknown kid answers 401 at once, no fetch.
    t0 = time.monotonic()
    expect_unknown_key(e.get("/protected/c", fresh(e, Key.ec("nobody"))))
    check(time.monotonic() - t0 < 1.0, "unknown kid inside the floor waited")
    check(s.count(JWKS_PATH) == 2, "fetches after a known kid: %d, expected 2" % s.count(JWKS_PATH))


@case("jwks.concurrent_new_kid_coalesced")
def _(ctx):
    k1, k3 = ctx.shared_key(), Key.ec("coal-3")
    s = jwks_server(ctx, jwks(k1))
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH)})
    expect_ready(e)
    s.set(JWKS_PATH, doc=jwks(k1, k3), delay=0.5)  # the refetch is in flight while others arrive
    time.sleep(1.2)
    before = s.count(JWKS_PATH)
    tokens = [fresh(e, k3) for _ in range(50)]
    res = in_parallel(50, lambda i: e.get("/protected/c%d" % i, tokens[i], timeout=10))
    statuses = [r.status if not isinstance(r, Exception) else repr(r) for r in res]
    check(all(st == 200 for st in statuses), "statuses %r" % statuses)
    fetched = s.count(JWKS_PATH) - before
    check(1 <= fetched <= 2, "50 requests with a new kid caused %d fetches" % fetched)


@case("jwks.unknown_kid_flood_rate_limited")
def _(ctx):
    k1 = ctx.shared_key()
    s = jwks_server(ctx, jwks(k1))
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH)})
    expect_ready(e)
    time.sleep(1.1)
    stranger = Key.ec("stranger")
    before = s.count(JWKS_PATH)
    t0 = time.monotonic()

    def flood(i):
        out = []
        for j in range(25):
            start = time.monotonic()
            r = e.get("/protected/f", fresh(e, stranger, kid="rnd-" + secrets.token_hex(6)), timeout=10)
            out.append(r.status)
            time.sleep(max(0.0, 0.08 - (time.monotonic() - start)))  # ~25 requests over 2 s
        return out
    res = in_parallel(8, flood)
    duration = time.monotonic() - t0
    for r in res:
        check(not isinstance(r, Exception), "client failed: %r" % r)
        check(all(st == 401 for st in r), "random kids answered %r" % r)
    times = [t for t in s.times(JWKS_PATH) if t >= t0 - 0.01]
    fetched = s.count(JWKS_PATH) - before
    allowed = int(duration / 1.0) + 1 + 1
    check(fetched <= allowed, "%d fetches in %.1fs of unknown kids (at most %d)" % (fetched, duration, allowed))
    check(fetched >= 1, "no refetch for unknown kids")
    check_gaps(times, 0.85, "unknown-kid refetches")


# ------------------------------------------------------------------ last good keys

@case("jwks.outage_keeps_last_good_keys")
def _(ctx):
    k1 = ctx.shared_key()
    s = jwks_server(ctx, jwks(k1))
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH)}, top={"token_cache": {"max_entries": 0}})
    expect_ready(e)
    stranger = Key.ec("stranger")
    weak = Key.rsa("weak", bits=1024)
    phases = [
        ("HTTP 500", dict(status=500, doc={"error": "boom"})),
        ("connection closed", dict(mode="close")),
        ("malformed JSON", dict(mode="ok", status=200, body=b'{"keys":[{"kty":"RSA",')),
        ("not an object", dict(body=b'[1,2,3]')),
        ("empty key set", dict(doc={"keys": []})),
        ("no usable key", dict(doc=jwks(weak))),
    ]
    for name, change in phases:
        before = s.count(JWKS_PATH)
        s.set(JWKS_PATH, **change)
        time.sleep(1.1)  # past the refetch floor
        # The unknown kid triggers a refetch unless a backoff retry just ran: either way
        # at least one fetch must see the broken answer.
        expect_unknown_key(e.get("/protected/x", fresh(e, stranger)), name)
        check(s.wait_count(JWKS_PATH, before + 1, 3.0) > before, "%s: no fetch" % name)
        time.sleep(0.1)
        expect_status(e.get("/protected/x", fresh(e, k1)), 200, "%s: last good key" % name)
        expect_ready(e, 0.1)
    # The server comes back with a new key: it is picked up (unknown-kid refetch, or the
    # backoff retry), and the old key is gone.
    k2 = Key.ec("back-2")
    s.set(JWKS_PATH, doc=jwks(k2))
    deadline = time.monotonic() + 4.0
    while True:
        r = e.get("/protected/x", fresh(e, k2))
        if r.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect_status(r, 200, "key after recovery")
    expect_unknown_key(e.get("/protected/x", fresh(e, k1)), "key removed after recovery")


@case("jwks.one_bad_key_skipped")
def _(ctx):
    good = Key.rsa("good", "RS256")
    weak = Key.rsa("weak", bits=1024)
    ec_src = Key.ec("offcurve")
    off = ec_src.jwk()
    y = int.from_bytes(__import__("base64").urlsafe_b64decode(off["y"] + "=="), "big")
    off["y"] = b64u(((y + 1) % (2 ** 256 - 2 ** 224 + 2 ** 192 + 2 ** 96 - 1)).to_bytes(32, "big"))
    doc = {"keys": [weak.jwk(), off, {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
                    good.jwk(), {"kty": "XYZ", "kid": "alien"}]}
    s = jwks_server(ctx, doc)
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH)})
    expect_ready(e)
    expect_status(e.get("/protected/g", fresh(e, good)), 200, "good key next to bad ones")
    time.sleep(1.1)
    expect_unknown_key(e.get("/protected/g", fresh(e, weak)), "1024-bit RSA key")
    expect_unknown_key(e.get("/protected/g", fresh(e, ec_src)), "EC key off the curve")
    expect_status(e.get("/protected/g", fresh(e, good)), 200, "good key after the refetch")
    skipped = [o for o in e.gate.log_lines() if "skipped" in str(o.get("msg", ""))]
    check(len(skipped) >= 4, "skipped keys not logged: %r" % skipped[:6])


# ------------------------------------------------------------------ Cache-Control

@case("jwks.cache_control_max_age")
def _(ctx):
    k1 = ctx.shared_key()
    s = jwks_server(ctx, jwks(k1), cache_control="public, max-age=1")
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH)})
    expect_ready(e)
    t0 = time.monotonic()
    c = s.wait_count(JWKS_PATH, 2, 3.0)
    check(c >= 2, "max-age=1 not honoured: no refetch within %.1fs" % (time.monotonic() - t0))
    time.sleep(3.0)
    times = s.times(JWKS_PATH)
    check(len(times) >= 4, "max-age=1: %d fetches in about 4 s" % len(times))
    check_gaps(times, 0.85, "max-age=1")


@case("jwks.cache_control_no_cache_floored")
def _(ctx):
    k1 = ctx.shared_key()
    s = jwks_server(ctx, jwks(k1), cache_control="no-cache")
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH), "jwks_min_refresh_interval": "2s"})
    expect_ready(e)
    time.sleep(5.0)
    times = s.times(JWKS_PATH)
    check(2 <= len(times) <= 4, "no-cache with a 2 s floor: %d fetches in about 5 s" % len(times))
    check_gaps(times, 1.85, "no-cache")


# ------------------------------------------------------------------ discovery

def discovery_env(ctx, doc_issuer_suffix="/realm"):
    k1 = ctx.shared_key()
    s = jwks_server(ctx)
    issuer = "http://127.0.0.1:%d/realm" % s.port
    s.set("/realm/.well-known/openid-configuration",
          doc={"issuer": "http://127.0.0.1:%d%s" % (s.port, doc_issuer_suffix),
               "jwks_uri": s.url("/realm/keys")})
    s.set("/realm/keys", doc=jwks(k1))
    e = Env(ctx, start=False)
    prov = e.cfg["providers"][0]
    del prov["jwks"]
    prov.update(TIMING)
    prov.update({"issuer": issuer, "discovery": True})
    e.gate = Gate(ctx.bin, e.cfg, ctx.tmp)
    ctx.defer(e.gate.kill)
    e.gate.start()
    return e, s, k1, issuer


@case("jwks.discovery")
def _(ctx):
    e, s, k1, issuer = discovery_env(ctx)
    expect_ready(e)
    check(s.count("/realm/.well-known/openid-configuration") >= 1 and s.count("/realm/keys") == 1,
          "requests: %r" % s.requests)
    tok = k1.sign(claims(issuer, aud=AUDIENCE))
    expect_status(e.get("/protected/d", tok), 200, "token of the discovered issuer")
    expect_json_error(e.get("/protected/d", fresh(e, k1)), 401, {"error": "Invalid token",
                                                                  "details": "unknown issuer"})


@case("jwks.discovery_wrong_issuer")
def _(ctx):
    e, s, k1, issuer = discovery_env(ctx, doc_issuer_suffix="/other")
    time.sleep(2.0)
    expect_not_ready(e)
    check(s.count("/realm/.well-known/openid-configuration") >= 1, "discovery document not read")
    check(s.count("/realm/keys") == 0, "jwks_uri of a discovery document with another issuer was fetched")
    expect_unavailable(e.get("/protected/d", k1.sign(claims(issuer, aud=AUDIENCE))))


# ------------------------------------------------------------------ never blocking

@case("jwks.stalled_server_never_blocks")
def _(ctx):
    k1 = ctx.shared_key()
    s = jwks_server(ctx, jwks(k1), mode="stall")
    e = remote_env(ctx, {"jwks_uri": s.url(JWKS_PATH)})
    check(s.wait_count(JWKS_PATH, 1, 3.0) >= 1, "no fetch started")
    protected = {}

    def slow():
        t0 = time.monotonic()
        try:
            protected["r"] = e.get("/protected/s", fresh(e, k1), timeout=10)
        except Exception as ex:  # noqa: BLE001
            protected["r"] = ex
        protected["took"] = time.monotonic() - t0
    t = threading.Thread(target=slow, daemon=True)
    t.start()
    worst = 0.0
    for i in range(20):
        t0 = time.monotonic()
        r = e.get("/public/%d" % i, timeout=5)
        worst = max(worst, time.monotonic() - t0)
        expect_status(r, 200, "public route while the JWKS server stalls")
    check(worst < 1.0, "a public request took %.2fs while the JWKS fetch stalled" % worst)
    t0 = time.monotonic()
    expect_not_ready(e)
    check(time.monotonic() - t0 < 1.0, "/readyz slow while the fetch stalls")
    t.join(10)
    check("took" in protected, "protected request still waiting after 10 s")
    check(not isinstance(protected["r"], Exception), "protected request failed: %r" % protected.get("r"))
    expect_unavailable(protected["r"])
    check(protected["took"] <= 3.5, "protected request answered after %.1fs (jwks_fetch_timeout 2s)"
          % protected["took"])


@case("jwks.down_at_startup_then_up")
def _(ctx):
    k1 = ctx.shared_key()
    port = free_port()
    e = remote_env(ctx, {"jwks_uri": "http://127.0.0.1:%d%s" % (port, JWKS_PATH)})
    time.sleep(0.3)
    expect_not_ready(e)
    t0 = time.monotonic()
    expect_unavailable(e.get("/protected/u", fresh(e, k1)))
    check(time.monotonic() - t0 < 3.5, "503 took %.1fs" % (time.monotonic() - t0))
    expect_status(e.get("/public"), 200, "public route while down")
    s = jwks_server(ctx, jwks(k1), port=port)
    t0 = time.monotonic()
    r = wait_ready(e, 4.0)
    took = time.monotonic() - t0
    expect_status(r, 200, "/readyz after the JWKS server came up")
    check(took <= 3.0, "ready %.1fs after the server came up (backoff 1 s, 2 s)" % took)
    check(s.count(JWKS_PATH) >= 1, "no fetch")
    expect_status(e.get("/protected/u", fresh(e, k1)), 200, "token once the keys are loaded")


# ------------------------------------------------------------------ jwks_file

def write_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)


def wait_status(e, key, status, timeout):
    deadline = time.monotonic() + timeout
    while True:
        r = e.get("/protected/file", fresh(e, key))
        if r.status == status or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


@case("jwks.file_atomic_rename")
def _(ctx):
    k1, k2 = ctx.shared_key(), Key.ec("file-2")
    d = tempfile.mkdtemp(prefix="jwks-file-", dir=ctx.tmp)
    path = os.path.join(d, "jwks.json")
    write_json(path, jwks(k1))
    e = remote_env(ctx, {"jwks_file": path})
    expect_ready(e)
    cached = fresh(e, k1)
    expect_status(e.get("/protected/file", cached), 200, "k1")
    expect_unknown_key(e.get("/protected/file", fresh(e, k2)), "k2 before the swap")
    write_json(path + ".tmp", jwks(k2))
    os.rename(path + ".tmp", path)
    t0 = time.monotonic()
    expect_status(wait_status(e, k2, 200, 2.5), 200, "k2 after an atomic rename")
    check(time.monotonic() - t0 <= 2.5, "rename seen after %.1fs" % (time.monotonic() - t0))
    expect_unknown_key(e.get("/protected/file", fresh(e, k1)), "k1 after it left the file")
    expect_unknown_key(e.get("/protected/file", cached), "cached token of a removed key")
    # A broken file keeps the last good keys.
    with open(path + ".tmp", "w") as f:
        f.write('{"keys": [')
    os.rename(path + ".tmp", path)
    time.sleep(2.2)
    expect_status(e.get("/protected/file", fresh(e, k2)), 200, "k2 after a broken file")


@case("jwks.file_kubernetes_symlink_swap")
def _(ctx):
    k1, k3 = ctx.shared_key(), Key.ec("file-3")
    d = tempfile.mkdtemp(prefix="jwks-k8s-", dir=ctx.tmp)
    os.mkdir(os.path.join(d, "..2025_01_01_00_00_00.1"))
    write_json(os.path.join(d, "..2025_01_01_00_00_00.1", "jwks.json"), jwks(k1))
    os.symlink("..2025_01_01_00_00_00.1", os.path.join(d, "..data"))
    os.symlink("..data/jwks.json", os.path.join(d, "jwks.json"))
    e = remote_env(ctx, {"jwks_file": os.path.join(d, "jwks.json")})
    expect_ready(e)
    expect_status(e.get("/protected/file", fresh(e, k1)), 200, "k1")
    os.mkdir(os.path.join(d, "..2025_01_01_00_01_00.2"))
    write_json(os.path.join(d, "..2025_01_01_00_01_00.2", "jwks.json"), jwks(k3))
    os.symlink("..2025_01_01_00_01_00.2", os.path.join(d, "..data_tmp"))
    os.rename(os.path.join(d, "..data_tmp"), os.path.join(d, "..data"))
    t0 = time.monotonic()
    expect_status(wait_status(e, k3, 200, 2.5), 200, "k3 after the ..data symlink swap")
    check(time.monotonic() - t0 <= 2.5, "symlink swap seen after %.1fs" % (time.monotonic() - t0))
    expect_unknown_key(e.get("/protected/file", fresh(e, k1)), "k1 after the swap")


# ------------------------------------------------------------------ verify-token

def verify_config(ctx, jwks_uri):
    cfg = {"upstream": {"url": "http://127.0.0.1:3000"},
           "providers": [dict(TIMING, name="main", issuer=ISSUER, jwks_uri=jwks_uri, audiences=[AUDIENCE])]}
    path = os.path.join(ctx.tmp, "verify-%s.yaml" % secrets.token_hex(4))
    write_json(path, cfg)
    return path


def run_verify(ctx, cfg, token):
    t0 = time.monotonic()
    p = subprocess.run([ctx.bin, "verify-token", "--config", cfg, token], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=15)
    took = time.monotonic() - t0
    try:
        out = json.loads(p.stdout.decode())  # exactly one JSON object, nothing else
    except ValueError:
        raise Failure("verify-token stdout is not exactly one JSON object: %r (stderr %r)"
                      % (p.stdout[:300], p.stderr[:200])) from None
    return p.returncode, out, took, p.stderr.decode("utf-8", "replace")


@case("jwks.verify_token_fetches_once")
def _(ctx):
    k1 = ctx.shared_key()
    s = jwks_server(ctx, jwks(k1))
    cfg = verify_config(ctx, s.url(JWKS_PATH))
    rc, out, took, err = run_verify(ctx, cfg, k1.sign(claims(ISSUER, aud=AUDIENCE, sub="cli-user")))
    check(rc == 0, "exit %d: %r %r" % (rc, out, err))
    check(out.get("valid") is True and out.get("provider") == "main", "output %r" % out)
    check(out.get("claims", {}).get("sub") == "cli-user", "claims %r" % out.get("claims"))
    check(s.count(JWKS_PATH) == 1, "verify-token fetched %d times" % s.count(JWKS_PATH))
    check(took < 5, "verify-token took %.1fs" % took)


@case("jwks.verify_token_server_down")
def _(ctx):
    k1 = ctx.shared_key()
    cfg = verify_config(ctx, "http://127.0.0.1:%d%s" % (free_port(), JWKS_PATH))
    rc, out, took, err = run_verify(ctx, cfg, k1.sign(claims(ISSUER, aud=AUDIENCE)))
    check(rc == 3, "exit %d with the JWKS server down: %r" % (rc, out))
    check(out.get("valid") is False and out.get("status") == 503 and out.get("error") == "Key set unavailable",
          "output %r" % out)
    check("main" in err, "stderr does not name the provider: %r" % err)
    check(took < 5, "verify-token took %.1fs" % took)


@case("jwks.verify_token_server_stalls")
def _(ctx):
    k1 = ctx.shared_key()
    s = jwks_server(ctx, jwks(k1), mode="stall")
    cfg = verify_config(ctx, s.url(JWKS_PATH))
    rc, out, took, err = run_verify(ctx, cfg, k1.sign(claims(ISSUER, aud=AUDIENCE)))
    check(rc == 3 and out.get("status") == 503, "exit %d, output %r" % (rc, out))
    check(took < 4.5, "verify-token took %.1fs with jwks_fetch_timeout 2s" % took)


if __name__ == "__main__":
    main()
