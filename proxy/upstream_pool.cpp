// Upstream connection pool: connect (plain or verified TLS), liveness checks, idle expiry.
#include "proxy/upstream_pool.hpp"

#include "core/key_source.hpp"
#include "proxy/log.hpp"
#include "proxy/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <sys/socket.h>

namespace jwtgate::proxy {

namespace {
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
using tcp = net::ip::tcp;

constexpr auto fresh_enough = std::chrono::milliseconds(100);

// A CA bundle larger than this is refused (a system bundle is about 200 KiB).
constexpr std::size_t max_ca_bytes = 16 * 1024 * 1024;

connect_failure classify(const beast::error_code& ec) {
    return ec == beast::error::timeout ? connect_failure::timeout : connect_failure::refused;
}

std::string authority_of(const core::upstream_config& u) {
    const bool v6 = u.host.find(':') != std::string::npos;
    std::string out = v6 ? "[" + u.host + "]" : u.host;
    if (u.port != (u.https ? 443 : 80)) {
        out += ':';
        out += std::to_string(u.port);
    }
    return out;
}

bool same_settings(const core::upstream_config& a, const core::upstream_config& b) {
    return a.url == b.url && a.connect_timeout == b.connect_timeout && a.timeout == b.timeout &&
           a.idle_timeout == b.idle_timeout && a.max_idle_connections == b.max_idle_connections &&
           a.ca_file == b.ca_file;
}

std::optional<std::string> read_ca(const core::upstream_config& cfg, std::string& error) {
    if (!cfg.https || cfg.ca_file.empty()) {
        return std::string();
    }
    return core::read_file(cfg.ca_file, max_ca_bytes, error);
}
} // namespace

std::shared_ptr<const upstream_target> make_upstream_target(const core::upstream_config& cfg,
                                                            std::string& error) {
    auto t = std::make_shared<upstream_target>();
    t->cfg = cfg;
    t->authority = authority_of(cfg);
    beast::error_code ec;
    auto addr = net::ip::make_address(cfg.host, ec);
    if (!ec) {
        t->literal = addr;
    }
    if (cfg.https) {
        auto pem = read_ca(cfg, error);
        if (!pem) {
            error = "upstream.ca_file " + cfg.ca_file + ": " + error;
            return nullptr;
        }
        t->ca_pem = std::move(*pem);
        auto ctx = make_client_tls(cfg.ca_file, error);
        if (!ctx) {
            return nullptr;
        }
        t->tls = std::move(ctx);
    }
    return t;
}

bool same_upstream(const upstream_target& t, const core::upstream_config& cfg) {
    if (!same_settings(t.cfg, cfg)) {
        return false;
    }
    std::string error;
    auto pem = read_ca(cfg, error);
    return pem && *pem == t.ca_pem;
}

upstream_pool::upstream_pool(net::any_io_executor ex, std::shared_ptr<const upstream_target> target,
                             std::size_t max_idle)
    : ex_(std::move(ex)), target_(std::move(target)), max_idle_(max_idle) {
    idle_.reserve(std::min<std::size_t>(max_idle_, 64));
}

void upstream_pool::retarget(std::shared_ptr<const upstream_target> target, std::size_t max_idle) {
    max_idle_ = max_idle;
    if (target != target_) {
        target_ = std::move(target);
        std::erase_if(idle_, [this](const std::unique_ptr<upstream_connection>& c) {
            return c->target != target_;
        });
    }
    while (idle_.size() > max_idle_) {
        idle_.erase(idle_.begin()); // the coldest first
    }
    idle_count_.store(idle_.size(), std::memory_order_relaxed);
}

bool socket_looks_alive(net::ip::tcp::socket& s) noexcept {
    char c = 0;
    const auto n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) {
        return false; // orderly shutdown by the upstream
    }
    if (n > 0) {
        return false; // bytes nobody asked for: the stream is out of sync
    }
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

std::unique_ptr<upstream_connection> upstream_pool::take(const upstream_target& target) {
    if (&target != target_.get()) {
        return nullptr; // a request of an older configuration: its own fresh connection
    }
    const auto now = std::chrono::steady_clock::now();
    while (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        const auto idle_for = now - c->idle_since;
        // A connection idle for a moment is not worth a syscall: an upstream closing it in
        // that window is covered by the retry rule (forward.cpp).
        if (idle_for < target.cfg.idle_timeout &&
            (idle_for < fresh_enough || socket_looks_alive(c->stream.socket()))) {
            c->reused = true;
            idle_count_.store(idle_.size(), std::memory_order_relaxed);
            return c;
        }
        beast::error_code ignored;
        c->stream.socket().close(ignored);
    }
    idle_count_.store(idle_.size(), std::memory_order_relaxed);
    return nullptr;
}

void upstream_pool::give_back(std::unique_ptr<upstream_connection> c) {
    if (stopped_ || idle_.size() >= max_idle_ || c->buffer.size() != 0 || c->target != target_) {
        return; // destroying it closes the socket
    }
    if (c->buffer.capacity() > 16 * 1024) {
        c->buffer.shrink_to_fit(); // an idle connection keeps no relay-sized buffer
    }
    c->idle_since = std::chrono::steady_clock::now();
    c->stream.tcp().expires_never();
    idle_.push_back(std::move(c));
    idle_count_.store(idle_.size(), std::memory_order_relaxed);
}

net::awaitable<connect_result>
upstream_pool::connect(std::shared_ptr<const upstream_target> target) {
    const auto& ucfg = target->cfg;
    connect_result out;
    beast::tcp_stream tcp_s(ex_);
    tcp_s.expires_after(ucfg.connect_timeout);
    if (target->literal) {
        auto [ec] =
            co_await tcp_s.async_connect(tcp::endpoint(*target->literal, ucfg.port), use_nothrow);
        if (ec) {
            out.failure = classify(ec);
            out.ec = ec;
            co_return out;
        }
    } else {
        tcp::resolver resolver(ex_);
        auto [rec, results] =
            co_await resolver.async_resolve(ucfg.host, std::to_string(ucfg.port), use_nothrow);
        if (rec) {
            out.failure = connect_failure::resolve;
            out.ec = rec;
            co_return out;
        }
        auto [ec, ep] = co_await tcp_s.async_connect(results, use_nothrow);
        if (ec) {
            out.failure = classify(ec);
            out.ec = ec;
            co_return out;
        }
    }
    beast::error_code ignored;
    tcp_s.socket().set_option(tcp::no_delay(true), ignored);

    if (!ucfg.https) {
        out.conn =
            std::make_unique<upstream_connection>(byte_stream(std::move(tcp_s)), std::move(target));
        co_return out;
    }
    auto conn =
        std::make_unique<upstream_connection>(byte_stream(std::move(tcp_s), *target->tls), target);
    auto& tls = *conn->stream.tls();
    tls.set_verify_mode(net::ssl::verify_peer);
    tls.set_verify_callback(net::ssl::host_name_verification(ucfg.host));
    if (!target->literal) {
        // SNI only for names (RFC 6066 3: literal IP addresses are not permitted).
        SSL_set_tlsext_host_name(tls.native_handle(), ucfg.host.c_str());
    }
    conn->stream.tcp().expires_after(ucfg.connect_timeout);
    auto [hec] = co_await tls.async_handshake(net::ssl::stream_base::client, use_nothrow);
    if (hec) {
        out.failure =
            hec == beast::error::timeout ? connect_failure::timeout : connect_failure::tls;
        out.ec = hec;
        co_return out;
    }
    out.conn = std::move(conn);
    co_return out;
}

void upstream_pool::start() {
    net::co_spawn(ex_, sweep(), net::detached);
}

net::awaitable<void> upstream_pool::sweep() {
    net::steady_timer timer(ex_);
    sweep_timer_ = &timer;
    while (!stopped_) {
        // The current target's idle_timeout, which a reload may change.
        timer.expires_after(std::max<std::chrono::steady_clock::duration>(
            std::chrono::seconds(1), target_->cfg.idle_timeout / 2));
        co_await timer.async_wait(use_nothrow);
        if (stopped_) {
            break;
        }
        drop_expired(std::chrono::steady_clock::now());
    }
    sweep_timer_ = nullptr;
}

void upstream_pool::drop_expired(std::chrono::steady_clock::time_point now) {
    std::erase_if(idle_, [&](const std::unique_ptr<upstream_connection>& c) {
        return now - c->idle_since >= c->target->cfg.idle_timeout ||
               !socket_looks_alive(c->stream.socket());
    });
    idle_count_.store(idle_.size(), std::memory_order_relaxed);
}

void upstream_pool::shutdown() {
    stopped_ = true;
    if (sweep_timer_ != nullptr) {
        sweep_timer_->cancel();
    }
    idle_.clear();
    idle_count_.store(0, std::memory_order_relaxed);
}

} // namespace jwtgate::proxy
