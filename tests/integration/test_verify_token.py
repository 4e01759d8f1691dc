"""jwtgate verify-token through the built binary: tokens minted by PyJWT for every
asymmetric algorithm are accepted; every attack is refused with its exact reason."""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokens_util import Key, claims, hmac_token, jwks, unsigned  # noqa: E402

NOW = 1_800_000_000
ISS = "https://issuer.test"
ISS_LOCAL = "https://local.test"
AUD = "api"


class Suite:
    def __init__(self, binary):
        self.bin = binary
        self.tmp = tempfile.mkdtemp(prefix="jwtgate-verify-")
        self.passed = self.failed = 0
        self.keys = {
            "RS256": Key.rsa("rsa-1", "RS256"), "RS384": Key.rsa("rsa-384", "RS384"),
            "RS512": Key.rsa("rsa-512", "RS512"), "PS256": Key.rsa("ps-1", "PS256"),
            "PS384": Key.rsa("ps-384", "PS384"), "PS512": Key.rsa("ps-512", "PS512"),
            "ES256": Key.ec("ec-256", "ES256"), "ES384": Key.ec("ec-384", "ES384"),
            "ES512": Key.ec("ec-521", "ES512"), "EdDSA": Key.ed("ed-1"),
        }
        self.rsa4096 = Key.rsa("rsa-4096", "RS256", bits=4096)
        self.evil = Key.rsa("evil", "RS256")
        self.secret = b"0123456789abcdef0123456789abcdef"
        keyset = jwks(*self.keys.values(), self.rsa4096)
        jwks_path = os.path.join(self.tmp, "jwks.json")
        with open(jwks_path, "w") as f:
            json.dump(keyset, f)
        local = {"keys": [{"kty": "oct", "kid": "hmac-1", "alg": "HS256",
                           "k": __import__("base64").urlsafe_b64encode(self.secret).rstrip(b"=").decode()}]}
        self.config = os.path.join(self.tmp, "jwtgate.yaml")
        with open(self.config, "w") as f:
            f.write("\n".join([
                "upstream:",
                "  url: http://127.0.0.1:3000",
                "providers:",
                "  - name: main",
                "    issuer: %s" % ISS,
                "    jwks_file: %s" % jwks_path,
                "    audiences: [%s]" % AUD,
                "    max_token_lifetime: 24h",
                "    claims_to_headers:",
                "      sub: X-User-Id",
                "      org.id: X-Org-Id",
                "      roles: X-Roles",
                "  - name: local",
                "    issuer: %s" % ISS_LOCAL,
                "    jwks: '%s'" % json.dumps(local),
                "    algorithms: [HS256]",
                "    token_types: [JWT]",
                "rules:",
                "  - prefix: /admin",
                "    auth: required",
                "    require:",
                "      scopes: [admin:write]",
                "  - prefix: /staff",
                "    auth: required",
                "    require:",
                "      claims: {role: staff}",
                "  - prefix: /main-only",
                "    auth: required",
                "    providers: [main]",
                "  - prefix: /closed",
                "    auth: deny",
                "",
            ]))

    def run(self, token, path=None, at=NOW):
        args = [self.bin, "verify-token", "--config", self.config, "--at", str(at)]
        if path:
            args += ["--path", path]
        p = subprocess.run(args + [token], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30, stdin=subprocess.DEVNULL)
        try:
            out = json.loads(p.stdout.decode())
        except ValueError:
            out = {"unparsed": p.stdout.decode(), "stderr": p.stderr.decode()}
        return p.returncode, out

    def check(self, name, cond, info=""):
        if cond:
            self.passed += 1
            print("PASS", name)
        else:
            self.failed += 1
            print("FAIL %s: %s" % (name, info))

    def expect_valid(self, name, token, path=None, headers=None):
        rc, out = self.run(token, path)
        ok = rc == 0 and out.get("valid") is True
        if ok and headers is not None:
            ok = out.get("headers") == headers
        self.check(name, ok, "rc=%s out=%r" % (rc, out))

    def expect_refused(self, name, token, status, error, details=None, path=None, at=NOW):
        rc, out = self.run(token, path, at)
        ok = rc == 3 and out.get("valid") is False and out.get("status") == status \
            and out.get("error") == error
        if details is not None:
            ok = ok and out.get("details") == details
        self.check(name, ok, "rc=%s out=%r" % (rc, out))
        if token and len(token) > 20:
            self.check(name + ".no_echo", token not in json.dumps(out), "token echoed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    s = Suite(ap.parse_args().bin)
    c = claims(ISS, AUD, now=NOW, org={"id": 42}, roles=["a", "b"])

    for alg, key in s.keys.items():
        s.expect_valid("valid." + alg, key.sign(c))
    s.expect_valid("valid.rsa4096", s.rsa4096.sign(c))
    s.expect_valid("valid.no_kid_tries_keys", s.keys["ES256"].sign(c, kid=False))
    s.expect_valid("headers.rendered", s.keys["RS256"].sign(c),
                   headers={"X-User-Id": "user-1", "X-Org-Id": "42", "X-Roles": "a,b"})
    s.expect_valid("valid.hs256_local_oct",
                   hmac_token({"alg": "HS256", "typ": "JWT", "kid": "hmac-1"},
                              claims(ISS_LOCAL, now=NOW), s.secret))

    rs = s.keys["RS256"]
    good = rs.sign(c)
    h, p, sig = good.split(".")
    inv = "Invalid token"
    s.expect_refused("attack.alg_none", unsigned({"alg": "none"}, c), 401, inv,
                     "unsigned tokens are not accepted")
    s.expect_refused("attack.alg_none_with_sig", unsigned({"alg": "none", "kid": "rsa-1"}, c, b"x" * 32),
                     401, inv, "unsigned tokens are not accepted")
    s.expect_refused("attack.hs256_with_rsa_public_key",
                     hmac_token({"alg": "HS256", "kid": "rsa-1"}, c, rs.public_pem()), 401, inv,
                     "algorithm not allowed")
    s.expect_refused("attack.wrong_kid_type",
                     s.keys["ES256"].sign(c, kid="rsa-1"), 401, inv, "key does not match algorithm")
    s.expect_refused("attack.unknown_kid", rs.sign(c, kid="nope"), 401, inv, "unknown key")
    s.expect_refused("attack.evil_key_same_kid", s.evil.sign(c, kid="rsa-1"), 401, inv, "bad signature")
    s.expect_refused("attack.embedded_jwk", s.evil.sign(c, kid=False, headers={"jwk": s.evil.jwk()}),
                     401, inv, "bad signature")
    s.expect_refused("attack.jku", s.evil.sign(c, kid="evil", headers={"jku": "http://127.0.0.1:1/j"}),
                     401, inv, "unknown key")
    s.expect_refused("attack.crit", rs.sign(c, headers={"crit": ["exp"], "exp": 1}), 401, inv,
                     "unsupported critical header")
    s.expect_refused("attack.crit_empty", rs.sign(c, headers={"crit": []}), 401, inv,
                     "unsupported critical header")
    s.expect_refused("attack.jwe", "a.b.c.d.e", 401, inv, "encrypted tokens are not accepted")
    s.expect_refused("attack.two_segments", h + "." + p, 401, inv, "malformed token")
    s.expect_refused("attack.padding", good + "=", 401, inv, "malformed token encoding")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    s.expect_refused("attack.tampered_signature", "%s.%s.%s" % (h, p, flipped), 401, inv, "bad signature")
    other_payload = rs.sign(dict(c, sub="admin")).split(".")[1]
    s.expect_refused("attack.swapped_payload", "%s.%s.%s" % (h, other_payload, sig), 401, inv,
                     "bad signature")
    s.expect_refused("attack.too_large", rs.sign(dict(c, pad="x" * 9000)), 401, inv, "token too large")
    s.expect_refused("attack.alg_not_allowed_for_provider",
                     s.keys["RS256"].sign(claims(ISS_LOCAL, now=NOW)), 401, inv, "algorithm not allowed")
    s.expect_refused("attack.typ_missing",
                     hmac_token({"alg": "HS256", "kid": "hmac-1"}, claims(ISS_LOCAL, now=NOW), s.secret),
                     401, inv, "missing token type")

    s.expect_refused("claims.expired", rs.sign(claims(ISS, AUD, now=NOW - 1000)), 401,
                     "Token has expired")
    s.expect_refused("claims.not_yet_valid", rs.sign(dict(c, nbf=NOW + 120)), 401, inv,
                     "token not yet valid")
    s.expect_refused("claims.issued_in_future", rs.sign(dict(c, iat=NOW + 120)), 401, inv,
                     "token issued in the future")
    s.expect_refused("claims.wrong_audience", rs.sign(claims(ISS, "other", now=NOW)), 401, inv,
                     "wrong audience")
    s.expect_refused("claims.no_audience", rs.sign(claims(ISS, now=NOW)), 401, inv, "wrong audience")
    s.expect_refused("claims.unknown_issuer", rs.sign(claims("https://evil.test", AUD, now=NOW)), 401,
                     inv, "unknown issuer")
    s.expect_refused("claims.missing_exp", rs.sign({"iss": ISS, "aud": AUD, "sub": "x"}), 401, inv,
                     "missing expiry")
    s.expect_refused("claims.lifetime", rs.sign(claims(ISS, AUD, now=NOW, lifetime=25 * 3600)), 401,
                     inv, "token lifetime too long")
    s.expect_refused("claims.expired_via_at", good, 401, "Token has expired", at=NOW + 3600)

    s.expect_refused("rule.deny", good, 403, "Forbidden", path="/closed/x")
    s.expect_refused("rule.scope_missing", good, 403, "Insufficient scope", path="/admin")
    s.expect_valid("rule.scope_present", rs.sign(dict(c, scope="read admin:write")), path="/admin/x")
    s.expect_refused("rule.claims_unmet", good, 403, "Forbidden", path="/staff")
    s.expect_valid("rule.claims_met", rs.sign(dict(c, role=["x", "staff"])), path="/staff")
    s.expect_refused("rule.provider_not_allowed",
                     hmac_token({"alg": "HS256", "typ": "JWT", "kid": "hmac-1"},
                                claims(ISS_LOCAL, now=NOW), s.secret),
                     401, inv, "issuer not allowed for this route", path="/main-only")

    rc, _ = s.run("x", at=NOW)
    s.check("exit.garbage_is_3", rc == 3, "rc=%s" % rc)
    p = subprocess.run([s.bin, "verify-token", "--config", s.config], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    s.check("exit.missing_token_is_1", p.returncode == 1, "rc=%s" % p.returncode)

    print("%d passed, %d failed" % (s.passed, s.failed))
    return 1 if s.failed else 0


if __name__ == "__main__":
    sys.exit(main())
