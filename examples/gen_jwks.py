#!/usr/bin/env python3
"""Generates examples/jwks.json: a JWKS holding one fresh RSA-2048 public key (RS256).

Only the public key is written to the JWKS. To mint tokens for the local example, keep
the private key somewhere outside the repository:

    python3 examples/gen_jwks.py --private-key /tmp/jwtgate-example.pem
    python3 -c 'import jwt,time; print(jwt.encode({"iss":"http://127.0.0.1:8080/local-issuer",
        "sub":"alice","aud":"local-api","exp":int(time.time())+3600},
        open("/tmp/jwtgate-example.pem").read(), algorithm="RS256",
        headers={"kid":"local-1"}))'
"""
import argparse
import base64
import json
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def b64url_uint(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "jwks.json"))
    ap.add_argument("--kid", default="local-1")
    ap.add_argument("--private-key", help="also write the private key (PEM) to this path")
    args = ap.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "RSA", "kid": args.kid, "use": "sig", "alg": "RS256",
                      "n": b64url_uint(pub.n), "e": b64url_uint(pub.e)}]}
    with open(args.out, "w") as f:
        json.dump(jwks, f, indent=2)
        f.write("\n")
    if args.private_key:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(args.private_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)


if __name__ == "__main__":
    main()
