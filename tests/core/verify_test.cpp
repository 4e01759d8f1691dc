// Tests for core/verify: keys generated and tokens signed in-test with OpenSSL, then
// algorithm, typ, key selection, signature tampering, claims and check order.
#include "core/base64url.hpp"
#include "core/jwks.hpp"
#include "core/jwt.hpp"
#include "core/verify.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace jwtgate::core {
// Let BOOST_TEST print reasons and algorithms in failure messages.
static std::ostream& operator<<(std::ostream& os, auth_errc e) {
    return os << static_cast<int>(e) << " (" << details(e) << ")";
}
static std::ostream& operator<<(std::ostream& os, jws_alg alg) {
    return os << to_string(alg);
}
} // namespace jwtgate::core

namespace bdata = boost::unit_test::data;
using namespace jwtgate::core;

namespace {

constexpr std::int64_t now = 1'700'000'000;
constexpr std::int64_t skew = 30;
const std::string issuer = "https://issuer.example";

std::string b64(std::string_view s) {
    return base64url_encode(s);
}
std::string at(std::int64_t offset) {
    return std::to_string(now + offset);
}

// ---------------------------------------------------------------------------------------
// Test-only key generation, JWK export and JWS signing (OpenSSL 3 EVP APIs).

struct pkey_free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

struct test_key {
    key_type kty{};
    pkey_ptr pkey;      // asymmetric keys
    std::string secret; // oct
    std::string curve;  // "P-256", "P-384", "P-521", "Ed25519"
    std::size_t coord_size = 0;
};

std::string bn_bytes(const EVP_PKEY* pkey, const char* param, std::size_t pad = 0) {
    BIGNUM* bn = nullptr;
    BOOST_REQUIRE(EVP_PKEY_get_bn_param(pkey, param, &bn) == 1);
    const int len = pad != 0 ? static_cast<int>(pad) : BN_num_bytes(bn);
    std::string out(static_cast<std::size_t>(len), '\0');
    const int written = BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), len);
    BN_free(bn);
    BOOST_REQUIRE(written == len);
    return out;
}

test_key generate_rsa() {
    test_key k;
    k.kty = key_type::rsa;
    k.pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
    BOOST_REQUIRE(k.pkey);
    return k;
}

test_key generate_ec(const char* curve, std::size_t coord_size) {
    test_key k;
    k.kty = key_type::ec;
    k.curve = curve;
    k.coord_size = coord_size;
    k.pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
    BOOST_REQUIRE(k.pkey);
    return k;
}

test_key generate_ed25519() {
    test_key k;
    k.kty = key_type::okp;
    k.curve = "Ed25519";
    k.pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    BOOST_REQUIRE(k.pkey);
    return k;
}

test_key generate_oct() {
    test_key k;
    k.kty = key_type::oct;
    k.secret.resize(64);
    BOOST_REQUIRE(RAND_bytes(reinterpret_cast<unsigned char*>(k.secret.data()), 64) == 1);
    return k;
}

// The public JWK of `key` with `kid` (omitted when empty) and `extra` members appended
// (e.g. R"(,"alg":"RS384")").
std::string jwk_json(const test_key& key, const std::string& kid, const std::string& extra = "") {
    std::string out = "{";
    if (!kid.empty()) {
        out += R"("kid":")" + kid + R"(",)";
    }
    switch (key.kty) {
    case key_type::rsa:
        out += R"("kty":"RSA","n":")" + b64(bn_bytes(key.pkey.get(), OSSL_PKEY_PARAM_RSA_N)) +
               R"(","e":")" + b64(bn_bytes(key.pkey.get(), OSSL_PKEY_PARAM_RSA_E)) + R"(")";
        break;
    case key_type::ec:
        out += R"("kty":"EC","crv":")" + key.curve + R"(","x":")" +
               b64(bn_bytes(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, key.coord_size)) +
               R"(","y":")" +
               b64(bn_bytes(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, key.coord_size)) + R"(")";
        break;
    case key_type::okp: {
        unsigned char raw[32];
        std::size_t len = sizeof raw;
        BOOST_REQUIRE(EVP_PKEY_get_raw_public_key(key.pkey.get(), raw, &len) == 1);
        out += R"("kty":"OKP","crv":"Ed25519","x":")" +
               b64(std::string_view(reinterpret_cast<const char*>(raw), len)) + R"(")";
        break;
    }
    case key_type::oct: out += R"("kty":"oct","k":")" + b64(key.secret) + R"(")"; break;
    }
    return out + extra + "}";
}

const char* digest_of(jws_alg alg) {
    switch (alg) {
    case jws_alg::RS256:
    case jws_alg::PS256:
    case jws_alg::ES256:
    case jws_alg::HS256: return "SHA256";
    case jws_alg::RS384:
    case jws_alg::PS384:
    case jws_alg::ES384:
    case jws_alg::HS384: return "SHA384";
    case jws_alg::RS512:
    case jws_alg::PS512:
    case jws_alg::ES512:
    case jws_alg::HS512: return "SHA512";
    case jws_alg::EdDSA: return nullptr;
    }
    return nullptr;
}

std::string hmac(jws_alg alg, std::string_view secret, std::string_view input) {
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    BOOST_REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, digest_of(alg), nullptr, secret.data(),
                            secret.size(), reinterpret_cast<const unsigned char*>(input.data()),
                            input.size(), out, sizeof out, &len) != nullptr);
    return std::string(reinterpret_cast<const char*>(out), len);
}

// ECDSA signatures come out of OpenSSL as DER; JWS wants R || S, each padded to the
// coordinate size (RFC 7518 3.4).
std::string der_to_raw(const std::string& der, std::size_t coord_size) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    BOOST_REQUIRE(sig != nullptr);
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig, &r, &s);
    std::string out(2 * coord_size, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    const int n = static_cast<int>(coord_size);
    const bool ok = BN_bn2binpad(r, o, n) == n && BN_bn2binpad(s, o + coord_size, n) == n;
    ECDSA_SIG_free(sig);
    BOOST_REQUIRE(ok);
    return out;
}

