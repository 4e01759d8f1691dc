// Accepting connections and spreading them over the workers.
#include "proxy/listener.hpp"

#include "proxy/log.hpp"
#include "proxy/session.hpp"
#include "proxy/worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace jwtgate::proxy {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
}

listener::listener(net::io_context& ctx) : ctx_(ctx), acceptor_(ctx) {}

bool listener::open(const std::string& address, std::uint16_t port, std::string& error) {
    boost::system::error_code ec;
    const auto addr = net::ip::make_address(address, ec);
    if (ec) {
        error = "cannot listen on " + address + ":" + std::to_string(port) + ": not an IP address";
        return false;
    }
    const tcp::endpoint ep(addr, port);
    auto fail = [&](const char* step) {
        error = std::string("cannot listen on ") + (addr.is_v6() ? "[" + address + "]" : address) +
                ":" + std::to_string(port) + ": " + step + ": " + ec.message();
        acceptor_.close(ec);
        return false;
    };
    acceptor_.open(ep.protocol(), ec);
    if (ec) {
        return fail("socket");
    }
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    acceptor_.bind(ep, ec);
    if (ec) {
        return fail("bind");
    }
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        return fail("listen");
    }
    return true;
}

tcp::endpoint listener::local_endpoint() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec);
}

void listener::start(std::vector<std::unique_ptr<worker>>& workers, net::ssl::context* tls) {
    net::co_spawn(ctx_, accept_loop(workers, tls), net::detached);
}

void listener::close() {
    boost::system::error_code ec;
    acceptor_.close(ec);
}

net::awaitable<void> listener::accept_loop(std::vector<std::unique_ptr<worker>>& workers,
                                           net::ssl::context* tls) {
    std::size_t next = 0;
    net::steady_timer backoff(ctx_);
    while (acceptor_.is_open()) {
        worker& w = *workers[next];
        next = (next + 1) % workers.size();
        tcp::socket sock(*w.ctx);
        auto [ec] = co_await acceptor_.async_accept(sock, use_nothrow);
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
            break;
        }
        if (ec) {
            // Out of descriptors or memory: pause instead of spinning on the error.
            log_failure(core::log_level::error, "accept", ec.message());
            backoff.expires_after(std::chrono::milliseconds(100));
            co_await backoff.async_wait(use_nothrow);
            continue;
        }
        boost::system::error_code ignored;
        sock.set_option(tcp::no_delay(true), ignored);
        net::co_spawn(*w.ctx, run_session(w, std::move(sock), tls), net::detached);
    }
}

} // namespace jwtgate::proxy
