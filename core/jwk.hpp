// One JSON Web Key turned into a ready-to-use verification key (RFC 7517, 7518 6, 8037 2).
#pragma once

#include "core/crypto.hpp"
#include "core/error.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>

typedef struct evp_pkey_st EVP_PKEY;

namespace jwtgate::core {

struct evp_pkey_deleter {
    void operator()(EVP_PKEY* p) const noexcept;
};
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, evp_pkey_deleter>;

// Which curve an EC or OKP key is on; `none` for RSA and oct keys.
enum class key_curve : std::uint8_t { none, p256, p384, p521, ed25519 };

// An immutable, verified-usable public key (or a local HMAC secret).
struct jwk {
    std::string kid;                // empty when the JWK had none
    key_type kty{};
    key_curve curve = key_curve::none;
    std::optional<jws_alg> alg;     // the JWK's own "alg", if any: it serves only that one
    evp_pkey_ptr pkey;              // RSA / EC / OKP public key
    std::string secret;             // oct only: the raw key bytes
    std::string fingerprint;        // stable identity of the key material (hex SHA-256)
    std::size_t rsa_bits = 0;       // RSA modulus size

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
    not_for_signing,    // "use" present and not "sig", or key_ops without "verify"
    unknown_alg,        // "alg" present but not in the table (or "none")
    alg_kty_mismatch,   // "alg" names an algorithm of another key type
    bad_member,         // a required member missing, not a string, or not base64url
    rsa_too_small,      // modulus under 2048 bits
    rsa_bad_exponent,   // e is 1, even or absurdly large
    unsupported_curve,
    point_not_on_curve,
    private_key,        // "d" (or other private members) present in a remote set
    oct_not_allowed,    // symmetric key where only public keys may come
    openssl_failure,
};

const boost::system::error_category& jwk_category() noexcept;
boost::system::error_code make_error_code(jwk_errc e) noexcept;

// Builds a key from one JWK object. `allow_oct` is true only for locally configured
// key sets (inline `jwks` / `jwks_file`), never for a remote JWKS.
// Errors: jwk_errc.
result<std::shared_ptr<const jwk>> parse_jwk(const boost::json::object& obj, bool allow_oct);

} // namespace jwtgate::core

template <> struct boost::system::is_error_code_enum<jwtgate::core::jwk_errc> : std::true_type {};
