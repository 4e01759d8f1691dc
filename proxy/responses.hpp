// jwtgate's own responses (errors, 100 Continue) written to the client.
#pragma once

#include "proxy/byte_stream.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace jwtgate::proxy {

struct json_response {
    int status = 500;
    std::string body;                  // JSON text
    std::string_view www_authenticate; // "" = none
    std::int64_t retry_after = 0;      // 0 = none
};

// Writes `r` with Content-Type application/json, Content-Length, X-Request-Id and either
// "Connection: close" or (HTTP/1.0 client kept alive) "Connection: keep-alive".
// `head_only` omits the body (response to HEAD). Returns the write error, if any.
net::awaitable<beast::error_code> write_json_response(byte_stream& s,
                                                      std::chrono::milliseconds timeout,
                                                      const json_response& r,
                                                      std::string_view request_id, bool keep_alive,
                                                      bool client_http10, bool head_only);

// {"error":"<message>","details":"<details>"} for fixed strings (no escaping needed).
std::string error_with_details(std::string_view message, std::string_view details);

// The fixed JSON body for a transport-level status (400, 413, 431, 502, 504, ...).
std::string transport_error_body(int status);

} // namespace jwtgate::proxy
