"""Process control, a raw HTTP/1.1 client and a tiny test runner for the proxy tests.

Every wait is bounded; jwtgate is started in its own session and killed by PID."""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import tokens_util  # noqa: E402
from tokens_util import Key, claims, jwks  # noqa: E402,F401
from lib.upstream import Upstream  # noqa: E402


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ raw HTTP client

class Response:
    def __init__(self, version, status, reason, headers, body):
        self.version, self.status, self.reason, self.headers, self.body = version, status, reason, headers, body

    def header(self, name):
        vs = self.all(name)
        return vs[0] if vs else None

    def all(self, name):
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def json(self):
        try:
            return json.loads(self.body.decode())
        except ValueError:
            raise Failure("body is not JSON: %r" % self.body[:200]) from None

    def __repr__(self):
        return "<%s %r>" % (self.status, self.body[:120])


class Conn:
    """One client connection speaking raw bytes."""

    def __init__(self, port, timeout=10.0, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        d = self.sock.recv(1 << 20)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _exact(self, n, sink=None):
        out = []
        while n > 0:
            if not self.buf:
                self._fill()
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            n -= len(take)
            if sink:
                sink(take)
            else:
                out.append(take)
        return b"".join(out)

    def read_head(self):
        line = self._line()
        version, status, reason = (line.decode("latin-1").split(" ", 2) + [""])[:3]
        headers = []
        while True:
            h = self._line()
            if not h:
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers.append((k, v.strip()))
        return version, int(status), reason, headers

    def read_response(self, head_request=False, sink=None, skip_1xx=True):
        """Reads one response. `sink(bytes)` receives the body instead of keeping it."""
        while True:
            version, status, reason, headers = self.read_head()
            if not (skip_1xx and 100 <= status < 200 and status != 101):
                break
        r = Response(version, status, reason, headers, b"")
        if head_request or status in (204, 304) or 100 <= status < 200:
            return r
        te = ",".join(r.all("transfer-encoding")).lower()
        if "chunked" in te:
            parts = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                parts.append(self._exact(size, sink))
                self._line()
            r.body = b"".join(parts)
        elif r.header("content-length") is not None:
            r.body = self._exact(int(r.header("content-length")), sink)
        else:
            parts = [self.buf]
            self.buf = b""
            while True:
                d = self.sock.recv(1 << 20)
                if not d:
                    break
                if sink:
                    sink(d)
                else:
                    parts.append(d)
            r.body = b"".join(parts)
        return r

    def request(self, method, target, headers=(), body=None, version="HTTP/1.1", host=True):
        self.send(build(method, target, headers, body, version, host))
        return self.read_response(head_request=(method == "HEAD"))

    def closed_by_peer(self, timeout=3.0):
        """True when the peer closes (EOF or reset) within `timeout` without sending bytes."""
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(1)
            return d == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def build(method, target, headers=(), body=None, version="HTTP/1.1", host=True):
    hs = list(headers)
    if host and not any(k.lower() == "host" for k, _ in hs):
        hs.insert(0, ("Host", "gate.test"))
    if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in hs):
        hs.append(("Content-Length", str(len(body))))
    head = "%s %s %s\r\n" % (method, target, version) + "".join("%s: %s\r\n" % kv for kv in hs) + "\r\n"
    return head.encode("latin-1") + (body or b"")


def request(port, method, target, headers=(), body=None, timeout=10.0, version="HTTP/1.1"):
    with Conn(port, timeout) as c:
        return c.request(method, target, headers, body, version)


# ------------------------------------------------------------------ jwtgate process

STARTED = []  # every Gate of the running test (checked for leaked tokens after it)


def leaked_token_parts(outputs):
    """The minted token segments (payloads, signatures) found in any of `outputs`."""
    return sorted({p for p in tokens_util.MINTED for text in outputs if p in text})


