"""Test keys, JWKS documents and token minting for the integration tests (PyJWT +
cryptography, an implementation independent of jwtgate's)."""

import base64
import json
import time

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_bytes(n: int, size: int = 0) -> bytes:
    length = max(size, (n.bit_length() + 7) // 8)
    return n.to_bytes(length, "big")


class Key:
    """A private key with its kid and algorithm, able to sign and to publish its JWK."""

    def __init__(self, kid, alg, private):
        self.kid, self.alg, self.private = kid, alg, private

    @classmethod
    def rsa(cls, kid, alg="RS256", bits=2048):
        return cls(kid, alg, rsa.generate_private_key(public_exponent=65537, key_size=bits))

    @classmethod
    def ec(cls, kid, alg="ES256"):
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[alg]
        return cls(kid, alg, ec.generate_private_key(curve))

    @classmethod
    def ed(cls, kid):
        return cls(kid, "EdDSA", ed25519.Ed25519PrivateKey.generate())

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwk(self, with_alg=False, **extra):
        pub = self.private.public_key()
        if isinstance(pub, rsa.RSAPublicKey):
            nums = pub.public_numbers()
            d = {"kty": "RSA", "n": b64u(_int_bytes(nums.n)), "e": b64u(_int_bytes(nums.e))}
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            nums = pub.public_numbers()
            size = (pub.curve.key_size + 7) // 8
            crv = {256: "P-256", 384: "P-384", 521: "P-521"}[pub.curve.key_size]
            d = {"kty": "EC", "crv": crv, "x": b64u(_int_bytes(nums.x, size)),
                 "y": b64u(_int_bytes(nums.y, size))}
        else:
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            d = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
        d["kid"] = self.kid
        d["use"] = "sig"
        if with_alg:
            d["alg"] = self.alg
        d.update(extra)
        return d

    def sign(self, claims, alg=None, kid=True, headers=None):
        h = dict(headers or {})
        if kid is True:
            h["kid"] = self.kid
        elif kid:
            h["kid"] = kid
        return remember(jwt.encode(claims, self.private, algorithm=alg or self.alg, headers=h))


# The signature and payload segments of every token minted in this process, so a test
# runner can assert that none of them ever shows up in jwtgate's output.
MINTED = set()


def remember(token: str) -> str:
    parts = token.split(".")
    if len(parts) == 3:
        MINTED.update(p for p in parts[1:] if len(p) >= 16)
    return token


def jwks(*keys, **kw):
    return {"keys": [k.jwk(**kw) for k in keys]}


def claims(iss, aud=None, lifetime=300, now=None, **extra):
    now = int(time.time()) if now is None else now
    c = {"iss": iss, "sub": "user-1", "iat": now, "exp": now + lifetime}
    if aud is not None:
        c["aud"] = aud
    c.update(extra)
    return c


def unsigned(header: dict, payload: dict, signature: bytes = b"") -> str:
    """A token assembled by hand (for attacks PyJWT refuses to produce)."""
    enc = lambda o: b64u(json.dumps(o, separators=(",", ":")).encode())
    return remember("%s.%s.%s" % (enc(header), enc(payload), b64u(signature)))


def hmac_token(header: dict, payload: dict, secret: bytes, digest="sha256") -> str:
    import hashlib
    import hmac
    enc = lambda o: b64u(json.dumps(o, separators=(",", ":")).encode())
    signing_input = "%s.%s" % (enc(header), enc(payload))
    mac = hmac.new(secret, signing_input.encode(), getattr(hashlib, digest)).digest()
    return remember("%s.%s" % (signing_input, b64u(mac)))
