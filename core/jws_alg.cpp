// The closed algorithm table: names, key types (RFC 7518 3.1, RFC 8037 3.1).
#include "core/crypto.hpp"

#include <array>

namespace jwtgate::core {

namespace {

struct alg_row {
    jws_alg alg;
    std::string_view name;
    key_type kty;
};

constexpr std::array<alg_row, jws_alg_count> alg_table{{
    {jws_alg::RS256, "RS256", key_type::rsa},
    {jws_alg::RS384, "RS384", key_type::rsa},
    {jws_alg::RS512, "RS512", key_type::rsa},
    {jws_alg::PS256, "PS256", key_type::rsa},
    {jws_alg::PS384, "PS384", key_type::rsa},
    {jws_alg::PS512, "PS512", key_type::rsa},
    {jws_alg::ES256, "ES256", key_type::ec},
    {jws_alg::ES384, "ES384", key_type::ec},
    {jws_alg::ES512, "ES512", key_type::ec},
    {jws_alg::EdDSA, "EdDSA", key_type::okp},
    {jws_alg::HS256, "HS256", key_type::oct},
    {jws_alg::HS384, "HS384", key_type::oct},
    {jws_alg::HS512, "HS512", key_type::oct},
}};

} // namespace

std::optional<jws_alg> parse_jws_alg(std::string_view name) noexcept {
    for (const auto& row : alg_table) {
        if (row.name == name) {
            return row.alg;
        }
    }
    return std::nullopt;
}

std::string_view to_string(jws_alg alg) noexcept {
    return alg_table[static_cast<std::size_t>(alg)].name;
}

key_type key_type_of(jws_alg alg) noexcept {
    return alg_table[static_cast<std::size_t>(alg)].kty;
}

std::string_view to_string(key_type kty) noexcept {
    switch (kty) {
    case key_type::rsa: return "RSA";
    case key_type::ec: return "EC";
    case key_type::okp: return "OKP";
    case key_type::oct: return "oct";
    }
    return "?";
}

bool is_symmetric(jws_alg alg) noexcept {
    return key_type_of(alg) == key_type::oct;
}

} // namespace jwtgate::core