class Process:
    """A jwtgate process in its own session, its stdout and stderr in files; killed by PID."""

    proc = None

    def launch(self, argv, cwd):
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True, cwd=cwd)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Gate(Process):
    """jwtgate started with a generated config; killed by PID when the test ends."""

    def __init__(self, binary, cfg, tmp):
        self.bin, self.cfg, self.tmp = binary, cfg, tmp
        self.port = cfg["listen"]["port"]
        self.cfg_path = os.path.join(tmp, "jwtgate-%d.yaml" % self.port)
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f, indent=1)  # JSON is YAML
        self.args = []  # extra command-line arguments
        self.out_path = self.cfg_path + ".stdout"
        self.err_path = self.cfg_path + ".stderr"

    def start(self, wait=True, timeout=10.0):
        STARTED.append(self)
        self.launch([self.bin, "--config", self.cfg_path] + self.args, self.tmp)
        if wait:
            self.wait_port(timeout)
        return self

    def wait_port(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise Failure("jwtgate exited with %s: %s" % (rc, self.stderr()[-400:]))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise Failure("jwtgate did not accept on port %d within %.0fs" % (self.port, timeout))
            time.sleep(0.02)

    def log_lines(self):
        out = []
        for line in self.stdout().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                raise Failure("stdout line is not JSON: %r" % line[:200]) from None
        return out

    def access(self, want=1, timeout=3.0, match=None):
        deadline = time.monotonic() + timeout
        while True:
            lines = [o for o in self.log_lines() if o.get("msg") == "access" and (match is None or match(o))]
            if len(lines) >= want or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def request(self, method, target, headers=(), body=None, token=None, timeout=10.0, version="HTTP/1.1"):
        hs = list(headers)
        if token is not None:
            hs.append(("Authorization", "Bearer " + token))
        return request(self.port, method, target, hs, body, timeout, version)

    def get(self, target, token=None, headers=(), timeout=10.0):
        return self.request("GET", target, headers, None, token, timeout)


ISSUER = "https://issuer.test"
AUDIENCE = "api"
CLAIM_HEADERS = {"sub": "X-User-Id", "email": "X-User-Email", "scope": "X-User-Scope", "org.id": "X-Org-Id"}


class Env:
    """One test's world: keys, the echo upstream, a jwtgate with an inline key set."""

    def __init__(self, ctx, rules=None, limits=None, upstream=None, provider=None, top=None,
                 extra_providers=None, start=True, upstream_url=None):
        self.ctx = ctx
        self.key = ctx.shared_key()
        self.up = Upstream()
        ctx.defer(self.up.close)
        prov = {"name": "main", "issuer": ISSUER, "jwks": json.dumps(jwks(self.key)),
                "audiences": [AUDIENCE], "clock_skew": "0s", "claims_to_headers": dict(CLAIM_HEADERS)}
        prov.update(provider or {})
        self.cfg = {
            "listen": {"address": "127.0.0.1", "port": free_port()},
            "threads": 2,
            "admin": {"address": "127.0.0.1", "port": free_port()},
            "upstream": {"url": upstream_url or self.up.url, "connect_timeout": "2s", "timeout": "10s"},
            "limits": {"header_timeout": "5s", "drain_timeout": "5s"},
            "providers": [prov] + list(extra_providers or []),
            "rules": rules if rules is not None else [
                {"prefix": "/protected", "auth": "required"},
                {"prefix": "/", "auth": "none"},
            ],
            "log": {"level": "info", "access_log": True},
        }
        self.cfg["limits"].update(limits or {})
        self.cfg["upstream"].update(upstream or {})
        self.cfg.update(top or {})
        self.gate = Gate(ctx.bin, self.cfg, ctx.tmp)
        ctx.defer(self.gate.kill)
        if start:
            self.gate.start()

    @property
    def port(self):
        return self.gate.port

    def token(self, key=None, lifetime=300, **kw):
        kw.setdefault("aud", AUDIENCE)
        return (key or self.key).sign(claims(ISSUER, lifetime=lifetime, **kw))

    def get(self, target, token=None, headers=(), timeout=10.0):
        return self.gate.get(target, token, headers, timeout)

    def request(self, method, target, headers=(), body=None, token=None, timeout=10.0):
        return self.gate.request(method, target, headers, body, token, timeout)


def expect_status(r, status, what=""):
    if r.status != status:
        raise Failure("%sexpected %s, got %s %r" % (what + ": " if what else "", status, r.status, r.body[:200]))


def expect_json_error(r, status, body=None):
    expect_status(r, status)
    ct = (r.header("Content-Type") or "").lower()
    check(ct.startswith("application/json"), "Content-Type %r is not application/json" % ct)
    j = r.json()
    if body is not None:
        check(j == body, "body %r, expected %r" % (j, body))
    check(r.header("X-Request-Id"), "no X-Request-Id on jwtgate's own response")
    return j


# ------------------------------------------------------------------ runner

class Context:
    def __init__(self, binary, tmp, shared):
        self.bin, self.tmp, self._shared = binary, tmp, shared
        self._deferred = []

    def defer(self, f):
        self._deferred.append(f)

    def shared_key(self):
        if "key" not in self._shared:
            self._shared["key"] = Key.rsa("k1", "RS256")
        return self._shared["key"]

    def cleanup(self):
        for f in reversed(self._deferred):
            try:
                f()
            except Exception:  # noqa: BLE001
                pass


TESTS = []


def case(name):
    def deco(f):
        TESTS.append((name, f))
        return f
    return deco


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    shared = {}
    passed = failed = 0
    for name, f in TESTS:
        if a.k and not any(k in name for k in a.k):
            continue
        tmp = tempfile.mkdtemp(prefix="jwtgate-proxy-")
        ctx = Context(binary, tmp, shared)
        t0 = time.monotonic()
        try:
            del STARTED[:]
            f(ctx)
            # Whatever the test did, no token segment may appear in jwtgate's output.
            leaks = leaked_token_parts([g.stdout() + g.stderr() for g in STARTED if g.proc])
            check(not leaks, "jwtgate's output contains token segments: %r" % [x[:12] for x in leaks])
            passed += 1
            print("PASS %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            if a.v:
                traceback.print_exc()
        finally:
            ctx.cleanup()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)
