#!/usr/bin/python3
"""Proxy streaming: a 1 GiB upload (fixed length and chunked) and a 1 GiB download pass
through intact while jwtgate's resident memory, sampled throughout, stays under 64 MiB."""

import hashlib
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import Conn, Env, case, check, expect_status, main  # noqa: E402
from lib.upstream import PATTERN, pattern_sha256  # noqa: E402

GiB = 1024 * 1024 * 1024
RSS_LIMIT_KIB = 64 * 1024
TIME_LIMIT = 240  # seconds per transfer: generous for a debug build on a shared machine


class Sampler:
    """Samples jwtgate's VmRSS every 50 ms while a transfer runs."""

    def __init__(self, gate):
        self.gate, self.peak, self.samples = gate, 0, 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.gate.rss_kib())
                self.samples += 1
            except OSError:
                return
            self.stop.wait(0.05)

    def finish(self):
        self.stop.set()
        self.t.join(2)
        return self.peak


def upload(e, path, size, chunked, token):
    sha = hashlib.sha256()
    with Conn(e.port, timeout=60) as c:
        framing = "Transfer-Encoding: chunked" if chunked else "Content-Length: %d" % size
        c.send(("PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s\r\n\r\n"
                % (path, token, framing)).encode())
        block = PATTERN * 16  # 1 MiB
        left = size
        deadline = time.monotonic() + TIME_LIMIT
        while left:
            piece = block[:min(left, len(block))]
            sha.update(piece)
            c.send((b"%x\r\n" % len(piece) + piece + b"\r\n") if chunked else piece)
            left -= len(piece)
            check(time.monotonic() < deadline, "upload slower than %ds" % TIME_LIMIT)
        if chunked:
            c.send(b"0\r\n\r\n")
        r = c.read_response()
    return r, sha.hexdigest()


@case("stream.upload_1gib_fixed_and_chunked")
def _(ctx):
    e = Env(ctx, upstream={"timeout": "60s"})
    baseline = e.gate.rss_kib()
    for chunked in (False, True):
        path = "/protected/up-%s" % ("chunked" if chunked else "fixed")
        s = Sampler(e.gate)
        t0 = time.monotonic()
        r, digest = upload(e, path, GiB, chunked, e.token())
        peak = s.finish()
        expect_status(r, 200, path)
        rec = e.up.last(path)
        check(rec["body_len"] == GiB and rec["body_sha256"] == digest, "%s: body altered" % path)
        check(s.samples > 10, "too few RSS samples (%d)" % s.samples)
        check(peak < RSS_LIMIT_KIB, "%s: RSS peaked at %d KiB (baseline %d KiB)" % (path, peak, baseline))
        print("    %s: %.1fs, RSS peak %d KiB" % (path, time.monotonic() - t0, peak))


@case("stream.download_1gib")
def _(ctx):
    e = Env(ctx, upstream={"timeout": "60s"})
    for mode in ("size=%d" % GiB, "size=%d;chunked" % GiB):
        sha = hashlib.sha256()
        got = [0]

        def sink(b):
            sha.update(b)
            got[0] += len(b)

        s = Sampler(e.gate)
        t0 = time.monotonic()
        with Conn(e.port, timeout=60) as c:
            c.send(b"GET /dl HTTP/1.1\r\nHost: x\r\nX-Test-Control: %s\r\n\r\n" % mode.encode())
            r = c.read_response(sink=sink)
        peak = s.finish()
        dt = time.monotonic() - t0
        expect_status(r, 200, mode)
        check(got[0] == GiB and sha.hexdigest() == pattern_sha256(GiB), "%s: body altered (%d bytes)" % (mode, got[0]))
        check(dt < TIME_LIMIT, "%s: download took %.0fs" % (mode, dt))
        check(peak < RSS_LIMIT_KIB, "%s: RSS peaked at %d KiB" % (mode, peak))
        print("    %s: %.1fs, RSS peak %d KiB" % (mode, dt, peak))


@case("stream.idle_rss")
def _(ctx):
    e = Env(ctx)
    for i in range(50):
        expect_status(e.get("/warm/%d" % i), 200)
    rss = e.gate.rss_kib()
    check(rss < 32 * 1024, "idle RSS %d KiB over 32 MiB" % rss)


if __name__ == "__main__":
    main()
