// Compact JWS parsing: three strict base64url segments, JSON header and payload
// (RFC 7515 section 7.1, RFC 7519 section 7.2). No verification happens here.
#pragma once

#include "core/crypto.hpp"
#include "core/error.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace jwtgate::core {

struct jws {
    std::string_view signing_input; // "<header>.<payload>" as sent (view into the token)
    std::string signature;          // decoded third segment
    boost::json::object header;
    boost::json::object payload;
    jws_alg alg{};
    std::string kid; // "" when absent
    bool has_kid = false;
    std::string typ; // "" when absent
    bool has_typ = false;
};

// Parses `token` in this order, returning the first failure:
// size (> max_bytes: token_too_large), segment count (5: encrypted_token, else
// malformed_token), an empty segment (malformed_token; an empty signature too: unsecured
// JWS are never accepted), base64url of the header (bad_base64), header JSON object
// (malformed_header), "enc" (encrypted_token), "alg" (missing or not a string:
// unknown_algorithm; "none" in any letter case: alg_none; not in the closed table:
// unknown_algorithm), "crit" present with any value (crit_unsupported), kid/typ present
// but not strings (malformed_header), payload base64url and JSON object (bad_base64 /
// malformed_payload), signature base64url (bad_base64).
// Any byte outside the base64url alphabet ('=', '+', '/', whitespace) is bad_base64.
// Header and payload must be strict RFC 8259 JSON in valid UTF-8, nested at most 32
// levels, and no object in them may repeat a member name (a duplicate "alg" or "iss" is
// read differently by different libraries): otherwise malformed_header/malformed_payload.
// The returned `signing_input` views into `token`, which must outlive it.
// "jwk", "jku", "x5u", "x5c" header values are ignored, never trusted.
// RFC 7515 5.2 (steps 1-7), RFC 7519 7.2.
result<jws> parse_jws(std::string_view token, std::size_t max_bytes);

} // namespace jwtgate::core
