// One JSON Web Key turned into a ready-to-use verification key (RFC 7517, 7518 6, 8037 2).
#pragma once

#include "core/crypto.hpp"
#include "core/error.hpp"

#include <boost/json/object.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>

typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace jwtgate::core {

struct evp_pkey_deleter {
    void operator()(EVP_PKEY* p) const noexcept;
};
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, evp_pkey_deleter>;

struct evp_md_ctx_deleter {
    void operator()(EVP_MD_CTX* p) const noexcept;
};
using evp_md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, evp_md_ctx_deleter>;

// Which curve an EC or OKP key is on; `none` for RSA and oct keys.
enum class key_curve : std::uint8_t { none, p256, p384, p521, ed25519 };

// An immutable, verified-usable public key (or a local HMAC secret).
struct jwk {
    std::string kid; // empty when the JWK had none
    key_type kty{};
    key_curve curve = key_curve::none;
    std::optional<jws_alg> alg; // the JWK's own "alg", if any: it serves only that one
    evp_pkey_ptr pkey;          // RSA / EC / OKP public key
    std::string secret;         // oct only: the raw key bytes
    std::string fingerprint;    // stable identity of the key material (hex SHA-256)
    std::size_t rsa_bits = 0;   // RSA modulus size
    // One verification context per RSA/ECDSA algorithm the key serves, initialised once
    // (digest, key, PSS parameters) by prepare_verification and only ever read: a
    // verification works on a copy (EVP_DigestVerifyInit costs about as much as a fifth of
    // an RSA-2048 verification in OpenSSL 3). Null entries fall back to a fresh init.
    std::array<evp_md_ctx_ptr, jws_alg_count> prepared;

    // True when this key may verify `a`: the key type fits the algorithm family, the
    // curve fits ES256/384/512, and the JWK's own "alg" (if any) equals `a`.
    bool serves(jws_alg a) const noexcept;
};

// Why a JWK was not usable (reported per key by parse_jwks; never fatal to a set).
enum class jwk_errc {
    ok = 0,
    not_an_object = 1,
    missing_kty,
    unsupported_kty,
    not_for_signing,  // "use" present and not "sig", or key_ops without "verify"
    unknown_alg,      // "alg" present but not in the table (or "none")
    alg_kty_mismatch, // "alg" names an algorithm of another key type or EC curve
    bad_member,       // a member missing, of the wrong JSON type, not base64url, or of
                      // the wrong size (EC/OKP coordinates); an even RSA modulus
    rsa_too_small,    // modulus under 2048 bits
    rsa_bad_exponent, // e is 1, even or absurdly large (over 64 bits)
    rsa_too_large,    // modulus over 16384 bits (OpenSSL's verification limit)
    unsupported_curve,
    point_not_on_curve,
    private_key,     // "d" (or another private member) present, local or remote
    oct_not_allowed, // symmetric key where only public keys may come
    openssl_failure,
};

const boost::system::error_category& jwk_category() noexcept;
boost::system::error_code make_error_code(jwk_errc e) noexcept;

// Builds a key from one JWK object (RFC 7517 4, RFC 7518 6, RFC 8037 2). `allow_oct` is
// true only for locally configured key sets (inline `jwks` / `jwks_file`), never for a
// remote JWKS. A JWK carrying any private member ("d", "p", "q", "dp", "dq", "qi", "oth")
// is refused (private_key), local or remote: a verifier has no use for private material
// and must not keep it in memory. "use" other than "sig" or "key_ops" without "verify"
// -> not_for_signing; "alg", when present, must be known and fit kty (and the EC curve).
// `fingerprint` is the hex RFC 7638 thumbprint (SHA-256) computed over the canonical
// (minimal, re-encoded) members, so the same key always has the same fingerprint; for
// oct keys it is SHA-256 over a domain tag and the secret. Errors: jwk_errc.
result<std::shared_ptr<const jwk>> parse_jwk(const boost::json::object& obj, bool allow_oct);

} // namespace jwtgate::core

template <> struct boost::system::is_error_code_enum<jwtgate::core::jwk_errc> : std::true_type {};
