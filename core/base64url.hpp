// Strict base64url without padding (RFC 7515 section 2, RFC 4648 section 5).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jwtgate::core {

// Decodes unpadded base64url. Refuses '=', '+', '/', whitespace, any other byte outside
// the alphabet, a length of 1 mod 4, and non-zero trailing bits (so every encoding is
// canonical). Returns nullopt on any of these.
std::optional<std::string> base64url_decode(std::string_view in);

// Encodes bytes as unpadded base64url.
std::string base64url_encode(std::string_view in);

} // namespace jwtgate::core
