// Request framing checks beyond Beast's parser: smuggling defences, Host, Expect,
// WebSocket upgrade detection (RFC 9112 3.2, 6.1, 6.3; RFC 9110 10.1.1; RFC 6455 4.1).
#pragma once

#include "core/ascii.hpp"
#include "core/authorize.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace jwtgate::proxy {

// Why a request head was refused before any authorisation.
enum class framing_errc {
    ok = 0,
    length_and_chunked,  // Content-Length and Transfer-Encoding together (400)
    chunked_not_final,   // a coding after chunked, or no chunked at all (400)
    chunked_repeated,    // chunked applied twice (400)
    unsupported_coding,  // another coding before a final chunked (501)
    coding_in_http10,    // Transfer-Encoding in an HTTP/1.0 request (400)
    missing_host,        // HTTP/1.1 without Host (400)
    multiple_host,       // more than one Host field (400)
    bad_content_length,  // a Content-Length Beast let through that is still unusable (400)
    unsupported_version, // not HTTP/1.0 or HTTP/1.1 (505)
    expectation_failed,  // Expect other than 100-continue (417)
};

// The status jwtgate answers with for a framing error.
int status_of(framing_errc e) noexcept;
// A short fixed description for the JSON body's "details" (never echoes input).
std::string_view details(framing_errc e) noexcept;

struct request_framing {
    bool chunked = false;
    std::optional<std::uint64_t> content_length;
    bool expect_continue = false; // Expect: 100-continue
    bool websocket = false;       // Connection: upgrade + Upgrade: websocket, GET, HTTP/1.1

    bool has_body() const noexcept { return chunked || content_length.value_or(0) > 0; }
};

// Checks the framing headers of a request head that Beast's parser accepted. `version`
// is 10 or 11 (Beast's encoding: major * 10 + minor).
framing_errc check_request_framing(std::string_view method, unsigned version,
                                   std::span<const core::header_field> headers,
                                   request_framing& out);

using core::iequals;
using core::trim;

// Calls `f(token)` for each element of a comma-separated header list (RFC 9110 5.6.1),
// whitespace-trimmed, empty elements skipped.
template <class F> void for_each_list_token(std::string_view value, F&& f) {
    while (!value.empty()) {
        auto comma = value.find(',');
        const auto item = trim(value.substr(0, comma));
        if (!item.empty()) {
            f(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        value.remove_prefix(comma + 1);
    }
}

} // namespace jwtgate::proxy
