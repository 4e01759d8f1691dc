// Keep-alive connections to the upstream origin, one pool per worker io_context.
#pragma once

#include "core/config.hpp"
#include "proxy/byte_stream.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace jwtgate::proxy {

// One connection to the upstream with its read buffer.
struct upstream_connection {
    explicit upstream_connection(byte_stream s) : stream(std::move(s)) {}
    byte_stream stream;
    beast::flat_buffer buffer;
    std::chrono::steady_clock::time_point idle_since{};
    bool reused = false; // taken from the pool (it may have been closed by the peer)
};

enum class connect_failure {
    none,
    resolve, // host name did not resolve (502)
    refused, // connection refused / unreachable / reset (502)
    timeout, // no connection within connect_timeout (504)
    tls,     // TLS handshake or certificate verification failed (502)
};

struct connect_result {
    std::unique_ptr<upstream_connection> conn;
    connect_failure failure = connect_failure::none;
    beast::error_code ec;
};

// Not thread-safe: used only from its worker's thread. Idle connections are kept LIFO
// (the warmest first), at most `max_idle`, each for at most upstream.idle_timeout.
class upstream_pool {
  public:
    upstream_pool(net::any_io_executor ex, const core::upstream_config& cfg, net::ssl::context* tls,
                  std::size_t max_idle);
    upstream_pool(const upstream_pool&) = delete;
    upstream_pool& operator=(const upstream_pool&) = delete;

    // A pooled connection that still looks alive (not closed by the upstream, not expired,
    // no unexpected bytes pending), or nullptr.
    std::unique_ptr<upstream_connection> take();

    // Returns a connection whose last exchange ended cleanly; dropped when the pool is full.
    void give_back(std::unique_ptr<upstream_connection> c);

    // Opens a new connection (resolve, TCP connect, TLS handshake with verification).
    net::awaitable<connect_result> connect();

    // Starts the background expiry of idle connections.
    void start();

    // Closes every idle connection and stops the expiry timer; releases every I/O object
    // so the io_context can be destroyed afterwards.
    void shutdown();

    // Idle connections; readable from any thread (for /metrics).
    std::size_t idle() const noexcept { return idle_count_.load(std::memory_order_relaxed); }

  private:
    net::awaitable<void> sweep();
    void drop_expired(std::chrono::steady_clock::time_point now);

    net::any_io_executor ex_;
    const core::upstream_config& cfg_;
    net::ssl::context* tls_;
    std::size_t max_idle_;
    std::optional<net::ip::address> literal_; // the upstream host when it is an IP literal
    std::vector<std::unique_ptr<upstream_connection>> idle_;
    std::atomic<std::size_t> idle_count_{0};
    net::steady_timer* sweep_timer_ = nullptr;
    bool stopped_ = false;
};

// True when a kept-alive socket is still usable: no EOF and no unsolicited bytes.
bool socket_looks_alive(net::ip::tcp::socket& s) noexcept;

} // namespace jwtgate::proxy
