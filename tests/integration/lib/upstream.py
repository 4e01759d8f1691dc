"""A threaded HTTP/1.1 upstream for the proxy tests. It records every request it receives
(method, target, version, header pairs in order, body size and SHA-256) and answers with
that record as JSON. A request header X-Test-Control: key=value;key2 changes the answer:

  delay=SECONDS     wait before answering
  drop              close the connection without answering
  status=CODE       answer with this status
  size=BYTES        answer BYTES of pattern() instead of JSON
  chunked           with size: chunked transfer coding
  eof               HTTP/1.0-style answer delimited by closing the connection
  hop               add hop-by-hop headers to the answer (and Connection naming X-Hop)
  no100             ignore Expect: 100-continue (read the body without sending 100)
  early=CODE        answer CODE at once without reading the body, then close
  closeafter        answer normally (keep-alive), then close the connection
  dropreused        on a connection's second or later request: close without answering

Bodies are hashed while read, never kept, so multi-GiB uploads cost no memory.
"""

import hashlib
import json
import socket
import socketserver
import threading
import time

PATTERN = bytes((i * 7 + 3) % 251 for i in range(65536))


def pattern(n):
    """The first n bytes of the endless repetition of PATTERN, as an iterator of blocks."""
    left = n
    while left > 0:
        k = min(left, len(PATTERN))
        yield PATTERN[:k]
        left -= k


def pattern_sha256(n):
    h = hashlib.sha256()
    for b in pattern(n):
        h.update(b)
    return h.hexdigest()


def controls(values):
    out = {}
    for v in values:
        for part in v.split(";"):
            part = part.strip()
            if part:
                k, _, val = part.partition("=")
                out[k.strip().lower()] = val.strip() if val else True
    return out


