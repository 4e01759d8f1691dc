// Forwarding one authorised request to the upstream and relaying the response.
#include "proxy/forward.hpp"

#include "proxy/forward_headers.hpp"
#include "proxy/log.hpp"
#include "proxy/metrics.hpp"
#include "proxy/relay.hpp"
#include "proxy/responses.hpp"
#include "proxy/worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

namespace jwtgate::proxy {

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t relay_buffer_bytes = 64 * 1024;
constexpr std::uint32_t upstream_header_limit = 64 * 1024;
// How long an Expect: 100-continue request waits for the upstream's 100 before its body is
// sent anyway (curl waits as long for a server's 100).
constexpr std::chrono::milliseconds continue_wait{1000};

using clock = std::chrono::steady_clock;
using response_parser = http::response_parser<http::buffer_body>;

bool is_http_error(const beast::error_code& ec) noexcept {
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// Methods a client may safely see repeated (RFC 9110 9.2.2).
bool idempotent(http::verb v) noexcept {
    switch (v) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
    case http::verb::put:
    case http::verb::delete_: return true;
    default: return false;
    }
}

enum class step { ok, retry, done };

class forwarder {
  public:
    forwarder(worker& w, const generation& g, client_link c,
              http::request_parser<http::empty_body>& head, const request_framing& fr,
              const core::decision& d, std::string_view rid)
        : w_(w), st_(w.state), g_(g), cfg_(*g.cfg), c_(c), head_(head), fr_(fr), d_(d), rid_(rid) {
        res_.keep_alive = c.keep_alive;
    }

    net::awaitable<forward_result> run();

  private:
    void build_upstream_head();
    net::awaitable<bool> acquire();
    net::awaitable<step> exchange(bool last_attempt);
    net::awaitable<beast::error_code> read_response_head(std::optional<response_parser>& rp,
                                                         bool want_continue);
    net::awaitable<bool> upstream_speaks_within(std::chrono::milliseconds wait);
    net::awaitable<void> relay_response(response_parser& rp);
    net::awaitable<void> relay_informational(const http::response_header<>& in);
    net::awaitable<void> answer(int status, std::string_view why);
    void note_upstream_failure(std::string_view what, const beast::error_code& ec,
                               std::string_view kind);
    std::span<char> scratch(std::optional<std::uint64_t> body_length);

    worker& w_;
    server_state& st_;
    const generation& g_; // held by the session for the whole request
    const core::config& cfg_;
    client_link c_;
    http::request_parser<http::empty_body>& head_;
    const request_framing& fr_;
    const core::decision& d_;
    std::string_view rid_;