// Signs with the private key; ES* signatures are left in DER when `raw_ecdsa` is false.
std::string sign(jws_alg alg, const test_key& key, std::string_view input, bool raw_ecdsa = true) {
    if (is_symmetric(alg)) {
        return hmac(alg, key.secret, input);
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    BOOST_REQUIRE(ctx != nullptr);
    EVP_PKEY_CTX* pctx = nullptr;
    bool ok = EVP_DigestSignInit_ex(ctx, &pctx, digest_of(alg), nullptr, nullptr, key.pkey.get(),
                                    nullptr) == 1;
    if (ok && (alg == jws_alg::PS256 || alg == jws_alg::PS384 || alg == jws_alg::PS512)) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    }
    const auto* in = reinterpret_cast<const unsigned char*>(input.data());
    std::size_t len = 0;
    ok = ok && EVP_DigestSign(ctx, nullptr, &len, in, input.size()) == 1;
    std::string sig(len, '\0');
    ok = ok && EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                              input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    BOOST_REQUIRE(ok);
    sig.resize(len);
    if (key.kty == key_type::ec && raw_ecdsa) {
        return der_to_raw(sig, key.coord_size);
    }
    return sig;
}

std::string public_key_pem(const test_key& key) {
    BIO* bio = BIO_new(BIO_s_mem());
    BOOST_REQUIRE(bio != nullptr);
    const bool ok = PEM_write_bio_PUBKEY(bio, key.pkey.get()) == 1;
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    BOOST_REQUIRE(ok);
    return out;
}

std::string public_key_der(const test_key& key) {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key.pkey.get(), &der);
    BOOST_REQUIRE(len > 0);
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

// Generated once per test binary: RSA key generation is slow.
struct test_keys {
    test_key rsa = generate_rsa();
    test_key rsa2 = generate_rsa();
    test_key attacker = generate_rsa();
    test_key p256 = generate_ec("P-256", 32);
    test_key p256b = generate_ec("P-256", 32);
    test_key p384 = generate_ec("P-384", 48);
    test_key p521 = generate_ec("P-521", 66);
    test_key ed25519 = generate_ed25519();
    test_key oct = generate_oct();
};

const test_keys& keys() {
    static const test_keys k;
    return k;
}

// ---------------------------------------------------------------------------------------
// Tokens, key sets, policies.

struct header_spec {
    std::optional<std::string> kid;
    std::optional<std::string> typ;
    std::string extra; // appended members, starting with ','

    header_spec() = default;
    header_spec(std::optional<std::string> k, std::optional<std::string> t = std::nullopt,
                std::string e = {})
        : kid(std::move(k)), typ(std::move(t)), extra(std::move(e)) {}
};

std::string header_json(jws_alg alg, const header_spec& spec = {}) {
    std::string out = R"({"alg":")" + std::string(to_string(alg)) + R"(")";
    if (spec.kid) {
        out += R"(,"kid":")" + *spec.kid + R"(")";
    }
    if (spec.typ) {
        out += R"(,"typ":")" + *spec.typ + R"(")";
    }
    return out + spec.extra + "}";
}

std::string default_payload() {
    return R"({"iss":")" + issuer + R"(","sub":"alice","aud":"api","iat":)" + at(-10) +
           R"(,"exp":)" + at(600) + "}";
}

std::string make_token(const std::string& header, const std::string& payload, jws_alg alg,
                       const test_key& key) {
    const std::string input = b64(header) + "." + b64(payload);
    return input + "." + b64(sign(alg, key, input));
}

std::string make_token(jws_alg alg, const test_key& key, const header_spec& spec = {},
                       const std::string& payload = default_payload()) {
    return make_token(header_json(alg, spec), payload, alg, key);
}

std::shared_ptr<const key_set> make_set(const std::vector<std::string>& jwks,
                                        bool allow_oct = false) {
    std::string doc = R"({"keys":[)";
    for (std::size_t i = 0; i < jwks.size(); ++i) {
        doc += (i == 0 ? "" : ",") + jwks[i];
    }
    doc += "]}";
    auto parsed = parse_jwks(doc, allow_oct);
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), "key set refused: " + doc);
    BOOST_REQUIRE_MESSAGE(parsed->skipped.empty(), "a key was skipped: " + doc);
    return parsed->keys;
}

// Every key above, each under its own kid.
const key_set& all_keys() {
    static const auto set =
        make_set({jwk_json(keys().rsa, "rsa"), jwk_json(keys().p256, "p256"),
                  jwk_json(keys().p384, "p384"), jwk_json(keys().p521, "p521"),
                  jwk_json(keys().ed25519, "ed25519"), jwk_json(keys().oct, "oct")},
                 true);
    return *set;
}

verify_policy default_policy() {
    verify_policy p;
    p.issuer = issuer;
    p.algorithms = asymmetric_algorithms();
    p.clock_skew = skew;
    return p;
}

verify_policy policy_with(std::initializer_list<jws_alg> algs) {
    verify_policy p = default_policy();
    p.algorithms.reset();
    for (jws_alg a : algs) {
        p.algorithms.set(static_cast<std::size_t>(a));
    }
    return p;
}

verify_policy all_algorithms_policy() {
    verify_policy p = default_policy();
    p.algorithms.set();
    return p;
}

// The first failure of parse + verify, auth_errc::ok when the token is accepted.
auth_errc outcome(const std::string& token, const verify_policy& policy, const key_set& set,
                  std::string* fingerprint = nullptr) {
    auto parsed = parse_jws(token, 16 * 1024);
    if (!parsed) {
        BOOST_REQUIRE(parsed.error().category() == auth_category());
        return static_cast<auth_errc>(parsed.error().value());
    }
    auto verified = verify_jws(*parsed, policy, set, now);
    if (!verified) {
        BOOST_REQUIRE(verified.error().category() == auth_category());
        return static_cast<auth_errc>(verified.error().value());
    }
    if (fingerprint != nullptr) {
        *fingerprint = verified->key_fingerprint;
    }
    return auth_errc::ok;
}

