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
    std::string kid;                // "" when absent
    bool has_kid = false;
    std::string typ;                // "" when absent
    bool has_typ = false;
};

// Parses `token` in this order, returning the first failure:
// size (> max_bytes: token_too_large), segment count (5: encrypted_token, else
// malformed_token), base64url of the header (bad_base64), header JSON object
// (malformed_header), "enc" (encrypted_token), "alg" (alg_none / unknown_algorithm),
// "crit" (crit_unsupported), kid/typ types (malformed_header), payload base64url and JSON
// object (bad_base64 / malformed_payload), signature base64url (bad_base64).
// The returned `signing_input` views into `token`, which must outlive it.
// "jwk", "jku", "x5u", "x5c" header values are ignored, never trusted.
result<jws> parse_jws(std::string_view token, std::size_t max_bytes);

} // namespace jwtgate::core