    http::request<http::buffer_body> up_;
    std::unique_ptr<upstream_connection> conn_;
    std::unique_ptr<char[]> scratch_;
    std::size_t scratch_size_ = 0;
    std::optional<http::request_parser<http::buffer_body>> body_parser_;
    bool request_complete_ = false; // the whole request (head and body) reached the upstream
    bool body_touched_ = false;     // client body bytes were consumed: no retry possible
    clock::time_point up_start_{};
    forward_result res_;
};

// The relay buffer: 64 KiB, or less for a small body of known length. Not zero-filled
// (it is only ever read after being written).
std::span<char> forwarder::scratch(std::optional<std::uint64_t> body_length) {
    std::size_t want = relay_buffer_bytes;
    if (body_length) {
        want = static_cast<std::size_t>(std::clamp<std::uint64_t>(*body_length, 4096, want));
    }
    if (scratch_size_ < want) {
        scratch_.reset(new char[want]);
        scratch_size_ = want;
    }
    return {scratch_.get(), scratch_size_};
}

// The jwtgate_upstream_errors_total kind of a failed read or write.
std::string_view failure_kind(const beast::error_code& ec) noexcept {
    if (ec == beast::error::timeout) {
        return "timeout";
    }
    return is_http_error(ec) && ec != http::error::end_of_stream &&
                   ec != http::error::partial_message
               ? "protocol"
               : "reset";
}

std::string_view failure_kind(connect_failure f) noexcept {
    switch (f) {
    case connect_failure::timeout: return "timeout";
    case connect_failure::tls: return "tls";
    default: return "connect";
    }
}

void forwarder::note_upstream_failure(std::string_view what, const beast::error_code& ec,
                                      std::string_view kind) {
    st_.stats->upstream_error(kind);
    if (log_enabled(core::log_level::warn)) {
        log_line(core::log_level::warn, "upstream error")
            .str("what", what)
            .str("error", ec.message())
            .str("kind", kind)
            .str("request_id", rid_)
            .emit();
    }
}

net::awaitable<void> forwarder::answer(int status, std::string_view why) {
    if (!why.empty()) {
        log_failure(core::log_level::debug, why, std::to_string(status));
    }
    res_.status = status;
    if (!request_complete_ && fr_.has_body()) {
        // The client's body is (partly) unread: the connection cannot carry another request.
        res_.keep_alive = false;
        res_.unread_body = true;
    }
    json_response r{status, transport_error_body(status), {}, 0};
    auto ec =
        co_await write_json_response(c_.stream, cfg_.limits.idle_timeout, r, rid_, res_.keep_alive,
                                     c_.http10, up_.method() == http::verb::head);
    if (ec) {
        res_.keep_alive = false;
    }
}

void forwarder::build_upstream_head() {
    const auto& in = head_.get();
    up_.method_string(in.method_string());
    std::string target = cfg_.upstream.path_prefix;
    if (d_.forward_target == "*") {
        target = "*";
    } else {
        target += d_.forward_target;
    }
    up_.target(target);
    up_.version(11);
    upstream_head_params p;
    p.identity = &g_.auth->identity_headers();
    p.decision = &d_;
    p.client_ip = c_.ip;
    p.client_tls = c_.tls;
    p.request_id = rid_;
    p.upstream_authority = g_.upstream->authority;
    p.websocket = fr_.websocket;
    build_upstream_fields(in, p, up_);
    if (fr_.chunked) {
        up_.chunked(true);
    } else if (fr_.content_length) {
        up_.content_length(*fr_.content_length);
    }
    if (fr_.expect_continue && fr_.has_body()) {
        up_.set(http::field::expect, "100-continue");
    }
}

net::awaitable<bool> forwarder::acquire() {
    conn_ = w_.pool.take(*g_.upstream);
    if (conn_) {
        co_return true;
    }
    auto r = co_await w_.pool.connect(g_.upstream);
    if (r.conn) {
        conn_ = std::move(r.conn);
        co_return true;
    }
    note_upstream_failure("upstream_connect", r.ec, failure_kind(r.failure));
    co_await answer(r.failure == connect_failure::timeout ? 504 : 502, {});
    co_return false;
}

net::awaitable<forward_result> forwarder::run() {
    const auto limit = cfg_.limits.max_body_bytes;
    if (limit != 0 && fr_.content_length && *fr_.content_length > limit) {
        co_await answer(413, {});
        co_return res_;
    }
    build_upstream_head();
    up_start_ = clock::now();
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!co_await acquire()) {
            co_return res_;
        }
        auto s = co_await exchange(attempt == 1);
        if (s != step::retry) {
            break;
        }
        conn_.reset();
    }
    co_return res_;
}

