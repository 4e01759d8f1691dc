// The closed JWS algorithm table and signature verification (the only OpenSSL user
// besides key construction in jwk.cpp). RFC 7518 section 3, RFC 8037 section 3.1.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace jwtgate::core {

// Every algorithm jwtgate knows. Anything else (including "none") is refused before
// any key is looked at.
enum class jws_alg : std::uint8_t {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
    HS256,
    HS384,
    HS512,
};
inline constexpr std::size_t jws_alg_count = 13;

// The JWK "kty" a key must have to serve an algorithm (RFC 7517 6.1).
enum class key_type : std::uint8_t { rsa, ec, okp, oct };

// Looks an "alg" header value up in the closed table (exact, case-sensitive match).
// Returns nullopt for unknown names and for "none".
std::optional<jws_alg> parse_jws_alg(std::string_view name) noexcept;

// The registered name of `alg` ("RS256", ...).
std::string_view to_string(jws_alg alg) noexcept;

// The key type that can serve `alg`: RS*/PS* -> rsa, ES* -> ec, EdDSA -> okp, HS* -> oct.
key_type key_type_of(jws_alg alg) noexcept;

// The "kty" name of a key type ("RSA", "EC", "OKP", "oct").
std::string_view to_string(key_type kty) noexcept;

// True for HS256/384/512.
bool is_symmetric(jws_alg alg) noexcept;

struct jwk;

// Verifies `signature` (the decoded third JWS segment) over `signing_input`
// ("<header>.<payload>" as sent) with `key` for `alg` (RFC 7515 5.2).
// Returns false on any mismatch: wrong key type or curve for the algorithm, an ECDSA
// signature that is not exactly 2*size bytes or whose R or S is outside [1, n-1]
// (RFC 7518 3.4), an HMAC compared in constant time. Never throws.
bool verify_signature(jws_alg alg, const jwk& key, std::string_view signing_input,
                      std::string_view signature) noexcept;

// Fills key.prepared for every RS*/PS*/ES* algorithm `key` serves (called once, while the
// key is built). An entry that cannot be prepared stays null; verification then
// initialises a context itself. Never throws.
void prepare_verification(jwk& key) noexcept;

} // namespace jwtgate::core