std::string fingerprint_of(const key_set& set, std::string_view kid) {
    const auto found = set.find_kid(kid);
    BOOST_REQUIRE(found.size() == 1);
    return found.front()->fingerprint;
}

const test_key& signer_for(jws_alg alg) {
    switch (key_type_of(alg)) {
    case key_type::rsa: return keys().rsa;
    case key_type::okp: return keys().ed25519;
    case key_type::oct: return keys().oct;
    case key_type::ec: break;
    }
    if (alg == jws_alg::ES256) {
        return keys().p256;
    }
    return alg == jws_alg::ES384 ? keys().p384 : keys().p521;
}

std::string kid_for(jws_alg alg) {
    const test_key& k = signer_for(alg);
    if (&k == &keys().rsa) {
        return "rsa";
    }
    if (&k == &keys().p256) {
        return "p256";
    }
    if (&k == &keys().p384) {
        return "p384";
    }
    if (&k == &keys().p521) {
        return "p521";
    }
    return &k == &keys().ed25519 ? "ed25519" : "oct";
}

const jws_alg every_alg[] = {jws_alg::RS256, jws_alg::RS384, jws_alg::RS512, jws_alg::PS256,
                             jws_alg::PS384, jws_alg::PS512, jws_alg::ES256, jws_alg::ES384,
                             jws_alg::ES512, jws_alg::EdDSA, jws_alg::HS256, jws_alg::HS384,
                             jws_alg::HS512};

} // namespace

// =======================================================================================

BOOST_AUTO_TEST_SUITE(verify)

BOOST_DATA_TEST_CASE(good_token_for_every_algorithm, bdata::make(every_alg), alg) {
    const std::string kid = kid_for(alg);
    std::string fp;
    // With the kid, and without it (every key that serves the algorithm is tried).
    BOOST_TEST(outcome(make_token(alg, signer_for(alg), {kid}), all_algorithms_policy(), all_keys(),
                       &fp) == auth_errc::ok);
    BOOST_TEST(fp == fingerprint_of(all_keys(), kid));
    fp.clear();
    BOOST_TEST(outcome(make_token(alg, signer_for(alg)), all_algorithms_policy(), all_keys(),
                       &fp) == auth_errc::ok);
    BOOST_TEST(fp == fingerprint_of(all_keys(), kid));
}

BOOST_DATA_TEST_CASE(every_signature_bit_flip_is_rejected, bdata::make(every_alg), alg) {
    const std::string token = make_token(alg, signer_for(alg), {kid_for(alg)});
    const std::size_t dot = token.rfind('.');
    const std::string input = token.substr(0, dot);
    const std::string sig = *base64url_decode(token.substr(dot + 1));
    const auto policy = all_algorithms_policy();
    BOOST_REQUIRE(outcome(input + "." + b64(sig), policy, all_keys()) == auth_errc::ok);
    std::size_t accepted = 0;
    for (std::size_t bit = 0; bit < sig.size() * 8; ++bit) {
        std::string flipped = sig;
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
        const auto r = outcome(input + "." + b64(flipped), policy, all_keys());
        if (r != auth_errc::bad_signature) {
            BOOST_TEST(r == auth_errc::bad_signature, "bit " << bit);
            ++accepted;
        }
    }
    BOOST_TEST(accepted == 0u);
    // Truncated, extended and empty-after-decoding signatures.
    BOOST_TEST(outcome(input + "." + b64(sig.substr(0, sig.size() - 1)), policy, all_keys()) ==
               auth_errc::bad_signature);
    BOOST_TEST(outcome(input + "." + b64(sig + '\0'), policy, all_keys()) ==
               auth_errc::bad_signature);
    BOOST_TEST(outcome(input + "." + b64(std::string(sig.size(), '\0')), policy, all_keys()) ==
               auth_errc::bad_signature);
}

BOOST_DATA_TEST_CASE(every_signing_input_character_change_is_rejected,
                     bdata::make({jws_alg::RS256, jws_alg::ES256, jws_alg::EdDSA, jws_alg::HS256}),
                     alg) {
    const std::string token = make_token(alg, signer_for(alg), {kid_for(alg)});
    const std::size_t dot = token.rfind('.');
    const auto policy = all_algorithms_policy();
    std::size_t bad_signatures = 0;
    for (std::size_t i = 0; i < dot; ++i) {
        if (token[i] == '.') {
            continue;
        }
        std::string changed = token;
        changed[i] = token[i] == 'A' ? 'B' : 'A';
        const auto r = outcome(changed, policy, all_keys());
        BOOST_TEST(r != auth_errc::ok, "position " << i);
        bad_signatures += r == auth_errc::bad_signature ? 1 : 0;
    }
    // Changes inside string values still parse and are caught by the signature itself;
    // the others fail earlier (base64url, JSON, alg, kid), never succeed.
    BOOST_TEST(bad_signatures > 0u);
}

BOOST_AUTO_TEST_CASE(changed_claim_with_original_signature_is_bad_signature) {
    const std::string header = header_json(jws_alg::RS256, {"rsa"});
    const std::string token = make_token(header, default_payload(), jws_alg::RS256, keys().rsa);
    std::string payload = default_payload();
    payload.replace(payload.find("alice"), 5, "admin");
    const std::string forged = b64(header) + "." + b64(payload) + token.substr(token.rfind('.'));
    BOOST_TEST(outcome(forged, default_policy(), all_keys()) == auth_errc::bad_signature);
}

