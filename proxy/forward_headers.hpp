// Header rewriting between client and upstream: hop-by-hop removal, identity-header
// stripping, X-Forwarded-*, request ids (RFC 9110 7.6.1, RFC 7239 section 1 conventions).
#pragma once

#include "core/authorize.hpp"

#include <boost/beast/http/fields.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace jwtgate::proxy {

namespace http = boost::beast::http;

// What the upstream request head is built from, besides the incoming fields.
struct upstream_head_params {
    const std::vector<std::string>* identity = nullptr; // lower-case names, always removed
    const core::decision* decision = nullptr;           // add_headers, strip_token, authority
    std::string_view client_ip;
    bool client_tls = false; // X-Forwarded-Proto https
    std::string_view request_id;
    std::string_view upstream_authority; // Host for an HTTP/1.0 request without one
    bool websocket = false;              // keep Upgrade, send Connection: Upgrade
};

// Builds the fields sent upstream: every end-to-end incoming field in arrival order except
// hop-by-hop fields (Connection and the names it lists, Keep-Alive, Proxy-Authorization,
// Proxy-Connection, TE other than "trailers", Trailer, Upgrade unless WebSocket), identity
// headers (any case, every duplicate), the token when the decision strips it, framing
// (Content-Length / Transfer-Encoding: set by the caller) and X-Forwarded-* / X-Request-Id
// (replaced). Then Host, the decision's claim headers, X-Forwarded-For (incoming values
// joined, client address appended), X-Forwarded-Proto, X-Forwarded-Host and X-Request-Id.
void build_upstream_fields(const http::fields& in, const upstream_head_params& p,
                           http::fields& out);

// Builds the fields returned to the client from an upstream response: hop-by-hop fields
// removed (Upgrade/Connection kept for a 101 WebSocket switch), framing removed unless
// `keep_length` (a response without body: HEAD, 204, 304, where Content-Length describes
// the representation), X-Request-Id set to `request_id`.
void build_client_fields(const http::fields& in, bool websocket_switch, bool keep_length,
                         std::string_view request_id, http::fields& out);

// True for an X-Request-Id jwtgate keeps: 1 to 128 visible ASCII characters.
bool valid_request_id(std::string_view id) noexcept;

// A fresh random request id (32 lower-case hex digits).
std::string generate_request_id();

// `cookie_header` with every cookie named `name` removed ("a=1; tok=x; b=2" -> "a=1; b=2").
std::string remove_cookie(std::string_view cookie_header, std::string_view name);

} // namespace jwtgate::proxy
