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

net::ip::address bind_address(const net::any_io_executor& ex, const std::string& address,
                              boost::system::error_code& ec) {
    auto addr = net::ip::make_address(address, ec);
    if (!ec) {
        return addr;
    }
    // A host name (the loader checked its syntax): its first address, resolved once now.
    tcp::resolver resolver(ex);
    auto results = resolver.resolve(address, "", tcp::resolver::passive, ec);
    if (ec) {
        return {};
    }
    if (results.empty()) {
        ec = net::error::host_not_found;
        return {};
    }
    return results.begin()->endpoint().address();
}

listener::listener(net::io_context& ctx) : ctx_(ctx), acceptor_(ctx) {}

bool listener::open(const std::string& address, std::uint16_t port, std::string& error) {
    boost::system::error_code ec;
    const auto addr = bind_address(ctx_.get_executor(), address, ec);
    if (ec) {
        error = "cannot listen on " + address + ":" + std::to_string(port) +
                ": cannot resolve the address: " + ec.message();
        return false;
    }
    const tcp::endpoint ep(addr, port);
    auto fail = [&](const char* step) {
        const auto shown = addr.to_string();
        error = std::string("cannot listen on ") + (addr.is_v6() ? "[" + shown + "]" : shown) +
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

void listener::start(std::vector<std::unique_ptr<worker>>& workers, server_state& st) {
    net::co_spawn(ctx_, accept_loop(workers, st), net::detached);
}

void listener::close() {
    boost::system::error_code ec;
    acceptor_.close(ec);
}

net::awaitable<void> listener::accept_loop(std::vector<std::unique_ptr<worker>>& workers,
                                           server_state& st) {
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
        net::co_spawn(*w.ctx, run_session(w, std::move(sock), st.current.load()->server_tls),
                      net::detached);
    }
}

} // namespace jwtgate::proxy
