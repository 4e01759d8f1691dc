#!/usr/bin/python3
"""Live reload on SIGHUP (SPEC "Operations" and "Details: Reload"): a valid file is applied
to new requests (rules, provider policies, claim headers, upstream) without dropping a
connection or changing a request in flight; an invalid one is logged problem by problem
and the old configuration stays in force; providers with unchanged key sources keep their
keys and schedule; listen/admin/threads changes are logged as needing a restart; the
token cache never lets a token through that the new policy refuses."""

import copy
import json
import os
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import (AUDIENCE, ISSUER, Conn, Env, case, check, expect_json_error,  # noqa: E402
                         expect_status, free_port, main)
from lib.jwks_server import JwksServer  # noqa: E402
from lib.ops import scrape  # noqa: E402
from lib.pki import CA  # noqa: E402
from lib.upstream import Upstream, header_values  # noqa: E402
from tokens_util import Key, claims, jwks  # noqa: E402

JWKS_PATH = "/.well-known/jwks.json"


def events(e, msg):
    return [o for o in e.gate.log_lines() if o.get("msg") == msg]


def wait_event(e, msg, count, timeout=5.0):
    """Waits until `msg` was logged `count` times; returns those lines."""
    deadline = time.monotonic() + timeout
    while True:
        lines = events(e, msg)
        if len(lines) >= count:
            return lines
        check(e.gate.proc.poll() is None, "jwtgate exited (%s) after SIGHUP" % e.gate.proc.poll())
        if time.monotonic() > deadline:
            raise AssertionError("no %d %r lines within %.0fs; stdout tail: %s"
                                 % (count, msg, timeout, e.gate.stdout()[-600:]))
        time.sleep(0.05)


def reload_with(e, cfg=None, text=None):
    """Writes the new config (a dict, or raw text) over the file jwtgate was started with,
    sends SIGHUP, and waits for the reload to be applied ("config reloaded")."""
    applied = len(events(e, "config reloaded"))
    write(e, cfg, text)
    e.gate.signal(signal.SIGHUP)
    return wait_event(e, "config reloaded", applied + 1)[-1]


def write(e, cfg=None, text=None):
    tmp = e.gate.cfg_path + ".new"
    with open(tmp, "w") as f:
        f.write(text if text is not None else json.dumps(cfg, indent=1))
    os.replace(tmp, e.gate.cfg_path)


def admin(e):
    return e.cfg["admin"]["port"]


def reloads(e, result):
    return scrape(admin(e)).total("jwtgate_config_reloads_total", result=result)


# ------------------------------------------------------------------ valid reloads

@case("reload.rules_applied_to_new_requests")
def _(ctx):
    e = Env(ctx, rules=[{"prefix": "/protected", "auth": "required"}, {"prefix": "/", "auth": "none"}])
    expect_status(e.get("/open/a"), 200, "public before the reload")
    check(reloads(e, "success") == 0 and reloads(e, "error") == 0, "reload counters before any reload")
    cfg = copy.deepcopy(e.cfg)
    cfg["rules"] = [{"prefix": "/open", "auth": "required"}, {"prefix": "/", "auth": "none"}]
    line = reload_with(e, cfg)
    check(line.get("generation") == 2, "config reloaded line %r" % line)
    expect_json_error(e.get("/open/a"), 401)
    expect_status(e.get("/open/a", e.token()), 200, "valid token after the reload")
    expect_status(e.get("/protected/a"), 200, "/protected is public after the reload")
    check(reloads(e, "success") == 1 and reloads(e, "error") == 0, "reload counters after one reload")


