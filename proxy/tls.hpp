// TLS contexts: the listener's (listen.tls) and the upstream client's (verify peer + name).
#pragma once

#include "core/config.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace jwtgate::proxy {

// A TLS 1.2+ server context with the configured certificate chain and key, or nullptr
// with `error` naming the file and the cause.
std::unique_ptr<boost::asio::ssl::context> make_server_tls(const core::tls_config& tls,
                                                           std::string& error);

// A TLS 1.2+ client context that verifies the peer against `ca_file`, or the system's
// default paths when it is empty; nullptr with `error` on failure. Host name checks and SNI
// are per connection (upstream_pool::connect).
std::unique_ptr<boost::asio::ssl::context> make_client_tls(const std::string& ca_file,
                                                           std::string& error);

} // namespace jwtgate::proxy
