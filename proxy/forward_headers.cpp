// Header rewriting between client and upstream.
#include "proxy/forward_headers.hpp"

#include "proxy/framing.hpp"

#include <algorithm>
#include <random>

namespace jwtgate::proxy {

namespace {

std::string_view sv(boost::beast::string_view s) noexcept {
    return {s.data(), s.size()};
}

// Lower-case names listed in every Connection field (RFC 9110 7.6.1).
std::vector<std::string> connection_options(const http::fields& in) {
    std::vector<std::string> out;
    for (const auto& f : in) {
        if (f.name() != http::field::connection) {
            continue;
        }
        for_each_list_token(sv(f.value()), [&](std::string_view t) {
            std::string l(t);
            std::transform(l.begin(), l.end(), l.begin(), [](char c) {
                return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
            });
            out.push_back(std::move(l));
        });
    }
    return out;
}

bool listed(const std::vector<std::string>& lower_names, std::string_view name) noexcept {
    return std::any_of(lower_names.begin(), lower_names.end(),
                       [&](const std::string& n) { return iequals(n, name); });
}

// Identity headers also match with '_' for '-': CGI/WSGI servers (and NGINX with
// underscores_in_headers) map both "X-User-Id" and "X_User_Id" to HTTP_X_USER_ID, so a
// spoofed "X_User_Id" must go too.
bool identity_listed(const std::vector<std::string>& lower_names, std::string_view name) noexcept {
    auto fold = [](char c) {
        if (c == '_') {
            return '-';
        }
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return std::any_of(lower_names.begin(), lower_names.end(), [&](const std::string& n) {
        return n.size() == name.size() &&
               std::equal(n.begin(), n.end(), name.begin(),
                          [&](char a, char b) { return fold(a) == fold(b); });
    });
}

// Fields that never cross jwtgate in either direction: hop-by-hop ones and framing.
bool hop_or_framing(http::field f) noexcept {
    switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::content_length: return true;
    default: return false;
    }
}

} // namespace

void build_upstream_fields(const http::fields& in, const upstream_head_params& p,
                           http::fields& out) {
    const core::decision& d = *p.decision;
    const auto options = connection_options(in);
    const bool strip_header_token =
        d.strip_token && d.strip_token->kind == core::token_source_kind::header;
    const bool strip_cookie_token =
        d.strip_token && d.strip_token->kind == core::token_source_kind::cookie;

    std::string_view client_host;
    for (const auto& f : in) {
        if (f.name() == http::field::host) {
            client_host = sv(f.value());
            break;
        }
    }
    // Host first by convention: the absolute-form authority wins (RFC 9112 3.2.2).
    std::string_view host = !d.authority.empty() ? std::string_view(d.authority) : client_host;
    if (host.empty()) {
        host = p.upstream_authority;
    }
    out.insert(http::field::host, host);

    std::string xff;
    for (const auto& f : in) {
        const auto name = sv(f.name_string());
        const auto value = sv(f.value());
        if (f.name() == http::field::host) {
            continue;
        }
        if (iequals(name, "x-forwarded-for")) {
            if (!trim(value).empty()) {
                xff += xff.empty() ? "" : ", ";
                xff += trim(value);
            }
            continue;
        }
        if (hop_or_framing(f.name()) || f.name() == http::field::proxy_authorization) {
            continue;
        }
        if (f.name() == http::field::te) {
            if (iequals(trim(value), "trailers")) {
                out.insert(name, value);
            }
            continue;
        }
        if (f.name() == http::field::upgrade) {
            if (p.websocket) {
                out.insert(name, value);
            }
            continue;
        }
        if (iequals(name, "x-forwarded-proto") || iequals(name, "x-forwarded-host") ||
            iequals(name, "x-request-id") || listed(options, name) ||
            identity_listed(*p.identity, name) ||
            (strip_header_token && iequals(name, d.strip_token->name))) {
            continue;
        }
        if (strip_cookie_token && f.name() == http::field::cookie) {
            auto rest = remove_cookie(value, d.strip_token->name);
            if (!rest.empty()) {
                out.insert(name, rest);
            }
            continue;
        }
        out.insert(name, value);
    }

    if (p.websocket) {
        out.set(http::field::connection, "Upgrade");
    }
    for (const auto& [name, value] : d.add_headers) {
        out.insert(name, value);
    }
    xff += xff.empty() ? "" : ", ";
    xff += p.client_ip;
    out.insert("X-Forwarded-For", xff);
    out.insert("X-Forwarded-Proto", p.client_tls ? "https" : "http");
    const std::string_view fwd_host =
        !d.authority.empty() ? std::string_view(d.authority) : client_host;
    if (!fwd_host.empty()) {
        out.insert("X-Forwarded-Host", fwd_host);
    }
    out.insert("X-Request-Id", p.request_id);
}

void build_client_fields(const http::fields& in, bool websocket_switch, bool keep_length,
                         std::string_view request_id, http::fields& out) {
    const auto options = connection_options(in);
    for (const auto& f : in) {
        const auto name = sv(f.name_string());
        const auto value = sv(f.value());
        if (keep_length && (f.name() == http::field::content_length ||
                            f.name() == http::field::transfer_encoding)) {
            out.insert(name, value);
            continue;
        }
        if (websocket_switch &&
            (f.name() == http::field::upgrade || f.name() == http::field::connection)) {
            out.insert(name, value);
            continue;
        }
        if (hop_or_framing(f.name()) || f.name() == http::field::te ||
            f.name() == http::field::upgrade || iequals(name, "x-request-id") ||
            (!websocket_switch && listed(options, name))) {
            continue;
        }
        out.insert(name, value);
    }
    out.insert("X-Request-Id", request_id);
}

bool valid_request_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string generate_request_id() {
    thread_local std::mt19937_64 rng{[] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(32, '0');
    for (std::size_t half = 0; half < 2; ++half) {
        auto v = rng();
        for (std::size_t i = 0; i < 16; ++i) {
            out[half * 16 + i] = hex[v & 0xf];
            v >>= 4;
        }
    }
    return out;
}

std::string remove_cookie(std::string_view cookie_header, std::string_view name) {
    std::string out;
    std::string_view rest = cookie_header;
    while (!rest.empty()) {
        auto semi = rest.find(';');
        auto pair = trim(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        if (pair.empty()) {
            continue;
        }
        auto eq = pair.find('=');
        if (trim(pair.substr(0, eq)) == name) {
            continue;
        }
        out += out.empty() ? "" : "; ";
        out += pair;
    }
    return out;
}

} // namespace jwtgate::proxy
