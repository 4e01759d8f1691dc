// A plain or TLS TCP stream behind one type, so the HTTP code is compiled once for both.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <utility>
#include <variant>

namespace jwtgate::proxy {

namespace net = boost::asio;
namespace beast = boost::beast;

// An AsyncReadStream / AsyncWriteStream over either a beast::tcp_stream or a TLS stream
// on top of one. Timeouts are set on tcp() (tcp_stream::expires_after) and apply to the
// TLS layer's reads and writes as well.
class byte_stream {
  public:
    using executor_type = net::any_io_executor;
    using tls_stream = beast::ssl_stream<beast::tcp_stream>;

    explicit byte_stream(beast::tcp_stream plain) : s_(std::in_place_index<0>, std::move(plain)) {}
    byte_stream(beast::tcp_stream plain, net::ssl::context& ctx)
        : s_(std::in_place_index<1>, std::move(plain), ctx) {}

    executor_type get_executor() noexcept { return tcp().get_executor(); }

    beast::tcp_stream& tcp() noexcept {
        if (auto* p = std::get_if<0>(&s_)) {
            return *p;
        }
        return beast::get_lowest_layer(std::get<1>(s_));
    }

    net::ip::tcp::socket& socket() noexcept { return tcp().socket(); }

    // nullptr for a plain stream.
    tls_stream* tls() noexcept { return std::get_if<1>(&s_); }
    bool is_tls() const noexcept { return s_.index() == 1; }

    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
        return net::async_initiate<ReadToken, void(beast::error_code, std::size_t)>(
            [this](auto handler, const MutableBufferSequence& b) {
                if (auto* p = std::get_if<0>(&s_)) {
                    p->async_read_some(b, std::move(handler));
                } else {
                    std::get<1>(s_).async_read_some(b, std::move(handler));
                }
            },
            token, buffers);
    }

    template <class ConstBufferSequence, class WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
        return net::async_initiate<WriteToken, void(beast::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& b) {
                if (auto* p = std::get_if<0>(&s_)) {
                    p->async_write_some(b, std::move(handler));
                } else {
                    std::get<1>(s_).async_write_some(b, std::move(handler));
                }
            },
            token, buffers);
    }

  private:
    std::variant<beast::tcp_stream, tls_stream> s_;
};

} // namespace jwtgate::proxy