// One attempt on one connection. `retry` only when the connection came from the pool,
// nothing of the client's body was consumed, and (after the head was written) the method
// is idempotent and the request has no body: then repeating it is invisible.
net::awaitable<step> forwarder::exchange(bool last_attempt) {
    const bool may_retry = conn_->reused && !last_attempt && !body_touched_;
    auto& up = *conn_;
    up_.body().data = nullptr;
    up_.body().size = 0;
    up_.body().more = fr_.has_body();
    http::request_serializer<http::buffer_body> sr(up_);
    up.stream.tcp().expires_after(cfg_.upstream.timeout);
    auto [hec, hn] = co_await http::async_write_header(up.stream, sr, use_nothrow);
    if (hec) {
        if (may_retry) {
            co_return step::retry;
        }
        note_upstream_failure("upstream_write", hec, failure_kind(hec));
        co_await answer(hec == beast::error::timeout ? 504 : 502, {});
        co_return step::done;
    }

    std::optional<response_parser> rp;
    if (fr_.has_body() && fr_.expect_continue) {
        // The upstream's 100 (or early final answer) is awaited for a moment only: an
        // upstream that ignores the expectation and waits for the body gets it after
        // continue_wait, with jwtgate's own 100 to the client (RFC 9110 10.1.1).
        if (co_await upstream_speaks_within(continue_wait)) {
            auto ec = co_await read_response_head(rp, true);
            if (ec) {
                note_upstream_failure("upstream_read", ec, failure_kind(ec));
                co_await answer(ec == beast::error::timeout ? 504 : 502, {});
                co_return step::done;
            }
            if (rp->get().result_int() != 100) {
                // A final answer before the body: relay it; the body stays unread.
                res_.keep_alive = false;
                res_.unread_body = true;
                co_await relay_response(*rp);
                co_return step::done;
            }
            rp.reset();
        }
        c_.stream.tcp().expires_after(cfg_.limits.idle_timeout);
        static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [cec, cn] = co_await net::async_write(
            c_.stream, net::buffer(continue_line.data(), continue_line.size()), use_nothrow);
        if (cec) {
            res_.status = 499;
            res_.keep_alive = false;
            co_return step::done;
        }
    }

    if (fr_.has_body()) {
        body_touched_ = true;
        body_parser_.emplace(std::move(head_));
        body_parser_->body_limit(boost::none);
        auto r = co_await relay_body<true>(
            *body_parser_, relay_side{c_.stream, &c_.buffer, cfg_.limits.idle_timeout}, sr, up_,
            relay_side{up.stream, nullptr, cfg_.upstream.timeout}, scratch(fr_.content_length),
            cfg_.limits.max_body_bytes);
        res_.bytes_in = r.bytes;
        if (r.limit_exceeded) {
            co_await answer(413, {});
            co_return step::done;
        }
        if (r.read_ec) {
            if (is_http_error(r.read_ec) && r.read_ec != http::error::partial_message) {
                co_await answer(400, "client_body");
            } else {
                res_.status = 499; // the client went away or stalled mid-body
                res_.keep_alive = false;
            }
            co_return step::done;
        }
        if (r.write_ec) {
            note_upstream_failure("upstream_write", r.write_ec, failure_kind(r.write_ec));
            co_await answer(r.write_ec == beast::error::timeout ? 504 : 502, {});
            co_return step::done;
        }
    }
    request_complete_ = true;

    auto ec = co_await read_response_head(rp, false);
    if (ec) {
        const bool nothing_back = ec == http::error::end_of_stream ||
                                  ec == net::error::connection_reset || ec == net::error::eof;
        if (may_retry && nothing_back && !fr_.has_body() && idempotent(up_.method())) {
            co_return step::retry;
        }
        note_upstream_failure("upstream_read", ec, failure_kind(ec));
        co_await answer(ec == beast::error::timeout ? 504 : 502, {});
        co_return step::done;
    }
    co_await relay_response(*rp);
    co_return step::done;
}

// True when the upstream sends something (or fails) within `wait`; false when it stays
// silent. Waits for readability only, so nothing is consumed and the socket stays usable.
net::awaitable<bool> forwarder::upstream_speaks_within(std::chrono::milliseconds wait) {
    auto& up = *conn_;
    if (up.buffer.size() != 0) {
        co_return true;
    }
    // The timer's handler may run after this coroutine returned: it touches the socket
    // only while the wait below is still pending (`waiting`).
    auto waiting = std::make_shared<bool>(true);
    auto silent = std::make_shared<bool>(false);
    auto ex = co_await net::this_coro::executor;
    net::steady_timer timer(ex, wait);
    timer.async_wait([waiting, silent, &sock = up.stream.socket()](const beast::error_code& ec) {
        if (!ec && *waiting) {
            *silent = true;
            beast::error_code ignored;
            sock.cancel(ignored);
        }
    });
    co_await up.stream.socket().async_wait(net::socket_base::wait_read, use_nothrow);
    *waiting = false;
    timer.cancel();
    co_return !*silent;
}

// Reads response heads until a final one (or 101, or 100 when `want_continue`); other
// informational responses are relayed to an HTTP/1.1 client.
net::awaitable<beast::error_code> forwarder::read_response_head(std::optional<response_parser>& rp,
                                                                bool want_continue) {
    auto& up = *conn_;
    for (;;) {
        rp.emplace();
        rp->header_limit(upstream_header_limit);
        rp->body_limit(boost::none);
        if (up_.method() == http::verb::head) {
            rp->skip(true);
        }
        up.stream.tcp().expires_after(cfg_.upstream.timeout);
        auto [ec, n] = co_await http::async_read_header(up.stream, up.buffer, *rp, use_nothrow);
        if (ec) {
            co_return ec;
        }
        res_.upstream_ms =
            std::chrono::duration<double, std::milli>(clock::now() - up_start_).count();
        const auto status = rp->get().result_int();
        if (status / 100 != 1 || status == 101 || (status == 100 && want_continue)) {
            co_return beast::error_code{};
        }
        if (status != 100 && !c_.http10) {
            co_await relay_informational(rp->get());
        }
    }
}

