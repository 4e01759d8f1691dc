"""A threaded key-set server for the JWKS tests, over HTTP or HTTPS, on 127.0.0.1.

Each path serves a document whose body, status, Cache-Control, delay and failure mode
can be changed while jwtgate runs; every request is counted and timed per path, every
accepted connection and TLS handshake (with the SNI name sent) is recorded.

Failure modes of a path:
  ok      answer (after `delay` seconds) with the configured status and body
  stall   read the request and never answer (until the server closes)
  close   read the request and close the connection without a byte
Unknown paths get 404. Every answer carries Connection: close.
"""

import json
import socket
import socketserver
import threading
import time

STALL_CAP = 60.0  # seconds a stalled connection is held at most


class _Route:
    def __init__(self):
        self.body = b"{}"
        self.status = 200
        self.content_type = "application/json"
        self.cache_control = None
        self.delay = 0.0
        self.mode = "ok"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        owner = self.server.owner
        sock = self.request
        sock.settimeout(10)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                d = sock.recv(65536)
                if not d:
                    return
                head += d
                if len(head) > 65536:
                    return
        except OSError:
            return
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) != 3:
            return
        method, target = parts[0], parts[1]
        path = target.split("?", 1)[0]
        headers = {}
        for h in head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        route = owner._record(path, method, headers)
        if route is None:
            self._answer(404, "application/json", None, b'{"error":"not found"}')
            return
        if route.mode == "stall":
            owner._stopping.wait(STALL_CAP)
            return
        if route.mode == "close":
            return
        if route.delay > 0 and owner._stopping.wait(route.delay):
            return
        self._answer(route.status, route.content_type, route.cache_control, route.body)

    def _answer(self, status, ctype, cache_control, body):
        extra = ""
        if cache_control is not None:
            extra += "Cache-Control: %s\r\n" % cache_control
        head = ("HTTP/1.1 %d X\r\nContent-Type: %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (status, ctype, extra, len(body)))
        try:
            self.request.sendall(head.encode("latin-1") + body)
        except OSError:
            pass

    def finish(self):
        try:
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    tls = None

    def finish_request(self, request, client_address):
        # Runs in the connection's own thread: a slow or failing handshake blocks nobody.
        self.owner._connection()
        if self.tls is not None:
            try:
                request.settimeout(10)
                request = self.tls.wrap_socket(request, server_side=True)
            except OSError:
                self.owner._handshake(False)
                return
            self.owner._handshake(True)
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        pass


class JwksServer:
    """Serves documents on 127.0.0.1:`port` (0: a free port); `tls` is an ssl.SSLContext
    (server side) for HTTPS. `host` is the name used in urls (the certificate's name)."""

    def __init__(self, port=0, tls=None, host="127.0.0.1"):
        self.lock = threading.Lock()
        self.routes = {}
        self.requests = []  # (monotonic time, path)
        self.connections = 0
        self.handshakes_ok = 0
        self.handshakes_failed = 0
        self.sni = []
        self._stopping = threading.Event()
        self.tls = tls
        if tls is not None:
            def on_sni(sslsock, name, ctx):
                with self.lock:
                    self.sni.append(name)
            tls.sni_callback = on_sni
        self.srv = _Server(("127.0.0.1", port), _Handler)
        self.srv.owner = self
        self.srv.tls = tls
        self.port = self.srv.server_address[1]
        self.host = host
        self._thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    # --------------------------------------------------------------- configuration

    def url(self, path):
        return "%s://%s:%d%s" % ("https" if self.tls is not None else "http", self.host, self.port, path)

    def set(self, path, doc=None, body=None, status=None, cache_control=False, delay=None, mode=None,
            content_type=None):
        """Changes what `path` serves; arguments left out keep their current value.
        `doc` is JSON-encoded; `body` is sent as is; cache_control=None removes the header."""
        with self.lock:
            r = self.routes.setdefault(path, _Route())
            if doc is not None:
                r.body = json.dumps(doc).encode()
            if body is not None:
                r.body = body if isinstance(body, bytes) else body.encode()
            if status is not None:
                r.status = status
            if cache_control is not False:
                r.cache_control = cache_control
            if delay is not None:
                r.delay = delay
            if mode is not None:
                if mode not in ("ok", "stall", "close"):
                    raise ValueError("unknown mode %r" % mode)
                r.mode = mode
            if content_type is not None:
                r.content_type = content_type

    # --------------------------------------------------------------- observation

    def count(self, path=None):
        with self.lock:
            return sum(1 for _, p in self.requests if path is None or p == path)

    def times(self, path=None):
        with self.lock:
            return [t for t, p in self.requests if path is None or p == path]

    def wait_count(self, path, n, timeout):
        """Waits until `path` was requested at least `n` times; returns the count."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.count(path)
            if c >= n or time.monotonic() > deadline:
                return c
            time.sleep(0.02)

    def stats(self):
        with self.lock:
            return {"connections": self.connections, "handshakes_ok": self.handshakes_ok,
                    "handshakes_failed": self.handshakes_failed, "requests": len(self.requests),
                    "sni": list(self.sni)}

    def close(self):
        self._stopping.set()
        self.srv.shutdown()
        self.srv.server_close()

    # --------------------------------------------------------------- called by handlers

    def _record(self, path, method, headers):
        with self.lock:
            self.requests.append((time.monotonic(), path))
            return self.routes.get(path)

    def _connection(self):
        with self.lock:
            self.connections += 1

    def _handshake(self, ok):
        with self.lock:
            if ok:
                self.handshakes_ok += 1
            else:
                self.handshakes_failed += 1
