// One client connection: reads request heads, asks core::authorizer, answers or forwards.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace jwtgate::proxy {

struct worker;

// Serves the connection `socket` (accepted for `w`) until it closes. With `tls` set, the
// TLS handshake runs first, within limits.header_timeout; the connection keeps that
// context to its end. Runs on w's thread only.
boost::asio::awaitable<void> run_session(worker& w, boost::asio::ip::tcp::socket socket,
                                         std::shared_ptr<boost::asio::ssl::context> tls);

} // namespace jwtgate::proxy