net::awaitable<void> forwarder::relay_informational(const http::response_header<>& in) {
    http::response<http::empty_body> out;
    out.version(11);
    out.result(in.result_int());
    out.reason(in.reason());
    build_client_fields(in, false, false, rid_, out);
    http::response_serializer<http::empty_body> sr(out);
    c_.stream.tcp().expires_after(cfg_.limits.idle_timeout);
    co_await http::async_write_header(c_.stream, sr, use_nothrow);
}

net::awaitable<void> forwarder::relay_response(response_parser& rp) {
    auto& up = *conn_;
    const auto& in = rp.get();
    const auto status = in.result_int();
    const bool switching = status == 101;
    if (switching && !fr_.websocket) {
        note_upstream_failure("upstream_read", http::make_error_code(http::error::bad_status),
                              "protocol");
        co_await answer(502, {});
        co_return;
    }
    const bool head_req = up_.method() == http::verb::head;
    const bool no_body = head_req || switching || status == 204 || status == 304 || rp.is_done();
    const bool until_eof = !no_body && !rp.chunked() && !rp.content_length();
    res_.status = static_cast<int>(status);

    http::response<http::buffer_body> out;
    out.version(11);
    out.result(status);
    out.reason(in.reason());
    build_client_fields(in, switching, head_req || status == 204 || status == 304, rid_, out);
    if (!no_body) {
        if (rp.content_length()) {
            out.content_length(*rp.content_length());
        } else if (!c_.http10) {
            out.chunked(true); // re-chunk chunked and close-delimited bodies for HTTP/1.1
        } else {
            res_.keep_alive = false; // HTTP/1.0 client: the close delimits the body
        }
    } else if (rp.is_done() && !head_req && status != 204 && status != 304 && !switching) {
        out.content_length(0);
    }
    if (!switching) {
        if (!res_.keep_alive) {
            out.set(http::field::connection, "close");
        } else if (c_.http10) {
            out.set(http::field::connection, "keep-alive");
        }
    }
    out.body().data = nullptr;
    out.body().size = 0;
    out.body().more = !no_body;

    http::response_serializer<http::buffer_body> sr(out);
    // When body bytes are already buffered, the head goes out with them in one write;
    // otherwise it is sent now, so a slow or streamed body does not hold it back.
    if (no_body || up.buffer.size() == 0) {
        c_.stream.tcp().expires_after(cfg_.limits.idle_timeout);
        auto [hec, hn] = co_await http::async_write_header(c_.stream, sr, use_nothrow);
        if (hec) {
            res_.keep_alive = false;
            co_return; // the client is gone; the upstream connection is dropped with conn_
        }
    }
    if (switching) {
        res_.keep_alive = false;
        auto [to_up, to_client] =
            co_await tunnel(c_.stream, c_.buffer, up.stream, up.buffer, cfg_.limits.idle_timeout);
        res_.bytes_in += to_up;
        res_.bytes_out += to_client;
        co_return;
    }
    if (!no_body) {
        // Not a conditional expression: GCC 12 miscompiles temporaries in ?: inside
        // coroutines (it evaluated the dereference of an empty optional).
        std::optional<std::uint64_t> length;
        if (rp.content_length()) {
            length = *rp.content_length();
        }
        auto r = co_await relay_body<false>(
            rp, relay_side{up.stream, &up.buffer, cfg_.upstream.timeout}, sr, out,
            relay_side{c_.stream, nullptr, cfg_.limits.idle_timeout}, scratch(length), 0);
        res_.bytes_out = r.bytes;
        if (!r.ok()) {
            if (r.read_ec) {
                note_upstream_failure("upstream_body", r.read_ec, failure_kind(r.read_ec));
            }
            // The head is out: the only way to signal a truncated body is to close.
            res_.keep_alive = false;
            co_return;
        }
    }
    if (request_complete_ && !until_eof && rp.is_done() && rp.keep_alive()) {
        w_.pool.give_back(std::move(conn_));
    }
}

} // namespace

net::awaitable<forward_result> forward_request(worker& w, const generation& g, client_link client,
                                               http::request_parser<http::empty_body>& head,
                                               const request_framing& framing,
                                               const core::decision& d,
                                               std::string_view request_id) {
    forwarder f(w, g, client, head, framing, d, request_id);
    co_return co_await f.run();
}

} // namespace jwtgate::proxy