// --- algorithm confusion --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(hs256_signed_with_rsa_public_key_is_refused) {
    const auto rsa_only = make_set({jwk_json(keys().rsa, "rsa")});
    const std::string n = bn_bytes(keys().rsa.pkey.get(), OSSL_PKEY_PARAM_RSA_N);
    for (const std::string& secret :
         {public_key_pem(keys().rsa), public_key_der(keys().rsa), n, jwk_json(keys().rsa, "rsa")}) {
        test_key forged;
        forged.kty = key_type::oct;
        forged.secret = secret;
        const std::string with_kid = make_token(jws_alg::HS256, forged, {"rsa"});
        const std::string without_kid = make_token(jws_alg::HS256, forged);
        // The default allowlist has no HS*.
        BOOST_TEST(outcome(with_kid, default_policy(), *rsa_only) ==
                   auth_errc::algorithm_not_allowed);
        BOOST_TEST(outcome(without_kid, default_policy(), *rsa_only) ==
                   auth_errc::algorithm_not_allowed);
        // Even with HS256 allowed, an RSA key never serves it.
        const auto lax = policy_with({jws_alg::RS256, jws_alg::HS256});
        BOOST_TEST(outcome(with_kid, lax, *rsa_only) == auth_errc::key_type_mismatch);
        BOOST_TEST(outcome(without_kid, lax, *rsa_only) == auth_errc::unknown_key);
    }
}

BOOST_AUTO_TEST_CASE(kid_of_wrong_key_type_has_no_fallback) {
    // The EC key would verify this ES256 token, but the kid names the RSA key.
    const auto set = make_set({jwk_json(keys().rsa, "rsa"), jwk_json(keys().p256, "p256")});
    BOOST_TEST(outcome(make_token(jws_alg::ES256, keys().p256, {"rsa"}), default_policy(), *set) ==
               auth_errc::key_type_mismatch);
    BOOST_TEST(outcome(make_token(jws_alg::ES256, keys().p256, {"p256"}), default_policy(), *set) ==
               auth_errc::ok);
    // Same key type, wrong curve.
    BOOST_TEST(outcome(make_token(jws_alg::ES384, keys().p384, {"p256"}), default_policy(),
                       all_keys()) == auth_errc::key_type_mismatch);
    // EdDSA naming an EC key, RS256 naming the OKP key.
    BOOST_TEST(outcome(make_token(jws_alg::EdDSA, keys().ed25519, {"p256"}), default_policy(),
                       all_keys()) == auth_errc::key_type_mismatch);
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa, {"ed25519"}), default_policy(),
                       all_keys()) == auth_errc::key_type_mismatch);
}

BOOST_AUTO_TEST_CASE(unknown_kid_is_unknown_key) {
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa, {"nope"}), default_policy(),
                       all_keys()) == auth_errc::unknown_key);
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa, {"RSA"}), default_policy(),
                       all_keys()) == auth_errc::unknown_key);
    // Every key in the set has a kid, so an empty kid names none of them.
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa, {""}), default_policy(),
                       all_keys()) == auth_errc::unknown_key);
}

BOOST_AUTO_TEST_CASE(empty_kid_names_keys_without_kid) {
    const auto set = make_set({jwk_json(keys().rsa, "")});
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa, {""}), default_policy(), *set) ==
               auth_errc::ok);
}

BOOST_AUTO_TEST_CASE(without_kid_every_key_of_the_type_is_tried) {
    const auto set = make_set({jwk_json(keys().p256, "ec"), jwk_json(keys().rsa, "a"),
                               jwk_json(keys().rsa2, "b"), jwk_json(keys().ed25519, "ed")});
    std::string fp;
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa2), default_policy(), *set, &fp) ==
               auth_errc::ok);
    BOOST_TEST(fp == fingerprint_of(*set, "b"));
    BOOST_TEST(outcome(make_token(jws_alg::PS512, keys().rsa), default_policy(), *set, &fp) ==
               auth_errc::ok);
    BOOST_TEST(fp == fingerprint_of(*set, "a"));
    // Keys of the type exist but none verifies.
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().attacker), default_policy(), *set) ==
               auth_errc::bad_signature);
    // No key of the algorithm's type (or curve) at all.
    BOOST_TEST(outcome(make_token(jws_alg::ES384, keys().p384), default_policy(), *set) ==
               auth_errc::unknown_key);
    const auto rsa_only = make_set({jwk_json(keys().rsa, "a")});
    BOOST_TEST(outcome(make_token(jws_alg::ES256, keys().p256), default_policy(), *rsa_only) ==
               auth_errc::unknown_key);
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa), default_policy(), key_set{}) ==
               auth_errc::unknown_key);
}

BOOST_AUTO_TEST_CASE(keys_sharing_a_kid_are_all_tried) {
    const auto set = make_set({jwk_json(keys().rsa, "same"), jwk_json(keys().rsa2, "same"),
                               jwk_json(keys().p256, "same")});
    std::string fp;
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa2, {"same"}), default_policy(), *set,
                       &fp) == auth_errc::ok);
    BOOST_TEST(fp == fingerprint_of(*make_set({jwk_json(keys().rsa2, "x")}), "x"));
    BOOST_TEST(outcome(make_token(jws_alg::ES256, keys().p256, {"same"}), default_policy(), *set) ==
               auth_errc::ok);
    BOOST_TEST(outcome(make_token(jws_alg::ES256, keys().p256b, {"same"}), default_policy(),
                       *set) == auth_errc::bad_signature);
    BOOST_TEST(outcome(make_token(jws_alg::EdDSA, keys().ed25519, {"same"}), default_policy(),
                       *set) == auth_errc::key_type_mismatch);
}

BOOST_AUTO_TEST_CASE(jwk_own_alg_is_respected) {
    const auto rs384_only = make_set({jwk_json(keys().rsa, "k", R"(,"alg":"RS384")")});
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa, {"k"}), default_policy(),
                       *rs384_only) == auth_errc::key_type_mismatch);
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa), default_policy(), *rs384_only) ==
               auth_errc::unknown_key);
    BOOST_TEST(outcome(make_token(jws_alg::PS384, keys().rsa, {"k"}), default_policy(),
                       *rs384_only) == auth_errc::key_type_mismatch);
    BOOST_TEST(outcome(make_token(jws_alg::RS384, keys().rsa, {"k"}), default_policy(),
                       *rs384_only) == auth_errc::ok);
}

