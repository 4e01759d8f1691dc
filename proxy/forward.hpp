// Forwarding one authorised request: upstream connection, head, body, response relay.
#pragma once

#include "proxy/byte_stream.hpp"
#include "proxy/framing.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <string_view>

namespace jwtgate::proxy {

struct generation;
struct worker;

// The client side of the exchange, as the session holds it.
struct client_link {
    byte_stream& stream;
    beast::flat_buffer& buffer;
    std::string_view ip;
    bool tls = false;
    bool http10 = false;
    bool keep_alive = false; // what the client asked for (and jwtgate is not draining)
};

struct forward_result {
    int status = 0;              // what the client got (499: the client went away first)
    std::uint64_t bytes_in = 0;  // request body bytes read from the client
    std::uint64_t bytes_out = 0; // response body bytes written to the client
    double upstream_ms = -1;     // until the upstream response head (-1: none)
    bool keep_alive = false;     // the client connection may serve another request
    bool unread_body = false;    // the client's body was not (fully) read: linger on close
};

// Sends the request whose head `head` holds to the upstream of `g` (the generation the
// request started with) and relays the response. Writes jwtgate's own 400/413/502/504
// when the exchange fails before a response started.
net::awaitable<forward_result>
forward_request(worker& w, const generation& g, client_link client,
                beast::http::request_parser<beast::http::empty_body>& head,
                const request_framing& framing, const core::decision& d,
                std::string_view request_id);

} // namespace jwtgate::proxy
