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
#include <string>
#include <vector>

namespace jwtgate::proxy {

// The upstream of one configuration: its settings and the TLS context its connections use.
// Shared by the configuration's generation and every connection made to it, so the TLS
// context outlives each of them.
struct upstream_target {
    core::upstream_config cfg;
    std::shared_ptr<net::ssl::context> tls; // https only
    std::string authority;                  // host[:port] (Host of an HTTP/1.0 request without one)
    std::optional<net::ip::address> literal; // the host when it is an IP literal
    std::string ca_pem;                      // ca_file's content when built (reload compares it)
};

// Builds the target of `cfg` (the TLS context for https); nullptr with `error` set when
// the trust store cannot be loaded.
std::shared_ptr<const upstream_target> make_upstream_target(const core::upstream_config& cfg,
                                                            std::string& error);

// True when `t` was built from settings and a CA file equal to `cfg`'s now: a reload may
// keep it (and the pooled connections made to it).
bool same_upstream(const upstream_target& t, const core::upstream_config& cfg);

// One connection to the upstream with its read buffer.
struct upstream_connection {
    upstream_connection(byte_stream s, std::shared_ptr<const upstream_target> t)
        : stream(std::move(s)), target(std::move(t)) {}
    byte_stream stream;
    std::shared_ptr<const upstream_target> target; // declared after: the stream goes first
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
// (the warmest first), at most `max_idle`, each for at most upstream.idle_timeout. Only
// connections to the current target are pooled: a reload that changes the upstream
// retargets the pool, and connections to the old one close when their exchange ends.
class upstream_pool {
  public:
    upstream_pool(net::any_io_executor ex, std::shared_ptr<const upstream_target> target,
                  std::size_t max_idle);
    upstream_pool(const upstream_pool&) = delete;
    upstream_pool& operator=(const upstream_pool&) = delete;

    // Makes `target` current with room for `max_idle` idle connections; idle connections
    // to another target are closed.
    void retarget(std::shared_ptr<const upstream_target> target, std::size_t max_idle);

    // A pooled connection to `target` that still looks alive (not closed by the upstream,
    // not expired, no unexpected bytes pending), or nullptr.
    std::unique_ptr<upstream_connection> take(const upstream_target& target);

    // Returns a connection whose last exchange ended cleanly; dropped when the pool is
    // full or the connection's target is no longer current.
    void give_back(std::unique_ptr<upstream_connection> c);

    // Opens a new connection to `target` (resolve, TCP connect, TLS handshake with
    // verification).
    net::awaitable<connect_result> connect(std::shared_ptr<const upstream_target> target);

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
    std::shared_ptr<const upstream_target> target_;
    std::size_t max_idle_;
    std::vector<std::unique_ptr<upstream_connection>> idle_;
    std::atomic<std::size_t> idle_count_{0};
    net::steady_timer* sweep_timer_ = nullptr;
    bool stopped_ = false;
};

// True when a kept-alive socket is still usable: no EOF and no unsolicited bytes.
bool socket_looks_alive(net::ip::tcp::socket& s) noexcept;

} // namespace jwtgate::proxy