BOOST_AUTO_TEST_CASE(policy_allowlist_applies_before_keys) {
    const auto rs256 = policy_with({jws_alg::RS256});
    BOOST_TEST(outcome(make_token(jws_alg::ES256, keys().p256, {"p256"}), rs256, all_keys()) ==
               auth_errc::algorithm_not_allowed);
    BOOST_TEST(outcome(make_token(jws_alg::RS384, keys().rsa, {"rsa"}), rs256, all_keys()) ==
               auth_errc::algorithm_not_allowed);
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa, {"rsa"}), rs256, all_keys()) ==
               auth_errc::ok);
    // A local oct key is in the set, but HS* must be listed explicitly.
    BOOST_TEST(outcome(make_token(jws_alg::HS256, keys().oct, {"oct"}), default_policy(),
                       all_keys()) == auth_errc::algorithm_not_allowed);
}

BOOST_AUTO_TEST_CASE(embedded_key_headers_are_never_trusted) {
    // The attacker signs with their own key and ships it (or a link to it) in the header.
    const auto set = make_set({jwk_json(keys().rsa, "rsa")});
    const std::string attacker_jwk = jwk_json(keys().attacker, "evil");
    const std::string embedded = R"(,"jwk":)" + attacker_jwk +
                                 R"(,"jku":"https://evil.example/jwks.json",)"
                                 R"("x5u":"https://evil.example/cert.pem","x5c":["MIIB"])";
    BOOST_TEST(
        outcome(make_token(jws_alg::RS256, keys().attacker, {std::nullopt, std::nullopt, embedded}),
                default_policy(), *set) == auth_errc::bad_signature);
    BOOST_TEST(
        outcome(make_token(jws_alg::RS256, keys().attacker, {"evil", std::nullopt, embedded}),
                default_policy(), *set) == auth_errc::unknown_key);
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().attacker, {"rsa", std::nullopt, embedded}),
                       default_policy(), *set) == auth_errc::bad_signature);
}

BOOST_AUTO_TEST_CASE(ecdsa_signature_encoding_is_strict) {
    const std::string header = header_json(jws_alg::ES256, {"p256"});
    const std::string input = b64(header) + "." + b64(default_payload());
    const std::string der = sign(jws_alg::ES256, keys().p256, input, false);
    BOOST_TEST(outcome(input + "." + b64(der), default_policy(), all_keys()) ==
               auth_errc::bad_signature);
    const std::string raw = sign(jws_alg::ES256, keys().p256, input);
    BOOST_TEST(outcome(input + "." + b64(raw), default_policy(), all_keys()) == auth_errc::ok);
    BOOST_TEST(outcome(input + "." + b64(std::string(64, '\0')), default_policy(), all_keys()) ==
               auth_errc::bad_signature);
    BOOST_TEST(outcome(input + "." + b64(std::string(64, '\xff')), default_policy(), all_keys()) ==
               auth_errc::bad_signature);
    // A P-256 signature presented as ES512 against a P-521 key.
    const std::string as512 =
        b64(header_json(jws_alg::ES512, {"p521"})) + "." + b64(default_payload()) + "." + b64(raw);
    BOOST_TEST(outcome(as512, default_policy(), all_keys()) == auth_errc::bad_signature);
}

// --- typ -------------------------------------------------------------------------------

struct typ_row {
    const char* name;
    std::optional<std::string> typ;
    std::vector<std::string> token_types;
    auth_errc expected;
};

std::ostream& operator<<(std::ostream& os, const typ_row& row) {
    return os << row.name;
}

const std::vector<std::string> jwt_and_at = {"jwt", "at+jwt"};

const typ_row typ_rows[] = {
    {"JWT", "JWT", jwt_and_at, auth_errc::ok},
    {"jwt", "jwt", jwt_and_at, auth_errc::ok},
    {"JwT", "JwT", jwt_and_at, auth_errc::ok},
    {"application/jwt", "application/jwt", jwt_and_at, auth_errc::ok},
    {"application/at+jwt", "application/at+jwt", jwt_and_at, auth_errc::ok},
    {"APPLICATION/AT+JWT", "APPLICATION/AT+JWT", jwt_and_at, auth_errc::ok},
    {"at+jwt", "at+jwt", jwt_and_at, auth_errc::ok},
    {"missing", std::nullopt, jwt_and_at, auth_errc::missing_type},
    {"empty", "", jwt_and_at, auth_errc::type_not_allowed},
    {"JOSE", "JOSE", jwt_and_at, auth_errc::type_not_allowed},
    {"trailing space", "JWT ", jwt_and_at, auth_errc::type_not_allowed},
    {"application/ alone", "application/", jwt_and_at, auth_errc::type_not_allowed},
    {"other prefix", "text/jwt", jwt_and_at, auth_errc::type_not_allowed},
    {"at+jwt only, JWT sent", "JWT", {"at+jwt"}, auth_errc::type_not_allowed},
    {"not configured, missing", std::nullopt, {}, auth_errc::ok},
    {"not configured, anything", "whatever", {}, auth_errc::ok},
};

BOOST_DATA_TEST_CASE(typ_allowlist, bdata::make(typ_rows), row) {
    verify_policy policy = default_policy();
    policy.token_types = row.token_types;
    BOOST_TEST(outcome(make_token(jws_alg::RS256, keys().rsa, {"rsa", row.typ}), policy,
                       all_keys()) == row.expected);
}

// --- claims ----------------------------------------------------------------------------

struct claims_row {
    const char* name;
    std::string payload;
    auth_errc expected;
    bool require_exp = true;
    std::vector<std::string> audiences = {};
    std::optional<std::int64_t> max_lifetime = std::nullopt;
};