@case("reload.invalid_config_logged_and_old_kept")
def _(ctx):
    e = Env(ctx)
    tok = e.token()
    expect_status(e.get("/protected/a", tok), 200, "before")
    bad = copy.deepcopy(e.cfg)
    bad["rules"] = [{"prefix": "no-slash", "auth": "required"}]  # problem 1
    bad["upstream"]["timeout"] = "soon"                          # problem 2
    write(e, bad)
    e.gate.signal(signal.SIGHUP)
    lines = wait_event(e, "config reload rejected", 2)
    problems = [o.get("problem", "") for o in lines]
    check(all(p.startswith(e.gate.cfg_path + ":") for p in problems), "problems do not name the file: %r" % problems)
    check(any("upstream.timeout" in p for p in problems) and any("rules[0]" in p for p in problems),
          "not every problem logged: %r" % problems)
    check(not events(e, "config reloaded"), "an invalid config was applied")
    # the old configuration is in force, for new connections and for old rules
    expect_status(e.get("/protected/a", tok), 200, "valid token after the rejected reload")
    expect_json_error(e.get("/protected/a"), 401)
    expect_status(e.get("/public"), 200, "public route after the rejected reload")
    check(reloads(e, "error") == 1 and reloads(e, "success") == 0, "reload counters after a rejected reload")
    # unparseable YAML: rejected too, and the process lives on
    write(e, text="listen: [unclosed\n")
    e.gate.signal(signal.SIGHUP)
    wait_event(e, "config reload rejected", 3)
    expect_status(e.get("/protected/a", tok), 200, "after a YAML syntax error")
    # a later valid file is applied
    good = copy.deepcopy(e.cfg)
    good["rules"] = [{"prefix": "/", "auth": "none"}]
    reload_with(e, good)
    expect_status(e.get("/protected/a"), 200, "after a good reload")


@case("reload.missing_file_keeps_old")
def _(ctx):
    e = Env(ctx)
    os.unlink(e.gate.cfg_path)
    e.gate.signal(signal.SIGHUP)
    lines = wait_event(e, "config reload rejected", 1)
    check(e.gate.cfg_path in lines[0].get("problem", ""), "problem %r does not name the file" % lines[0])
    expect_status(e.get("/protected/a", e.token()), 200, "old config in force")


@case("reload.policy_change_beats_token_cache")
def _(ctx):
    e = Env(ctx)
    tok = e.token()
    for _ in range(3):  # verified once, then from the token cache
        expect_status(e.get("/protected/a", tok), 200, "before")
    cfg = copy.deepcopy(e.cfg)
    cfg["providers"][0]["audiences"] = ["another-api"]
    reload_with(e, cfg)
    expect_json_error(e.get("/protected/a", tok), 401)
    expect_status(e.get("/protected/a", e.token(aud="another-api")), 200, "token for the new audience")
    # and back: the old token is good again
    reload_with(e, e.cfg)
    expect_status(e.get("/protected/a", tok), 200, "after restoring the audience")


@case("reload.claim_headers_and_stripping_change")
def _(ctx):
    e = Env(ctx)
    tok = e.token(sub="alice")
    expect_status(e.get("/protected/a", tok), 200, "before")
    check(header_values(e.up.last("/protected/a"), "X-User-Id") == ["alice"], "X-User-Id before")
    cfg = copy.deepcopy(e.cfg)
    cfg["providers"][0]["claims_to_headers"] = {"sub": "X-Subject"}
    cfg["strip_request_headers"] = ["X-Tenant"]
    reload_with(e, cfg)
    r = e.get("/protected/b", tok, headers=[("X-User-Id", "mallory"), ("X-Tenant", "evil"), ("X-Subject", "eve")])
    expect_status(r, 200, "after")
    rec = e.up.last("/protected/b")
    check(header_values(rec, "X-Subject") == ["alice"], "X-Subject %r" % header_values(rec, "X-Subject"))
    check(header_values(rec, "X-Tenant") == [], "X-Tenant not stripped after the reload")
    # X-User-Id is no longer a claim header: a client value is an ordinary header now
    check(header_values(rec, "X-User-Id") == ["mallory"], "X-User-Id %r" % header_values(rec, "X-User-Id"))


@case("reload.new_provider_and_removed_provider")
def _(ctx):
    e = Env(ctx)
    k2 = Key.ec("second")
    second = {"name": "second", "issuer": "https://second.test", "jwks": json.dumps(jwks(k2)), "clock_skew": "0s"}
    t2 = k2.sign(claims("https://second.test"))
    expect_json_error(e.get("/protected/a", t2), 401)
    cfg = copy.deepcopy(e.cfg)
    cfg["providers"].append(second)
    reload_with(e, cfg)
    expect_status(e.get("/protected/a", t2), 200, "token of the added provider")
    expect_status(e.get("/protected/a", e.token()), 200, "token of the kept provider")
    r = scrape(admin(e))
    check(r.value("jwtgate_jwks_keys", provider="second") == 1, "jwtgate_jwks_keys{second}")
    check(r.total("jwtgate_jwks_fetches_total", provider="second", result="success") == 1, "load not counted")
    ts = r.value("jwtgate_jwks_last_success_timestamp_seconds", provider="second")
    check(ts is not None and abs(ts - time.time()) < 30, "last success of an inline set: %r" % ts)
    cfg2 = copy.deepcopy(e.cfg)
    cfg2["providers"] = [second]
    reload_with(e, cfg2)
    expect_json_error(e.get("/protected/a", e.token()), 401)
    expect_status(e.get("/protected/a", t2), 200, "token of the remaining provider")
    ready = json.loads(Conn(admin(e)).request("GET", "/readyz").body)
    check(ready == {"ready": True, "providers": {"second": "ready"}}, "/readyz after removal %r" % ready)


