// Error codes of the core: why a token was refused, why a path was rejected.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string_view>
#include <type_traits>

namespace jwtgate::core {

template <class T> using result = boost::system::result<T>;

// Why a token was not accepted. Each code has one fixed, attacker-independent
// reason text (`details()`), which is what a 401 body carries. The list and the
// order in which they are checked is documented in docs/reasons.md.
enum class auth_errc {
    ok = 0,
    // Structure (RFC 7515 7.1, RFC 7519 7.2).
    token_too_large = 1, // longer than limits.max_token_bytes
    malformed_token,     // not three segments / empty segment / bad characters
    bad_base64,          // a segment is not strict unpadded base64url
    malformed_header,    // header is not a JSON object
    encrypted_token,     // five segments or "enc" present: JWE is not accepted
    malformed_payload,   // payload is not a JSON object
    // Header (RFC 7515 4.1).
    alg_none,          // "alg":"none"
    unknown_algorithm, // "alg" missing, not a string or not in the closed table
    crit_unsupported,  // any "crit" header (no extension is supported)
    // Issuer / provider selection (RFC 7519 4.1.1).
    missing_issuer,        // no "iss" or not a string
    unknown_issuer,        // no provider has this issuer
    provider_not_allowed,  // the provider exists but the rule does not allow it
    algorithm_not_allowed, // not in the provider's allowlist
    missing_type,          // token_types configured, no "typ"
    type_not_allowed,      // "typ" not in token_types
    // Key selection and signature (RFC 7515 5.2, RFC 7517 4).
    unknown_key,       // no key with this kid / no key of the algorithm's type
    key_type_mismatch, // the kid names a key of the wrong type or algorithm
    bad_signature,     // signature does not verify (or has the wrong length/range)
    // Claims (RFC 7519 4.1).
    expired,           // exp + skew <= now
    missing_exp,       // require_exp and no "exp"
    malformed_claim,   // exp/nbf/iat/aud of the wrong JSON type
    not_yet_valid,     // nbf - skew > now
    issued_in_future,  // iat - skew > now
    wrong_audience,    // aud does not contain any configured audience
    lifetime_too_long, // exp - iat (or exp - now) above max_token_lifetime
    // Not a token fault: the provider has no key set loaded (-> 503).
    key_set_unavailable,
};

// The fixed reason text for a 401 `details` field (never contains input).
std::string_view details(auth_errc e) noexcept;

const boost::system::error_category& auth_category() noexcept;
boost::system::error_code make_error_code(auth_errc e) noexcept;

// Why a request target was rejected (-> 400).
enum class path_errc {
    ok = 0,
    empty = 1,              // empty target
    not_origin_form,        // neither origin-form, absolute-form nor "*"
    above_root,             // dot segments climb above "/"
    encoded_slash,          // %2F or %5C
    encoded_nul,            // %00 or raw NUL
    bad_percent,            // '%' not followed by two hex digits
    bad_character,          // space, control, non-ASCII or otherwise not allowed
    fragment,               // '#'
    asterisk_not_options,   // "*" with a method other than OPTIONS
    dot_segment_parameters, // "..;x" or ".;x": a dot segment with path parameters
    ambiguous_parameters    // ";params" change which rule matches (servlet vs literal)
};

const boost::system::error_category& path_category() noexcept;
boost::system::error_code make_error_code(path_errc e) noexcept;

} // namespace jwtgate::core

template <> struct boost::system::is_error_code_enum<jwtgate::core::auth_errc> : std::true_type {};
template <> struct boost::system::is_error_code_enum<jwtgate::core::path_errc> : std::true_type {};