std::ostream& operator<<(std::ostream& os, const claims_row& row) {
    return os << row.name;
}

std::string exp_only(const std::string& exp) {
    return R"({"exp":)" + exp + "}";
}

const std::vector<std::string> api = {"api"};

const claims_row claims_rows[] = {
    // exp: expired when now >= exp + skew.
    {"exp far future", exp_only(at(3600)), auth_errc::ok},
    {"exp = now", exp_only(at(0)), auth_errc::ok},
    {"exp = now - skew + 1", exp_only(at(-skew + 1)), auth_errc::ok},
    {"exp = now - skew", exp_only(at(-skew)), auth_errc::expired},
    {"exp = now - skew - 1", exp_only(at(-skew - 1)), auth_errc::expired},
    {"exp fractional just inside", exp_only(at(-skew) + ".5"), auth_errc::ok},
    {"exp fractional just outside", exp_only(at(-skew - 1) + ".5"), auth_errc::expired},
    {"exp as double at boundary", exp_only(at(-skew) + ".0"), auth_errc::expired},
    {"exp exponent notation", exp_only("1.7e9"), auth_errc::ok},
    {"exp zero", exp_only("0"), auth_errc::expired},
    {"exp negative", exp_only("-1"), auth_errc::expired},
    {"exp int64 max", exp_only("9223372036854775807"), auth_errc::ok},
    {"exp int64 min", exp_only("-9223372036854775808"), auth_errc::expired},
    {"exp uint64 max", exp_only("18446744073709551615"), auth_errc::ok},
    {"exp beyond uint64", exp_only("1e30"), auth_errc::ok},
    {"exp overflowing double", exp_only("1e400"), auth_errc::malformed_claim},
    {"exp string", exp_only("\"" + at(3600) + "\""), auth_errc::malformed_claim},
    {"exp null", exp_only("null"), auth_errc::malformed_claim},
    {"exp bool", exp_only("true"), auth_errc::malformed_claim},
    {"exp array", exp_only("[" + at(3600) + "]"), auth_errc::malformed_claim},
    {"exp object", exp_only("{}"), auth_errc::malformed_claim},
    {"exp missing, required", R"({"sub":"a"})", auth_errc::missing_exp},
    {"exp missing, not required", R"({"sub":"a"})", auth_errc::ok, false},
    {"exp malformed, not required", exp_only("\"x\""), auth_errc::malformed_claim, false},
    {"exp expired, not required", exp_only(at(-3600)), auth_errc::expired, false},
    // nbf: not yet valid when nbf - skew > now.
    {"nbf = now + skew", R"({"exp":)" + at(3600) + R"(,"nbf":)" + at(skew) + "}", auth_errc::ok},
    {"nbf = now + skew + 1", R"({"exp":)" + at(3600) + R"(,"nbf":)" + at(skew + 1) + "}",
     auth_errc::not_yet_valid},
    {"nbf fractional over", R"({"exp":)" + at(3600) + R"(,"nbf":)" + at(skew) + ".5}",
     auth_errc::not_yet_valid},
    {"nbf past", R"({"exp":)" + at(3600) + R"(,"nbf":)" + at(-3600) + "}", auth_errc::ok},
    {"nbf string", R"({"exp":)" + at(3600) + R"(,"nbf":"0"})", auth_errc::malformed_claim},
    {"nbf null", R"({"exp":)" + at(3600) + R"(,"nbf":null})", auth_errc::malformed_claim},
    {"nbf without exp", R"({"nbf":)" + at(skew + 1) + "}", auth_errc::not_yet_valid, false},
    // iat: issued in the future when iat - skew > now.
    {"iat = now + skew", R"({"exp":)" + at(3600) + R"(,"iat":)" + at(skew) + "}", auth_errc::ok},
    {"iat = now + skew + 1", R"({"exp":)" + at(3600) + R"(,"iat":)" + at(skew + 1) + "}",
     auth_errc::issued_in_future},
    {"iat fractional over", R"({"exp":)" + at(3600) + R"(,"iat":)" + at(skew) + ".25}",
     auth_errc::issued_in_future},
    {"iat string", R"({"exp":)" + at(3600) + R"(,"iat":"now"})", auth_errc::malformed_claim},
    {"iat array", R"({"exp":)" + at(3600) + R"(,"iat":[]})", auth_errc::malformed_claim},
    // aud.
    {"aud string match", R"({"exp":)" + at(3600) + R"(,"aud":"api"})", auth_errc::ok, true, api},
    {"aud array match", R"({"exp":)" + at(3600) + R"(,"aud":["web","api"]})", auth_errc::ok, true,
     api},
    {"aud second configured",
     R"({"exp":)" + at(3600) + R"(,"aud":"b"})",
     auth_errc::ok,
     true,
     {"a", "b"}},
    {"aud wrong string", R"({"exp":)" + at(3600) + R"(,"aud":"web"})", auth_errc::wrong_audience,
     true, api},
    {"aud case differs", R"({"exp":)" + at(3600) + R"(,"aud":"API"})", auth_errc::wrong_audience,
     true, api},
    {"aud prefix only", R"({"exp":)" + at(3600) + R"(,"aud":"ap"})", auth_errc::wrong_audience,
     true, api},
    {"aud wrong array", R"({"exp":)" + at(3600) + R"(,"aud":["web","app"]})",
     auth_errc::wrong_audience, true, api},
    {"aud empty array", R"({"exp":)" + at(3600) + R"(,"aud":[]})", auth_errc::wrong_audience, true,
     api},
    {"aud missing", exp_only(at(3600)), auth_errc::wrong_audience, true, api},
    {"aud number", R"({"exp":)" + at(3600) + R"(,"aud":5})", auth_errc::malformed_claim, true, api},
    {"aud null", R"({"exp":)" + at(3600) + R"(,"aud":null})", auth_errc::malformed_claim, true,
     api},
    {"aud object", R"({"exp":)" + at(3600) + R"(,"aud":{"api":true}})", auth_errc::malformed_claim,
     true, api},
    {"aud array with number", R"({"exp":)" + at(3600) + R"(,"aud":["api",5]})",
     auth_errc::malformed_claim, true, api},
    {"aud nested array", R"({"exp":)" + at(3600) + R"(,"aud":[["api"]]})",
     auth_errc::malformed_claim, true, api},
    {"aud not checked when unconfigured", R"({"exp":)" + at(3600) + R"(,"aud":5})", auth_errc::ok},
    // max_token_lifetime.
    {"lifetime exp - iat = max",
     R"({"iat":)" + at(-100) + R"(,"exp":)" + at(3500) + "}",
     auth_errc::ok,
     true,
     {},
     3600},
    {"lifetime exp - iat = max + 1",
     R"({"iat":)" + at(-100) + R"(,"exp":)" + at(3501) + "}",
     auth_errc::lifetime_too_long,
     true,
     {},
     3600},
    {"lifetime old iat",
     R"({"iat":)" + at(-7200) + R"(,"exp":)" + at(10) + "}",
     auth_errc::lifetime_too_long,
     true,
     {},
     3600},
    {"lifetime fractional over",
     R"({"iat":)" + at(0) + R"(,"exp":)" + at(3600) + ".5}",
     auth_errc::lifetime_too_long,
     true,
     {},
     3600},
    {"lifetime no iat, exp - now = max", exp_only(at(3600)), auth_errc::ok, true, {}, 3600},
    {"lifetime no iat, exp - now = max + 1",
     exp_only(at(3601)),
     auth_errc::lifetime_too_long,
     true,
     {},
     3600},
    {"lifetime no exp", R"({"iat":)" + at(-100000) + "}", auth_errc::ok, false, {}, 3600},
    {"lifetime huge exp",
     exp_only("18446744073709551615"),
     auth_errc::lifetime_too_long,
     true,
     {},
     3600},
    // Order: exp, nbf, iat, aud, lifetime.
    {"order: malformed exp before future nbf", R"({"exp":"x","nbf":)" + at(3600) + "}",
     auth_errc::malformed_claim},
    {"order: missing exp before malformed nbf", R"({"nbf":"x"})", auth_errc::missing_exp},
    {"order: expired before future nbf", R"({"exp":)" + at(-3600) + R"(,"nbf":)" + at(3600) + "}",
     auth_errc::expired},
    {"order: future nbf before future iat",
     R"({"exp":)" + at(7200) + R"(,"nbf":)" + at(3600) + R"(,"iat":)" + at(3600) + "}",
     auth_errc::not_yet_valid},
    {"order: future iat before wrong aud",
     R"({"exp":)" + at(7200) + R"(,"iat":)" + at(3600) + R"(,"aud":"x"})",
     auth_errc::issued_in_future, true, api},
    {"order: malformed iat before wrong aud", R"({"exp":)" + at(7200) + R"(,"iat":{},"aud":"x"})",
     auth_errc::malformed_claim, true, api},
    {"order: wrong aud before lifetime", R"({"exp":)" + at(999999) + R"(,"aud":"x"})",
     auth_errc::wrong_audience, true, api, 60},
    {"order: expired before wrong aud", R"({"exp":)" + at(-3600) + R"(,"aud":"x"})",
     auth_errc::expired, true, api},
};

