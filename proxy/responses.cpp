// jwtgate's own responses: JSON errors with the standard headers.
#include "proxy/responses.hpp"

#include "core/authorize.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace jwtgate::proxy {

namespace http = beast::http;

namespace {
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
}

std::string error_with_details(std::string_view message, std::string_view details) {
    std::string out = "{\"error\":\"";
    out += message;
    out += "\",\"details\":\"";
    out += details;
    out += "\"}";
    return out;
}

std::string transport_error_body(int status) {
    switch (status) {
    case 400: return core::error_body("Bad request");
    case 408: return core::error_body("Request timeout");
    case 413: return core::error_body("Payload too large");
    case 417: return core::error_body("Expectation failed");
    case 431: return core::error_body("Request header fields too large");
    case 501: return core::error_body("Not implemented");
    case 502: return core::error_body("Bad gateway");
    case 503: return core::error_body("Service unavailable");
    case 504: return core::error_body("Gateway timeout");
    case 505: return core::error_body("HTTP version not supported");
    default: return core::error_body("Internal error");
    }
}

net::awaitable<beast::error_code> write_json_response(byte_stream& s,
                                                      std::chrono::milliseconds timeout,
                                                      const json_response& r,
                                                      std::string_view request_id, bool keep_alive,
                                                      bool client_http10, bool head_only) {
    http::response<http::string_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(r.status));
    res.set(http::field::content_type, "application/json");
    if (!r.www_authenticate.empty()) {
        res.set(http::field::www_authenticate, r.www_authenticate);
    }
    if (r.retry_after > 0) {
        res.set(http::field::retry_after, std::to_string(r.retry_after));
    }
    res.set("X-Request-Id", request_id);
    if (!keep_alive) {
        res.set(http::field::connection, "close");
    } else if (client_http10) {
        res.set(http::field::connection, "keep-alive");
    }
    res.content_length(r.body.size());
    if (!head_only) {
        res.body() = r.body;
    }
    http::response_serializer<http::string_body> sr(res);
    s.tcp().expires_after(timeout);
    if (head_only) {
        auto [ec, n] = co_await http::async_write_header(s, sr, use_nothrow);
        co_return ec;
    }
    auto [ec, n] = co_await http::async_write(s, sr, use_nothrow);
    co_return ec;
}

} // namespace jwtgate::proxy
