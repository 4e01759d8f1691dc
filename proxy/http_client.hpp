// A small asynchronous HTTP/1.1 GET client for JWKS and discovery documents
// (plain or TLS with chain and host-name verification, SNI, a deadline over the whole
// fetch, a response size cap). Coroutine-based, runs on the caller's executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace jwtgate::proxy {

struct http_get_result {
    bool ok = false;           // a complete 2xx response was read
    unsigned status = 0;       // HTTP status when a response head arrived
    std::string body;          // the body (ok only)
    std::string cache_control; // the Cache-Control header value, if any
    std::string error;         // what failed, for logs ("connect: Connection refused")
};

// Builds a TLS client context that verifies peers against `ca_file`, or the system
// store when `ca_file` is empty. Throws std::runtime_error when the file cannot be read.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const std::string& ca_file);

// GETs `url` (http:// or https://). `tls` is required for https (else an error result).
// Everything (resolve, connect, handshake, write, read) must finish within `timeout`.
// Bodies larger than `max_body` fail. Redirects are not followed (a 3xx is a failure).
boost::asio::awaitable<http_get_result> http_get(std::string url,
                                                 std::shared_ptr<boost::asio::ssl::context> tls,
                                                 std::chrono::milliseconds timeout,
                                                 std::size_t max_body);

} // namespace jwtgate::proxy