BOOST_DATA_TEST_CASE(claims_table, bdata::make(claims_rows), row) {
    verify_policy policy = default_policy();
    policy.require_exp = row.require_exp;
    policy.audiences = row.audiences;
    policy.max_token_lifetime = row.max_lifetime;
    const auto payload = boost::json::parse(row.payload).as_object();
    const auto r = check_claims(payload, policy, now);
    const auto got = r ? auth_errc::ok : static_cast<auth_errc>(r.error().value());
    BOOST_TEST(got == row.expected);
    if (r.has_error()) {
        BOOST_TEST((r.error().category() == auth_category()));
    }
}

BOOST_AUTO_TEST_CASE(zero_skew_is_exact) {
    verify_policy policy = default_policy();
    policy.clock_skew = 0;
    const auto claims = [&](const std::string& json) {
        const auto r = check_claims(boost::json::parse(json).as_object(), policy, now);
        return r ? auth_errc::ok : static_cast<auth_errc>(r.error().value());
    };
    BOOST_TEST(claims(exp_only(at(0))) == auth_errc::expired);
    BOOST_TEST(claims(exp_only(at(1))) == auth_errc::ok);
    BOOST_TEST(claims(R"({"exp":)" + at(60) + R"(,"nbf":)" + at(0) + "}") == auth_errc::ok);
    BOOST_TEST(claims(R"({"exp":)" + at(60) + R"(,"nbf":)" + at(1) + "}") ==
               auth_errc::not_yet_valid);
    BOOST_TEST(claims(R"({"exp":)" + at(60) + R"(,"iat":)" + at(1) + "}") ==
               auth_errc::issued_in_future);
}

// --- issuer, result, check order through verify_jws ------------------------------------

std::string payload_with(const std::string& members) {
    return "{" + members + R"(,"exp":)" + at(600) + "}";
}

