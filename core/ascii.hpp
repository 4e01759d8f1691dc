// ASCII helpers for protocol text (header names, schemes, directives): locale-free.
#pragma once

#include <algorithm>
#include <string_view>

namespace jwtgate::core {

// 'A'-'Z' to 'a'-'z'; every other byte unchanged.
constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Case-insensitive ASCII equality (RFC 9110 field names, schemes, tokens).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

// `s` without leading and trailing optional whitespace (SP and HTAB, RFC 9110 5.6.3).
constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

} // namespace jwtgate::core