# ------------------------------------------------------------------ key sources

def remote_gate(ctx, key):
    """A started Env whose provider "main" fetches `key` from a local JWKS server (first
    fetch done); returns (env, server)."""
    s = JwksServer()
    ctx.defer(s.close)
    s.set(JWKS_PATH, doc=jwks(key))
    e = Env(ctx, start=False)
    prov = e.cfg["providers"][0]
    del prov["jwks"]
    prov.update({"jwks_uri": s.url(JWKS_PATH), "jwks_refresh_interval": "60s", "jwks_min_refresh_interval": "1s"})
    write(e, e.cfg)
    e.gate.start()
    s.wait_count(JWKS_PATH, 1, 5)
    return e, s


@case("reload.unchanged_key_source_keeps_keys_and_schedule")
def _(ctx):
    key = ctx.shared_key()
    e, s = remote_gate(ctx, key)
    s.set("/other.json", doc=jwks(key))
    expect_status(e.get("/protected/a", e.token()), 200, "after the first fetch")
    # a policy change (audience, claim headers, rules) keeps the key source
    cfg = copy.deepcopy(e.cfg)
    cfg["providers"][0]["audiences"] = [AUDIENCE, "second"]
    cfg["providers"][0]["claims_to_headers"] = {"sub": "X-Sub"}
    cfg["rules"].insert(0, {"prefix": "/extra", "auth": "required"})
    reload_with(e, cfg)
    expect_status(e.get("/protected/b", e.token()), 200, "at once after the reload: keys were kept")
    time.sleep(1.5)
    check(s.count(JWKS_PATH) == 1, "a reload that kept the key source fetched again (%d fetches)" % s.count(JWKS_PATH))
    check(any(o.get("provider") == "main" for o in events(e, "jwks key source kept")), "no 'kept' event")
    # a changed jwks_uri is a new source: fetched now, the old one stops
    cfg2 = copy.deepcopy(cfg)
    cfg2["providers"][0]["jwks_uri"] = s.url("/other.json")
    reload_with(e, cfg2)
    s.wait_count("/other.json", 1, 5)
    expect_status(e.get("/protected/c", e.token()), 200, "with the new source's keys")
    check(s.count(JWKS_PATH) == 1, "the replaced source still fetches")


@case("reload.unknown_kid_refetch_after_reload")
def _(ctx):
    key = ctx.shared_key()
    e, s = remote_gate(ctx, key)
    cfg = copy.deepcopy(e.cfg)
    cfg["rules"] = [{"prefix": "/", "auth": "required"}]
    reload_with(e, cfg)
    rotated = Key.rsa("rotated")
    s.set(JWKS_PATH, doc=jwks(key, rotated))
    time.sleep(1.1)  # past jwks_min_refresh_interval since the first fetch
    expect_status(e.get("/x", rotated.sign(claims(ISSUER, aud=AUDIENCE))), 200, "rotated key after the reload")
    check(s.count(JWKS_PATH) == 2, "unknown kid refetches: %d" % s.count(JWKS_PATH))


# ------------------------------------------------------------------ connections

@case("reload.keepalive_connection_survives_and_sees_new_config")
def _(ctx):
    e = Env(ctx)
    with Conn(e.port) as c:
        r = c.request("GET", "/open/1")
        expect_status(r, 200, "first request")
        cfg = copy.deepcopy(e.cfg)
        cfg["rules"] = [{"prefix": "/open", "auth": "required"}, {"prefix": "/", "auth": "none"}]
        reload_with(e, cfg)
        r = c.request("GET", "/open/2")  # same connection: not dropped, new rules
        expect_json_error(r, 401)
        r = c.request("GET", "/open/3", [("Authorization", "Bearer " + e.token())])
        expect_status(r, 200, "third request on the same connection")


