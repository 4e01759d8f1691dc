// The control-plane HTTP server: accept loop and one coroutine per connection.
#include "proxy/small_server.hpp"

#include "proxy/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>

namespace jwtgate::proxy {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::chrono::seconds io_timeout{10};

} // namespace

small_response json_response(const small_request& req, unsigned status, std::string body) {
    small_response res{static_cast<http::status>(status), req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    return res;
}

struct small_http_server::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& ioc, small_handler h, std::size_t body_cap)
        : acceptor(ioc), handler(std::make_shared<const small_handler>(std::move(h))),
          max_body(body_cap) {}

    net::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        while (acceptor.is_open()) {
            auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
            if (ec == net::error::operation_aborted || !acceptor.is_open()) {
                break;
            }
            if (ec) {
                continue; // e.g. EMFILE: keep serving the connections already open
            }
            net::co_spawn(acceptor.get_executor(), serve(std::move(socket), handler, max_body),
                          net::detached);
        }
    }

    static net::awaitable<void> serve(tcp::socket socket, std::shared_ptr<const small_handler> h,
                                      std::size_t max_body) {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(16 * 1024);
            parser.body_limit(max_body);
            stream.expires_after(io_timeout);
            auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
            (void)rn;
            if (rec) {
                break; // end of stream, timeout or a malformed request: close
            }
            const auto& req = parser.get();
            auto res = (*h)(req);
            res.set(http::field::server, "jwtgate");
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            if (req.method() == http::verb::head) {
                res.body().clear();
            }
            stream.expires_after(io_timeout);
            auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
            (void)wn;
            if (wec || !res.keep_alive()) {
                break;
            }
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    tcp::acceptor acceptor;
    std::shared_ptr<const small_handler> handler;
    std::size_t max_body;
};

small_http_server::small_http_server(net::io_context& ioc, small_handler handler,
                                     std::size_t max_body)
    : impl_(std::make_shared<impl>(ioc, std::move(handler), max_body)) {}

small_http_server::~small_http_server() {
    stop();
}

boost::system::error_code small_http_server::start(const std::string& address,
                                                   unsigned short port) {
    boost::system::error_code ec;
    auto& a = impl_->acceptor;
    auto addr = bind_address(a.get_executor(), address, ec);
    if (ec) {
        return ec;
    }
    tcp::endpoint ep(addr, port);
    a.open(ep.protocol(), ec);
    if (!ec) {
        a.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        a.bind(ep, ec);
    }
    if (!ec) {
        a.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        boost::system::error_code ignored;
        a.close(ignored);
        return ec;
    }
    net::co_spawn(a.get_executor(), impl_->accept_loop(), net::detached);
    return {};
}

unsigned short small_http_server::port() const {
    boost::system::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void small_http_server::stop() {
    auto i = impl_;
    net::post(i->acceptor.get_executor(), [i] {
        boost::system::error_code ignored;
        i->acceptor.close(ignored);
    });
}

} // namespace jwtgate::proxy
