// Streaming of message bodies through a bounded buffer, and the byte tunnel after a
// protocol switch (Beast "relay" pattern: parser<buffer_body> -> serializer<buffer_body>).
#pragma once

#include "proxy/byte_stream.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>

#include <chrono>
#include <cstdint>
#include <span>

namespace jwtgate::proxy {

namespace http = beast::http;

// One side of a relay: a stream, its read buffer (unused for the writing side) and the
// timeout applied before each operation on it.
struct relay_side {
    byte_stream& stream;
    beast::flat_buffer* buffer; // the reading side's buffer
    std::chrono::milliseconds timeout;
};

struct relay_result {
    beast::error_code read_ec;  // failure reading or parsing the source
    beast::error_code write_ec; // failure writing the destination
    std::uint64_t bytes = 0;    // body bytes moved
    bool limit_exceeded = false;
    bool wrote_any = false; // at least one write reached the destination

    bool ok() const noexcept { return !read_ec && !write_ec && !limit_exceeded; }
};

// Moves the body of the message being parsed by `p` (its head already read) into the
// message `out` being serialized by `sr` (its head possibly already written), through
// `scratch`, until the source message is complete. Stops with limit_exceeded, before
// writing, when more than `limit` bytes arrive (0 = unlimited). Bytes are written as soon
// as they are parsed, so streamed responses are not delayed.
template <bool is_request>
net::awaitable<relay_result>
relay_body(http::parser<is_request, http::buffer_body>& p, relay_side from,
           http::serializer<is_request, http::buffer_body>& sr,
           http::message<is_request, http::buffer_body>& out, relay_side to,
           std::span<char> scratch, std::uint64_t limit);

// Copies bytes both ways between `a` and `b` until either side closes or nothing moves for
// `idle_timeout`; bytes already in the read buffers are sent first. Returns bytes a->b and
// b->a.
net::awaitable<std::pair<std::uint64_t, std::uint64_t>>
tunnel(byte_stream& a, beast::flat_buffer& a_buffer, byte_stream& b, beast::flat_buffer& b_buffer,
       std::chrono::milliseconds idle_timeout);

} // namespace jwtgate::proxy