BOOST_AUTO_TEST_CASE(issuer_is_checked_again) {
    const auto tok = [](const std::string& payload) {
        return make_token(jws_alg::RS256, keys().rsa, {"rsa"}, payload);
    };
    BOOST_TEST(outcome(tok(payload_with(R"("iss":"https://issuer.example")")), default_policy(),
                       all_keys()) == auth_errc::ok);
    BOOST_TEST(outcome(tok(payload_with(R"("iss":"https://other.example")")), default_policy(),
                       all_keys()) == auth_errc::unknown_issuer);
    BOOST_TEST(outcome(tok(payload_with(R"("iss":"https://issuer.example/")")), default_policy(),
                       all_keys()) == auth_errc::unknown_issuer);
    BOOST_TEST(outcome(tok(payload_with(R"("iss":"HTTPS://ISSUER.EXAMPLE")")), default_policy(),
                       all_keys()) == auth_errc::unknown_issuer);
    BOOST_TEST(outcome(tok(payload_with(R"("sub":"a")")), default_policy(), all_keys()) ==
               auth_errc::missing_issuer);
    BOOST_TEST(outcome(tok(payload_with(R"("iss":5)")), default_policy(), all_keys()) ==
               auth_errc::missing_issuer);
    BOOST_TEST(outcome(tok(payload_with(R"("iss":["https://issuer.example"])")), default_policy(),
                       all_keys()) == auth_errc::missing_issuer);
}

BOOST_AUTO_TEST_CASE(verified_token_reports_key_and_exp) {
    // parse_jws keeps a view into the token: each token must outlive its parse result.
    const std::string with_exp = make_token(jws_alg::ES256, keys().p256, {"p256"});
    auto parsed = parse_jws(with_exp, 8192);
    BOOST_REQUIRE(parsed.has_value());
    auto v = verify_jws(*parsed, default_policy(), all_keys(), now);
    BOOST_REQUIRE(v.has_value());
    BOOST_TEST(v->key_fingerprint == fingerprint_of(all_keys(), "p256"));
    BOOST_REQUIRE(v->exp.has_value());
    BOOST_TEST(*v->exp == static_cast<double>(now + 600));

    verify_policy no_exp = default_policy();
    no_exp.require_exp = false;
    const std::string payload = R"({"iss":")" + issuer + R"("})";
    const std::string without_exp = make_token(jws_alg::ES256, keys().p256, {"p256"}, payload);
    parsed = parse_jws(without_exp, 8192);
    BOOST_REQUIRE(parsed.has_value());
    v = verify_jws(*parsed, no_exp, all_keys(), now);
    BOOST_REQUIRE(v.has_value());
    BOOST_TEST(!v->exp.has_value());

    const std::string fractional = R"({"iss":")" + issuer + R"(","exp":)" + at(60) + ".75}";
    const std::string fractional_exp =
        make_token(jws_alg::ES256, keys().p256, {"p256"}, fractional);
    parsed = parse_jws(fractional_exp, 8192);
    BOOST_REQUIRE(parsed.has_value());
    v = verify_jws(*parsed, default_policy(), all_keys(), now);
    BOOST_REQUIRE(v.has_value());
    BOOST_TEST(*v->exp == static_cast<double>(now + 60) + 0.75);
}

struct order_row {
    const char* name;
    std::function<std::string()> token;
    std::function<verify_policy()> policy;
    auth_errc expected;
};

std::ostream& operator<<(std::ostream& os, const order_row& row) {
    return os << row.name;
}

verify_policy rs256_with_types() {
    verify_policy p = policy_with({jws_alg::RS256});
    p.token_types = {"jwt"};
    return p;
}

std::string expired_payload() {
    return R"({"iss":")" + issuer + R"(","exp":)" + at(-3600) + "}";
}

const order_row order_rows[] = {
    {"expired and badly signed -> bad_signature",
     [] { return make_token(jws_alg::RS256, keys().attacker, {"rsa"}, expired_payload()); },
     default_policy, auth_errc::bad_signature},
    {"expired and unknown kid -> unknown_key",
     [] { return make_token(jws_alg::RS256, keys().rsa, {"zzz"}, expired_payload()); },
     default_policy, auth_errc::unknown_key},
    {"expired and well signed -> expired",
     [] { return make_token(jws_alg::RS256, keys().rsa, {"rsa"}, expired_payload()); },
     default_policy, auth_errc::expired},
    {"alg not allowed and unknown kid -> algorithm_not_allowed",
     [] {
         return make_token(jws_alg::ES256, keys().p256, {"zzz", "JWT"});
     },
     rs256_with_types, auth_errc::algorithm_not_allowed},
    {"alg not allowed and typ missing -> algorithm_not_allowed",
     [] { return make_token(jws_alg::ES256, keys().p256, {"p256"}); }, rs256_with_types,
     auth_errc::algorithm_not_allowed},
    {"typ missing and unknown kid -> missing_type",
     [] { return make_token(jws_alg::RS256, keys().rsa, {"zzz"}); }, rs256_with_types,
     auth_errc::missing_type},
    {"typ wrong and kid type mismatch -> type_not_allowed",
     [] {
         return make_token(jws_alg::RS256, keys().rsa, {"p256", "JOSE"});
     },
     rs256_with_types, auth_errc::type_not_allowed},
    {"wrong issuer and alg not allowed -> unknown_issuer",
     [] {
         return make_token(jws_alg::ES256, keys().p256, {"p256"},
                           R"({"iss":"https://x.example","exp":)" + at(600) + "}");
     },
     rs256_with_types, auth_errc::unknown_issuer},
    {"kid type mismatch and expired -> key_type_mismatch",
     [] { return make_token(jws_alg::RS256, keys().rsa, {"p256"}, expired_payload()); },
     default_policy, auth_errc::key_type_mismatch},
    {"bad signature and wrong audience -> bad_signature",
     [] { return make_token(jws_alg::RS256, keys().attacker, {"rsa"}); },
     [] {
         verify_policy p = default_policy();
         p.audiences = {"other"};
         return p;
     },
     auth_errc::bad_signature},
    {"good signature and wrong audience -> wrong_audience",
     [] { return make_token(jws_alg::RS256, keys().rsa, {"rsa"}); },
     [] {
         verify_policy p = default_policy();
         p.audiences = {"other"};
         return p;
     },
     auth_errc::wrong_audience},
};

BOOST_DATA_TEST_CASE(check_order, bdata::make(order_rows), row) {
    BOOST_TEST(outcome(row.token(), row.policy(), all_keys()) == row.expected);
}

BOOST_AUTO_TEST_SUITE_END()
