// Strict unpadded base64url (RFC 4648 section 5 alphabet, RFC 7515 section 2 rules).
#include "core/base64url.hpp"

#include <array>
#include <cstdint>

namespace jwtgate::core {

namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::uint8_t invalid = 0xFF;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
    std::array<std::uint8_t, 256> table{};
    for (auto& v : table) {
        v = invalid;
    }
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
    }
    return table;
}

constexpr std::array<std::uint8_t, 256> decode_table = make_decode_table();

inline std::uint8_t sextet(char c) noexcept {
    return decode_table[static_cast<unsigned char>(c)];
}

} // namespace

std::optional<std::string> base64url_decode(std::string_view in) {
    const std::size_t tail = in.size() % 4;
    if (tail == 1) {
        return std::nullopt; // 6 bits cannot hold a byte
    }
    const std::size_t full = in.size() - tail;
    std::string out;
    out.resize(full / 4 * 3 + (tail == 0 ? 0 : tail - 1));
    char* dst = out.data();
    const char* src = in.data();

    for (std::size_t i = 0; i < full; i += 4) {
        const std::uint8_t a = sextet(src[i]);
        const std::uint8_t b = sextet(src[i + 1]);
        const std::uint8_t c = sextet(src[i + 2]);
        const std::uint8_t d = sextet(src[i + 3]);
        // 0xFF has the top bits set, which no valid sextet has: one test per group.
        if ((a | b | c | d) & 0xC0) {
            return std::nullopt;
        }
        const std::uint32_t v = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) |
                                (std::uint32_t{c} << 6) | std::uint32_t{d};
        *dst++ = static_cast<char>((v >> 16) & 0xFF);
        *dst++ = static_cast<char>((v >> 8) & 0xFF);
        *dst++ = static_cast<char>(v & 0xFF);
    }

    if (tail == 2) {
        const std::uint8_t a = sextet(src[full]);
        const std::uint8_t b = sextet(src[full + 1]);
        // The low 4 bits of b are padding and must be zero for a canonical encoding.
        if (((a | b) & 0xC0) || (b & 0x0F)) {
            return std::nullopt;
        }
        *dst = static_cast<char>((a << 2) | (b >> 4));
    } else if (tail == 3) {
        const std::uint8_t a = sextet(src[full]);
        const std::uint8_t b = sextet(src[full + 1]);
        const std::uint8_t c = sextet(src[full + 2]);
        // The low 2 bits of c are padding.
        if (((a | b | c) & 0xC0) || (c & 0x03)) {
            return std::nullopt;
        }
        dst[0] = static_cast<char>((a << 2) | (b >> 4));
        dst[1] = static_cast<char>(((b & 0x0F) << 4) | (c >> 2));
    }
    return out;
}

std::string base64url_encode(std::string_view in) {
    const std::size_t full = in.size() / 3 * 3;
    const std::size_t rest = in.size() - full;
    std::string out;
    out.resize(in.size() / 3 * 4 + (rest == 0 ? 0 : rest + 1));
    char* dst = out.data();
    const auto byte = [&](std::size_t i) {
        return std::uint32_t{static_cast<unsigned char>(in[i])};
    };

    for (std::size_t i = 0; i < full; i += 3) {
        const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        *dst++ = alphabet[(v >> 18) & 0x3F];
        *dst++ = alphabet[(v >> 12) & 0x3F];
        *dst++ = alphabet[(v >> 6) & 0x3F];
        *dst++ = alphabet[v & 0x3F];
    }
    if (rest == 1) {
        const std::uint32_t v = byte(full) << 16;
        dst[0] = alphabet[(v >> 18) & 0x3F];
        dst[1] = alphabet[(v >> 12) & 0x3F];
    } else if (rest == 2) {
        const std::uint32_t v = (byte(full) << 16) | (byte(full + 1) << 8);
        dst[0] = alphabet[(v >> 18) & 0x3F];
        dst[1] = alphabet[(v >> 12) & 0x3F];
        dst[2] = alphabet[(v >> 6) & 0x3F];
    }
    return out;
}

} // namespace jwtgate::core