class _Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.request.makefile("rb", buffering=65536)
        self.server.owner._conn_opened()

    def finish(self):
        try:
            self.rfile.close()
        except OSError:
            pass

    def send(self, data):
        self.request.sendall(data)

    def handle(self):
        try:
            while self.one():
                pass
        except (OSError, ValueError):
            pass

    def read_head(self):
        line = self.rfile.readline(65536)
        while line in (b"\r\n", b"\n"):
            line = self.rfile.readline(65536)
        if not line:
            return None
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        headers = []
        self.raw_head = [line]
        while True:
            h = self.rfile.readline(65536)
            if not h:
                return None
            self.raw_head.append(h)
            if h in (b"\r\n", b"\n"):
                break
            name, _, value = h.decode("latin-1").rstrip("\r\n").partition(":")
            headers.append([name, value.strip(" \t")])
        return parts, headers

    def read_body(self, hmap, sha):
        n = 0
        if "chunked" in ",".join(hmap.get("transfer-encoding", [])).lower():
            while True:
                size = int(self.rfile.readline(65536).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                        pass
                    return n
                n += self.copy(size, sha)
                self.rfile.readline(65536)
        if "content-length" in hmap:
            return self.copy(int(hmap["content-length"][0]), sha)
        return 0

    def copy(self, size, sha):
        left = size
        while left:
            d = self.rfile.read(min(left, 1 << 20))
            if not d:
                raise ConnectionError("body cut short")
            sha.update(d)
            left -= len(d)
        return size

    def one(self):
        head = self.read_head()
        if head is None:
            return False
        self.served = getattr(self, "served", 0) + 1
        (method, target, version), headers = head
        hmap = {}
        for k, v in headers:
            hmap.setdefault(k.lower(), []).append(v)
        ctl = controls(hmap.get("x-test-control", []))
        if "early" in ctl:
            self.send(b"HTTP/1.1 %d Early\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % int(ctl["early"]))
            self.record(method, target, version, headers, 0, hashlib.sha256())
            return False
        if "100-continue" in ",".join(hmap.get("expect", [])).lower() and "no100" not in ctl:
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        sha = hashlib.sha256()
        n = self.read_body(hmap, sha)
        if "dropreused" in ctl and self.served > 1:
            self.request.shutdown(socket.SHUT_RDWR)
            return False
        rec = self.record(method, target, version, headers, n, sha)
        if "upgrade" in hmap and "websocket" in ",".join(hmap["upgrade"]).lower():
            return self.websocket()
        if "delay" in ctl:
            time.sleep(float(ctl["delay"]))
        if "drop" in ctl:
            self.request.shutdown(socket.SHUT_RDWR)
            return False
        status = int(ctl.get("status", 200))
        conn = ",".join(hmap.get("connection", [])).lower()
        close = "close" in conn or (version == "HTTP/1.0" and "keep-alive" not in conn)
        extra = b"Connection: close\r\n" if close else b""
        if "hop" in ctl:
            extra += (b"Connection: X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n"
                      b"Proxy-Connection: keep-alive\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\nX-End: kept\r\n")
        if "size" in ctl:
            size = int(ctl["size"])
            if "eof" in ctl:
                self.send(b"HTTP/1.0 %d OK\r\nContent-Type: application/octet-stream\r\n\r\n" % status)
                for b in pattern(size):
                    self.send(b)
                return False
            if "chunked" in ctl:
                self.send(b"HTTP/1.1 %d OK\r\nTransfer-Encoding: chunked\r\n%s\r\n" % (status, extra))
                for b in pattern(size):
                    self.send(b"%x\r\n" % len(b) + b + b"\r\n")
                self.send(b"0\r\n\r\n")
            else:
                self.send(b"HTTP/1.1 %d OK\r\nContent-Length: %d\r\n%s\r\n" % (status, size, extra))
                if method != "HEAD":
                    for b in pattern(size):
                        self.send(b)
            return not close
        body = json.dumps(rec).encode()
        if "eof" in ctl:
            self.send(b"HTTP/1.0 %d OK\r\nContent-Type: application/json\r\n\r\n" % status + body)
            return False
        self.send(b"HTTP/1.1 %d OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n"
                  % (status, extra, len(body)) + (b"" if method == "HEAD" else body))
        if "closeafter" in ctl:
            self.request.shutdown(socket.SHUT_RDWR)
            return False
        return not close

    def record(self, method, target, version, headers, n, sha):
        path, _, query = target.partition("?")
        rec = {"method": method, "target": target, "path": path, "query": query, "version": version,
               "headers": headers, "body_len": n, "body_sha256": sha.hexdigest(),
               "raw_head": b"".join(self.raw_head).decode("latin-1")}
        self.server.owner._add(rec)
        return rec

    def websocket(self):
        self.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        while True:
            d = self.request.recv(65536)
            if not d:
                return False
            self.send(b"echo:" + d)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    tls = None  # an ssl.SSLContext to serve HTTPS

    def finish_request(self, request, client_address):
        if self.tls is not None:
            try:
                request.settimeout(10)
                request = self.tls.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except OSError:
                return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        pass


class Upstream:
    """The echo upstream on 127.0.0.1 (a free port unless one is given)."""

    def __init__(self, port=0, tls=None):
        self.lock = threading.Lock()
        self.requests = []
        self.connections = 0
        self.srv = _Server(("127.0.0.1", port), _Handler)
        self.srv.owner = self
        self.srv.tls = tls
        self.port = self.srv.server_address[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _add(self, rec):
        with self.lock:
            self.requests.append(rec)

    def _conn_opened(self):
        with self.lock:
            self.connections += 1

    def reqs(self, path=None):
        with self.lock:
            rs = list(self.requests)
        return [r for r in rs if path is None or r["path"] == path]

    def last(self, path=None):
        rs = self.reqs(path)
        return rs[-1] if rs else None

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def header_values(rec, name):
    n = name.lower()
    return [v for k, v in rec["headers"] if k.lower() == n]
