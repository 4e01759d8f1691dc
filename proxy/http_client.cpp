// Asynchronous GET over HTTP or HTTPS with one deadline for the whole exchange.
#include "proxy/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>

#include <stdexcept>

namespace jwtgate::proxy {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct target {
    bool https = false;
    std::string host; // without brackets
    std::string port;
    std::string host_header;
    std::string path; // path + query, at least "/"
};

bool parse_target(const std::string& url, target& t, std::string& error) {
    auto u = boost::urls::parse_absolute_uri(url);
    if (!u) {
        error = "invalid URL";
        return false;
    }
    if (u->scheme() == "https") {
        t.https = true;
    } else if (u->scheme() != "http") {
        error = "unsupported URL scheme";
        return false;
    }
    if (!u->has_authority() || u->host().empty()) {
        error = "URL without host";
        return false;
    }
    t.host = u->host_type() == boost::urls::host_type::ipv6
                 ? std::string(u->host_ipv6_address().to_string())
                 : std::string(u->encoded_host());
    t.port = u->has_port() ? std::string(u->port()) : (t.https ? "443" : "80");
    t.host_header = std::string(u->encoded_host_and_port());
    t.path = std::string(u->encoded_path());
    if (t.path.empty()) {
        t.path = "/";
    }
    if (u->has_query()) {
        t.path += '?';
        t.path += std::string(u->encoded_query());
    }
    return true;
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

template <class Stream>
net::awaitable<http_get_result> exchange(Stream& stream, const target& t, std::size_t max_body) {
    http_get_result out;
    http::request<http::empty_body> req{http::verb::get, t.path, 11};
    req.set(http::field::host, t.host_header);
    req.set(http::field::user_agent, "jwtgate");
    req.set(http::field::accept, "application/json");
    req.set(http::field::connection, "close");
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    (void)wn;
    if (wec) {
        out.error = "write: " + wec.message();
        co_return out;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(max_body);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)rn;
    if (rec) {
        out.error = rec == http::error::body_limit ? "response larger than the size cap"
                                                   : "read: " + rec.message();
        co_return out;
    }
    auto& res = parser.get();
    out.status = res.result_int();
    if (auto it = res.find(http::field::cache_control); it != res.end()) {
        out.cache_control = std::string(it->value());
    }
    if (out.status < 200 || out.status > 299) {
        out.error = "HTTP status " + std::to_string(out.status);
        co_return out;
    }
    out.body = std::move(res.body());
    out.ok = true;
    co_return out;
}

} // namespace

std::shared_ptr<ssl::context> make_client_tls_context(const std::string& ca_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
    } else {
        ctx->load_verify_file(ca_file, ec);
    }
    if (ec) {
        throw std::runtime_error("cannot load CA certificates" +
                                 (ca_file.empty() ? std::string() : " from " + ca_file) + ": " +
                                 ec.message());
    }
    return ctx;
}

net::awaitable<http_get_result> http_get(std::string url, std::shared_ptr<ssl::context> tls,
                                         std::chrono::milliseconds timeout, std::size_t max_body) {
    http_get_result out;
    target t;
    if (!parse_target(url, t, out.error)) {
        co_return out;
    }
    if (t.https && !tls) {
        out.error = "no TLS context for an https URL";
        co_return out;
    }
    auto ex = co_await net::this_coro::executor;
    const auto deadline = std::chrono::steady_clock::now() + timeout;

    // The resolver has no deadline of its own: a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(ex);
    auto watchdog = std::make_shared<net::steady_timer>(ex, deadline);
    watchdog->async_wait([resolver](boost::system::error_code ec) {
        if (!ec) {
            resolver->cancel();
        }
    });
    auto [rec, endpoints] = co_await resolver->async_resolve(t.host, t.port, use_tuple);
    watchdog->cancel();
    if (rec) {
        out.error = "resolve: " + (rec == net::error::operation_aborted ? std::string("timed out")
                                                                        : rec.message());
        co_return out;
    }

    beast::tcp_stream plain(ex);
    plain.expires_at(deadline);
    auto [cec, ep] = co_await plain.async_connect(endpoints, use_tuple);
    (void)ep;
    if (cec) {
        out.error = "connect: " + cec.message();
        co_return out;
    }
    if (!t.https) {
        plain.expires_at(deadline);
        out = co_await exchange(plain, t, max_body);
        boost::system::error_code ignored;
        plain.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return out;
    }

    beast::ssl_stream<beast::tcp_stream> stream(std::move(plain), *tls);
    if (!is_ip_literal(t.host) &&
        !SSL_set_tlsext_host_name(stream.native_handle(), const_cast<char*>(t.host.c_str()))) {
        out.error = "TLS: cannot set SNI";
        co_return out;
    }
    stream.set_verify_callback(ssl::host_name_verification(t.host));
    beast::get_lowest_layer(stream).expires_at(deadline);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
        out.error = "TLS handshake: " + hec.message();
        co_return out;
    }
    beast::get_lowest_layer(stream).expires_at(deadline);
    out = co_await exchange(stream, t, max_body);
    // No TLS close_notify wait: the response is complete; just close the socket.
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);
    co_return out;
}

} // namespace jwtgate::proxy
