#!/usr/bin/env python3
"""Benchmark fixtures: an RSA-2048 key (public PEM for HAProxy, JWKS for jwtgate), RS256
tokens minted with PyJWT, and the wrk Lua scripts that send them.

Writes into OUT_DIR:
  pub.pem        the public key (SubjectPublicKeyInfo PEM), for HAProxy's jwt_verify
  jwks.json      the same key as a JWKS, for jwtgate's jwks_file provider
  token          one token (the "same token" scenarios)
  tokens.txt     COUNT distinct tokens, one a line (the "distinct tokens" scenarios)
  distinct.lua   wrk script cycling through tokens.txt, one token per request
  paced.lua      wrk script sending `token` with a fixed per-connection delay (latency runs)
  claims.env     ISSUER= and AUDIENCE= for the server configurations
"""
import argparse
import base64
import json
import os
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://issuer.bench.invalid/"
AUDIENCE = "bench-api"
KID = "bench-1"


def b64u_uint(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def lua_string(s: str) -> str:
    # Tokens are base64url and dots only; a long bracket needs no escaping.
    assert "]]" not in s
    return "[[" + s + "]]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--count", type=int, default=2000, help="distinct tokens to mint")
    ap.add_argument("--delay-ms", type=int, default=10,
                    help="per-connection delay between requests in paced.lua")
    args = ap.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key()
    out = args.out_dir

    with open(os.path.join(out, "pub.pem"), "wb") as f:
        f.write(pub.public_bytes(serialization.Encoding.PEM,
                                 serialization.PublicFormat.SubjectPublicKeyInfo))
    nums = pub.public_numbers()
    with open(os.path.join(out, "jwks.json"), "w") as f:
        json.dump({"keys": [{"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256",
                             "n": b64u_uint(nums.n), "e": b64u_uint(nums.e)}]}, f)

    now = int(time.time())

    def mint(i: int) -> str:
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-%d" % i,
                  "iat": now, "exp": now + 3600, "jti": "bench-%d" % i}
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})

    token = mint(0)
    tokens = [mint(i) for i in range(1, args.count + 1)]
    assert len(set(tokens)) == len(tokens)

    with open(os.path.join(out, "token"), "w") as f:
        f.write(token + "\n")
    with open(os.path.join(out, "tokens.txt"), "w") as f:
        f.write("\n".join(tokens) + "\n")

    # Requests are formatted once in init(): the generator's per-request work is a table
    # lookup, the same for every server measured.
    with open(os.path.join(out, "distinct.lua"), "w") as f:
        f.write("-- Cycles through %d distinct tokens, one per request.\n" % len(tokens))
        f.write("local tokens = {\n")
        for t in tokens:
            f.write("  %s,\n" % lua_string(t))
        f.write("}\n")
        f.write("local requests = {}\nlocal i = 0\n"
                "function init(args)\n"
                "  for k, t in ipairs(tokens) do\n"
                "    requests[k] = wrk.format(nil, nil, {[\"Authorization\"] = \"Bearer \" .. t})\n"
                "  end\n"
                "end\n"
                "function request()\n"
                "  i = i % #requests + 1\n"
                "  return requests[i]\n"
                "end\n")

    with open(os.path.join(out, "paced.lua"), "w") as f:
        f.write("-- Sends one token; each connection waits %d ms before each request, so the\n"
                "-- offered rate is about connections * 1000 / (delay + latency) requests/s.\n"
                % args.delay_ms)
        f.write("wrk.headers[\"Authorization\"] = \"Bearer \" .. %s\n" % lua_string(token))
        f.write("function delay()\n  return %d\nend\n" % args.delay_ms)

    with open(os.path.join(out, "claims.env"), "w") as f:
        f.write("ISSUER=%s\nAUDIENCE=%s\n" % (ISSUER, AUDIENCE))


if __name__ == "__main__":
    main()
