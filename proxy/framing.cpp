// Request framing checks: Transfer-Encoding / Content-Length / Host / Expect / Upgrade.
#include "proxy/framing.hpp"

#include <charconv>

namespace jwtgate::proxy {

namespace {

std::string_view coding_name(std::string_view item) noexcept {
    // transfer-coding = token *( OWS ";" OWS transfer-parameter )
    auto semi = item.find(';');
    item = item.substr(0, semi);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
        item.remove_suffix(1);
    }
    return item;
}

struct coding_scan {
    int chunked = 0;
    int codings = 0;
    bool chunked_last = false;
};

void scan_codings(std::string_view value, coding_scan& s) {
    for_each_list_token(value, [&](std::string_view item) {
        const bool is_chunked = iequals(coding_name(item), "chunked");
        s.chunked += is_chunked ? 1 : 0;
        ++s.codings;
        s.chunked_last = is_chunked;
    });
}

bool parse_length(std::string_view v, std::uint64_t& out) noexcept {
    if (v.empty()) {
        return false;
    }
    for (char c : v) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    return r.ec == std::errc{} && r.ptr == v.data() + v.size();
}

// Every element of every Content-Length field must be the same decimal number.
bool scan_lengths(std::string_view value, std::optional<std::uint64_t>& length) {
    bool ok = true;
    bool any = false;
    for_each_list_token(value, [&](std::string_view item) {
        std::uint64_t n = 0;
        any = true;
        if (!parse_length(item, n) || (length && *length != n)) {
            ok = false;
            return;
        }
        length = n;
    });
    return ok && any;
}

} // namespace

int status_of(framing_errc e) noexcept {
    switch (e) {
    case framing_errc::ok: return 200;
    case framing_errc::unsupported_coding: return 501;
    case framing_errc::unsupported_version: return 505;
    case framing_errc::expectation_failed: return 417;
    default: return 400;
    }
}

std::string_view details(framing_errc e) noexcept {
    switch (e) {
    case framing_errc::ok: return "ok";
    case framing_errc::length_and_chunked: return "both Content-Length and Transfer-Encoding";
    case framing_errc::chunked_not_final: return "chunked is not the final transfer coding";
    case framing_errc::chunked_repeated: return "chunked applied more than once";
    case framing_errc::unsupported_coding: return "unsupported transfer coding";
    case framing_errc::coding_in_http10: return "Transfer-Encoding in an HTTP/1.0 request";
    case framing_errc::missing_host: return "missing Host header";
    case framing_errc::multiple_host: return "more than one Host header";
    case framing_errc::bad_content_length: return "invalid Content-Length";
    case framing_errc::unsupported_version: return "unsupported HTTP version";
    case framing_errc::expectation_failed: return "unsupported expectation";
    }
    return "bad request";
}

framing_errc check_request_framing(std::string_view method, unsigned version,
                                   std::span<const core::header_field> headers,
                                   request_framing& out) {
    out = {};
    if (version != 10 && version != 11) {
        return framing_errc::unsupported_version;
    }
    coding_scan codings;
    bool has_te = false;
    bool has_cl = false;
    bool cl_ok = true;
    int hosts = 0;
    bool expect_other = false;
    bool connection_upgrade = false;
    bool upgrade_websocket = false;
    for (const auto& h : headers) {
        if (iequals(h.name, "transfer-encoding")) {
            has_te = true;
            scan_codings(h.value, codings);
        } else if (iequals(h.name, "content-length")) {
            has_cl = true;
            cl_ok = scan_lengths(h.value, out.content_length) && cl_ok;
        } else if (iequals(h.name, "host")) {
            ++hosts;
        } else if (iequals(h.name, "expect")) {
            for_each_list_token(h.value, [&](std::string_view item) {
                if (iequals(item, "100-continue")) {
                    out.expect_continue = true;
                } else {
                    expect_other = true;
                }
            });
        } else if (iequals(h.name, "connection")) {
            for_each_list_token(h.value, [&](std::string_view item) {
                connection_upgrade = connection_upgrade || iequals(item, "upgrade");
            });
        } else if (iequals(h.name, "upgrade")) {
            for_each_list_token(h.value, [&](std::string_view item) {
                auto slash = item.find('/');
                upgrade_websocket =
                    upgrade_websocket || iequals(item.substr(0, slash), "websocket");
            });
        }
    }
    if (has_te && has_cl) {
        return framing_errc::length_and_chunked;
    }
    if (has_te) {
        if (version == 10) {
            return framing_errc::coding_in_http10;
        }
        if (codings.chunked > 1) {
            return framing_errc::chunked_repeated;
        }
        if (codings.chunked == 0 || !codings.chunked_last) {
            return framing_errc::chunked_not_final;
        }
        if (codings.codings > 1) {
            return framing_errc::unsupported_coding;
        }
        out.chunked = true;
    }
    if (has_cl && !cl_ok) {
        return framing_errc::bad_content_length;
    }
    if (hosts > 1) {
        return framing_errc::multiple_host;
    }
    if (hosts == 0 && version == 11) {
        return framing_errc::missing_host;
    }
    if (expect_other) {
        return framing_errc::expectation_failed;
    }
    if (version == 10) {
        out.expect_continue = false; // RFC 9110 10.1.1: ignore 100-continue from HTTP/1.0
    }
    out.websocket = version == 11 && method == "GET" && connection_upgrade && upgrade_websocket;
    return framing_errc::ok;
}

} // namespace jwtgate::proxy
