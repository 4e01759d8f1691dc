"""Helpers of the operations tests: admin endpoint access, metric scraping with bounded
waits, a JWKS server on loopback, and the `jwtgate demo` process."""

import http.server
import json
import os
import socket
import threading
import time

from lib.harness import Failure, Process, check, request
from lib.promtext import ParseError, parse


def admin_get(port, target, timeout=5.0):
    return request(port, "GET", target, timeout=timeout)


def scrape(port):
    """GET /metrics and parse it strictly; a parse error is a test failure."""
    r = admin_get(port, "/metrics")
    check(r.status == 200, "/metrics answered %s" % r.status)
    ct = (r.header("Content-Type") or "").replace(" ", "").lower()
    check(ct.startswith("text/plain") and "version=0.0.4" in ct, "/metrics Content-Type %r" % ct)
    try:
        return parse(r.body.decode("utf-8"))
    except (ParseError, UnicodeDecodeError) as e:
        raise Failure("/metrics is not valid Prometheus text 0.0.4: %s" % e) from None


def wait_metrics(port, pred, timeout=3.0):
    """Scrapes until pred(exposition) holds or the timeout passes; returns the last scrape.
    Counters are updated once the response is written, so a client can be faster."""
    deadline = time.monotonic() + timeout
    while True:
        m = scrape(port)
        if pred(m) or time.monotonic() > deadline:
            return m
        time.sleep(0.05)


def wait_ready(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = admin_get(port, "/readyz", timeout=2)
            if r.status == 200:
                return r
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise Failure("/readyz not 200 within %.0fs" % timeout)
        time.sleep(0.05)


def refused(port):
    """True when a TCP connect to 127.0.0.1:port is refused (or reset: a connection that
    reached the backlog just before the listener closed is reset, never served). A connect
    that times out (a SYN lost while the listener was closing) is not an answer yet: False,
    and the caller asks again."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return False
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    except socket.timeout:
        return False


class JwksServer:
    """Serves one JWKS document at /jwks.json on 127.0.0.1 (port 0: a free one)."""

    def __init__(self, doc, port=0):
        body = json.dumps(doc).encode()
        self.hits = 0
        owner = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                owner.hits += 1
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d/jwks.json" % self.port
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class Demo(Process):
    """`jwtgate demo --port P --admin-port A`, its own session, killed by PID."""

    def __init__(self, binary, tmp, port, admin_port):
        self.port, self.admin_port = port, admin_port
        self.out_path = os.path.join(tmp, "demo-%d.stdout" % port)
        self.err_path = os.path.join(tmp, "demo-%d.stderr" % port)
        self.launch([binary, "demo", "--port", str(port), "--admin-port", str(admin_port)], tmp)

    def wait_token(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while True:
            for line in self.stdout().splitlines():
                if line.startswith("TOKEN="):
                    return line[len("TOKEN="):].strip()
            rc = self.proc.poll()
            if rc is not None:
                raise Failure("demo exited with %s before printing TOKEN=: %s" % (rc, self.stderr()[-300:]))
            if time.monotonic() > deadline:
                raise Failure("demo printed no TOKEN= line within %.0fs" % timeout)
            time.sleep(0.05)

    def wait_port(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise Failure("demo not accepting on %d" % self.port)
            time.sleep(0.05)
