// Body streaming through a fixed buffer, and the bidirectional byte tunnel.
#include "proxy/relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <vector>

namespace jwtgate::proxy {

namespace {
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
}

template <bool is_request>
net::awaitable<relay_result>
relay_body(http::parser<is_request, http::buffer_body>& p, relay_side from,
           http::serializer<is_request, http::buffer_body>& sr,
           http::message<is_request, http::buffer_body>& out, relay_side to,
           std::span<char> scratch, std::uint64_t limit) {
    relay_result r;
    // Beast reads at most the buffer's free capacity (never less than 512 bytes): without
    // room, a body would move in header-sized reads.
    if (from.buffer->capacity() < scratch.size()) {
        from.buffer->reserve(scratch.size());
    }
    do {
        if (!p.is_done()) {
            p.get().body().data = scratch.data();
            p.get().body().size = scratch.size();
            from.stream.tcp().expires_after(from.timeout);
            auto [ec, n] =
                co_await http::async_read_some(from.stream, *from.buffer, p, use_nothrow);
            if (ec == http::error::need_buffer) {
                ec = {};
            }
            if (ec) {
                r.read_ec = ec;
                co_return r;
            }
            const auto got = scratch.size() - p.get().body().size;
            r.bytes += got;
            if (limit != 0 && r.bytes > limit) {
                r.limit_exceeded = true;
                co_return r;
            }
            if (got == 0 && !p.is_done()) {
                continue; // only framing (a chunk header) was parsed
            }
            out.body().data = got != 0 ? scratch.data() : nullptr;
            out.body().size = got;
            out.body().more = !p.is_done();
        } else {
            out.body().data = nullptr;
            out.body().size = 0;
            out.body().more = false;
        }
        to.stream.tcp().expires_after(to.timeout);
        auto [wec, wn] = co_await http::async_write(to.stream, sr, use_nothrow);
        if (wec == http::error::need_buffer) {
            wec = {};
        }
        if (wec) {
            r.write_ec = wec;
            co_return r;
        }
        r.wrote_any = r.wrote_any || wn != 0;
    } while (!p.is_done() || !sr.is_done());
    co_return r;
}

template net::awaitable<relay_result> relay_body<true>(http::parser<true, http::buffer_body>&,
                                                       relay_side,
                                                       http::serializer<true, http::buffer_body>&,
                                                       http::message<true, http::buffer_body>&,
                                                       relay_side, std::span<char>, std::uint64_t);
template net::awaitable<relay_result> relay_body<false>(http::parser<false, http::buffer_body>&,
                                                        relay_side,
                                                        http::serializer<false, http::buffer_body>&,
                                                        http::message<false, http::buffer_body>&,
                                                        relay_side, std::span<char>, std::uint64_t);

namespace {

struct tunnel_state {
    byte_stream& a;
    byte_stream& b;
    std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
    net::steady_timer* watchdog = nullptr;
    bool closed = false;

    void close() {
        if (closed) {
            return;
        }
        closed = true;
        beast::error_code ignored;
        a.socket().close(ignored);
        b.socket().close(ignored);
        if (watchdog != nullptr) {
            watchdog->cancel();
        }
    }
};

net::awaitable<std::uint64_t> pump(byte_stream& from, beast::flat_buffer& pending, byte_stream& to,
                                   tunnel_state& st) {
    std::uint64_t moved = 0;
    if (pending.size() != 0) {
        auto [ec, n] = co_await net::async_write(to, pending.data(), use_nothrow);
        pending.consume(pending.size());
        if (ec) {
            st.close();
            co_return moved;
        }
        moved += n;
    }
    std::vector<char> buf(16 * 1024);
    for (;;) {
        auto [ec, n] = co_await from.async_read_some(net::buffer(buf), use_nothrow);
        if (ec) {
            break;
        }
        st.last_activity = std::chrono::steady_clock::now();
        auto [wec, wn] = co_await net::async_write(to, net::buffer(buf.data(), n), use_nothrow);
        if (wec) {
            break;
        }
        moved += wn;
        st.last_activity = std::chrono::steady_clock::now();
    }
    st.close();
    co_return moved;
}

// Returns 0: a value type keeps the && combination simple (Asio 1.81's tuple && void overload
// does not compile).
net::awaitable<std::uint64_t> watch(tunnel_state& st, std::chrono::milliseconds idle_timeout) {
    net::steady_timer timer(co_await net::this_coro::executor);
    st.watchdog = &timer;
    const auto period = std::max<std::chrono::milliseconds>(
        std::chrono::milliseconds(100),
        std::min<std::chrono::milliseconds>(idle_timeout / 4, std::chrono::seconds(5)));
    while (!st.closed) {
        timer.expires_after(period);
        co_await timer.async_wait(use_nothrow);
        if (!st.closed && std::chrono::steady_clock::now() - st.last_activity >= idle_timeout) {
            st.close();
        }
    }
    st.watchdog = nullptr;
    co_return 0;
}

} // namespace

net::awaitable<std::pair<std::uint64_t, std::uint64_t>>
tunnel(byte_stream& a, beast::flat_buffer& a_buffer, byte_stream& b, beast::flat_buffer& b_buffer,
       std::chrono::milliseconds idle_timeout) {
    using namespace net::experimental::awaitable_operators;
    a.tcp().expires_never();
    b.tcp().expires_never();
    tunnel_state st{a, b};
    auto [ab, ba, unused] =
        co_await (pump(a, a_buffer, b, st) && pump(b, b_buffer, a, st) && watch(st, idle_timeout));
    (void)unused;
    co_return std::pair{ab, ba};
}

} // namespace jwtgate::proxy