@case("reload.in_flight_request_keeps_old_upstream")
def _(ctx):
    e = Env(ctx)
    up2 = Upstream()
    ctx.defer(up2.close)
    out = {}

    def slow():
        try:
            out["r"] = e.get("/slow", headers=[("X-Test-Control", "delay=1.5")], timeout=10)
        except Exception as ex:  # noqa: BLE001
            out["r"] = ex
    t = threading.Thread(target=slow, daemon=True)
    t.start()
    deadline = time.monotonic() + 5
    while e.up.last("/slow") is None and time.monotonic() < deadline:
        time.sleep(0.02)
    check(e.up.last("/slow") is not None, "the slow request did not reach the upstream")
    cfg = copy.deepcopy(e.cfg)
    cfg["upstream"]["url"] = up2.url
    line = reload_with(e, cfg)
    check(line.get("upstream_changed") is True, "config reloaded line %r" % line)
    t.join(10)
    r = out.get("r")
    check(not isinstance(r, Exception) and r is not None, "in-flight request failed: %r" % r)
    expect_status(r, 200, "in-flight request across the reload")
    check(r.json().get("path") == "/slow", "in-flight answer %r" % r.body[:100])
    # new requests go to the new upstream, also on a pool that held old connections
    for i in range(4):
        expect_status(e.get("/after/%d" % i), 200, "after the upstream change")
    check(len(up2.reqs()) == 4, "new upstream got %d of 4 requests" % len(up2.reqs()))
    check(not any(r["path"].startswith("/after") for r in e.up.reqs()), "old upstream still gets requests")


@case("reload.many_reloads_under_load")
def _(ctx):
    e = Env(ctx)
    tok = e.token()
    stop = threading.Event()
    errors = []
    counts = [0]

    def client():
        try:
            with Conn(e.port) as c:
                while not stop.is_set():
                    r = c.request("GET", "/protected/x", [("Authorization", "Bearer " + tok)])
                    if r.status != 200:
                        errors.append(r.status)
                    counts[0] += 1
        except Exception as ex:  # noqa: BLE001
            errors.append(repr(ex))
    threads = [threading.Thread(target=client, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    cfg = copy.deepcopy(e.cfg)
    for i in range(10):
        cfg["providers"][0]["claims_to_headers"] = {"sub": "X-Sub-%d" % i}
        reload_with(e, cfg)
    stop.set()
    for t in threads:
        t.join(10)
    check(not errors, "errors during reloads: %r" % errors[:5])
    check(counts[0] > 10, "only %d requests were made" % counts[0])
    check(e.gate.proc.poll() is None, "jwtgate exited")


# ------------------------------------------------------------------ listener certificate

def tls_conn(port, ca_file):
    c = ssl.create_default_context(cafile=ca_file)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    t = c.wrap_socket(raw, server_hostname="localhost")
    return t


def tls_get(t, path):
    t.sendall(("GET %s HTTP/1.1\r\nHost: gate\r\n\r\n" % path).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        d = t.recv(65536)
        if not d:
            break
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        body += t.recv(65536)
    return head.split(b"\r\n")[0]


@case("reload.rotated_listener_certificate")
def _(ctx):
    d = tempfile.mkdtemp(prefix="jwtgate-pki-", dir=ctx.tmp)
    first, second = CA(d, "first"), CA(d, "second")
    cert, key = os.path.join(d, "live.pem"), os.path.join(d, "live.key")
    c1, k1 = first.server("gate1")
    shutil.copy(c1, cert)
    shutil.copy(k1, key)
    e = Env(ctx, start=False)
    e.cfg["listen"]["tls"] = {"cert_file": cert, "key_file": key}
    write(e, e.cfg)
    e.gate.start()
    old = tls_conn(e.port, first.ca_file)
    check(tls_get(old, "/a").startswith(b"HTTP/1.1 200"), "first certificate")
    # the files are replaced (same paths) by a certificate of another CA, then SIGHUP
    c2, k2 = second.server("gate2")
    shutil.copy(c2, cert)
    shutil.copy(k2, key)
    reload_with(e, e.cfg)
    t = tls_conn(e.port, second.ca_file)
    check(tls_get(t, "/b").startswith(b"HTTP/1.1 200"), "new connection with the rotated certificate")
    t.close()
    try:
        tls_conn(e.port, first.ca_file).close()
        raise AssertionError("a new connection still got the old certificate")
    except ssl.SSLCertVerificationError:
        pass
    # the connection opened before the reload goes on with its session
    check(tls_get(old, "/c").startswith(b"HTTP/1.1 200"), "old TLS connection after the rotation")
    old.close()
    # a broken key file at the next reload: rejected, the rotated certificate stays
    with open(key, "w") as f:
        f.write("not a key\n")
    e.gate.signal(signal.SIGHUP)
    lines = wait_event(e, "config reload rejected", 1)
    check("listen.tls.key_file" in lines[-1].get("problem", ""), "problem %r" % lines[-1])
    t = tls_conn(e.port, second.ca_file)
    check(tls_get(t, "/d").startswith(b"HTTP/1.1 200"), "after a rejected certificate reload")
    t.close()


# ------------------------------------------------------------------ --watch-config

@case("reload.watch_config_applies_changes_without_sighup")
def _(ctx):
    e = Env(ctx, start=False)
    e.gate.args = ["--watch-config"]
    e.gate.start()
    cfg = copy.deepcopy(e.cfg)
    cfg["rules"] = [{"prefix": "/", "auth": "required"}]
    write(e, cfg)
    wait_event(e, "config reloaded", 1, timeout=6)
    check(len(events(e, "config file changed")) == 1, "no 'config file changed' line")
    expect_json_error(e.get("/public"), 401)
    # an invalid edit is rejected and logged, the last good configuration stays
    write(e, text="upstream: {url: 'ftp://nope'}\n")
    wait_event(e, "config reload rejected", 1, timeout=6)
    expect_json_error(e.get("/public"), 401)
    expect_status(e.get("/public", e.token()), 200, "after a rejected edit")


@case("reload.watch_config_follows_a_configmap_symlink_swap")
def _(ctx):
    # The kubelet's layout: jwtgate.yaml -> ..data/jwtgate.yaml, ..data -> ..<timestamp>
    base = tempfile.mkdtemp(prefix="jwtgate-cm-", dir=ctx.tmp)
    e = Env(ctx, start=False)

    def publish(cfg, name):
        d = os.path.join(base, name)
        os.mkdir(d)
        with open(os.path.join(d, "jwtgate.yaml"), "w") as f:
            json.dump(cfg, f)
        tmp = os.path.join(base, "..data_tmp")
        os.symlink(name, tmp)
        os.replace(tmp, os.path.join(base, "..data"))
    publish(e.cfg, "..v1")
    os.symlink("..data/jwtgate.yaml", os.path.join(base, "jwtgate.yaml"))
    e.gate.cfg_path = os.path.join(base, "jwtgate.yaml")
    e.gate.out_path = os.path.join(base, "out.log")
    e.gate.err_path = os.path.join(base, "err.log")
    e.gate.args = ["--watch-config"]
    e.gate.start()
    expect_status(e.get("/public"), 200, "before the swap")
    cfg = copy.deepcopy(e.cfg)
    cfg["rules"] = [{"prefix": "/", "auth": "deny"}]
    publish(cfg, "..v2")
    wait_event(e, "config reloaded", 1, timeout=6)
    expect_json_error(e.get("/public"), 403)


@case("reload.no_watch_without_the_flag")
def _(ctx):
    e = Env(ctx)
    cfg = copy.deepcopy(e.cfg)
    cfg["rules"] = [{"prefix": "/", "auth": "required"}]
    write(e, cfg)
    time.sleep(2.5)
    check(not events(e, "config reloaded"), "reloaded without SIGHUP or --watch-config")
    expect_status(e.get("/public"), 200, "old rules still in force")


# ------------------------------------------------------------------ restart-only settings

@case("reload.listen_admin_threads_need_restart")
def _(ctx):
    e = Env(ctx)
    cfg = copy.deepcopy(e.cfg)
    cfg["listen"]["port"] = free_port()
    cfg["admin"]["port"] = free_port()
    cfg["threads"] = 1
    cfg["rules"] = [{"prefix": "/", "auth": "required"}]
    reload_with(e, cfg)
    warned = {o.get("setting") for o in events(e, "config change needs a restart: not applied")}
    check(warned == {"listen", "admin", "threads"}, "restart warnings %r" % warned)
    # still on the old ports; the rest was applied
    expect_json_error(e.get("/public"), 401)
    expect_status(Conn(admin(e)).request("GET", "/healthz"), 200, "admin on the old port")
    for port in (cfg["listen"]["port"], cfg["admin"]["port"]):
        with socket.socket() as sk:
            sk.settimeout(1)
            check(sk.connect_ex(("127.0.0.1", port)) != 0, "port %d opened by a reload" % port)


if __name__ == "__main__":
    main()
