// One client connection: head reading with limits and timeouts, the authorisation
// decision, jwtgate's own answers, forwarding, keep-alive and the access log.
#include "proxy/session.hpp"

#include "proxy/access_log.hpp"
#include "proxy/forward.hpp"
#include "proxy/forward_headers.hpp"
#include "proxy/framing.hpp"
#include "proxy/jwks_fetcher.hpp"
#include "proxy/log.hpp"
#include "proxy/metrics.hpp"
#include "proxy/responses.hpp"
#include "proxy/worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace jwtgate::proxy {

namespace http = beast::http;

namespace {

// Wall-clock seconds from the precise clock. std::time() reads the coarse clock, which
// lags by up to a scheduler tick: right after a second boundary it would call a token
// minted in that second (iat = now) "issued in the future" when clock_skew is 0.
std::int64_t unix_seconds() noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
using clock = std::chrono::steady_clock;

// A denied request's body up to this size is read and discarded to keep the connection.
constexpr std::uint64_t drain_limit = 64 * 1024;
// Lingering close: how long and how much to read after shutdown(send) so that unread
// client bytes do not turn the close into a reset that destroys the response in flight.
constexpr auto linger_time = std::chrono::seconds(2);
constexpr std::uint64_t linger_bytes = 4 * 1024 * 1024;

bool is_http_error(const beast::error_code& ec) noexcept {
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

double ms_since(clock::time_point t) {
    return std::chrono::duration<double, std::milli>(clock::now() - t).count();
}

std::string peer_address(const net::ip::tcp::socket& s) {
    beast::error_code ec;
    auto ep = s.remote_endpoint(ec);
    if (ec) {
        return "unknown";
    }
    auto a = ep.address();
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        a = net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
    }
    return a.to_string();
}

// Helpers for values built from conditional expressions: GCC 12 miscompiles ?: with
// non-trivial temporaries inside coroutines, so coroutines call these plain functions.
std::string request_id_for(std::string_view incoming) {
    if (valid_request_id(incoming)) {
        return std::string(incoming);
    }
    return generate_request_id();
}

std::string head_error_body(int status) {
    if (status == 400) {
        return error_with_details("Bad request", "malformed request head");
    }
    return transport_error_body(status);
}

std::string framing_error_body(framing_errc e) {
    if (status_of(e) == 400) {
        return error_with_details("Bad request", details(e));
    }
    return transport_error_body(status_of(e));
}

// Waits until the fetcher has refreshed `source`'s keys (coalesced with other waiters),
// at most `bound`.
net::awaitable<void> await_keys(jwks_fetcher& f, const std::shared_ptr<key_source>& source,
                                std::chrono::milliseconds bound) {
    auto ex = co_await net::this_coro::executor;
    auto timer = std::make_shared<net::steady_timer>(ex, bound);
    // `done` runs on this worker's thread, so it cannot race the wait below.
    f.await_refresh(source, ex, [timer] { timer->cancel(); });
    co_await timer->async_wait(use_nothrow);
}

} // namespace

class session {
  public:
    session(worker& w, net::ip::tcp::socket s, std::shared_ptr<net::ssl::context> tls)
        : w_(w), st_(w.state), gen_(w.gen), ip_(peer_address(s)), tls_(std::move(tls)),
          stream_(tls_ ? byte_stream(beast::tcp_stream(std::move(s)), *tls_)
                       : byte_stream(beast::tcp_stream(std::move(s)))) {
        reg_ = w_.sessions.insert(w_.sessions.end(), this);
        st_.open_connections.fetch_add(1, std::memory_order_relaxed);
        st_.stats->connection_opened();
    }
    ~session() {
        w_.sessions.erase(reg_);
        st_.open_connections.fetch_sub(1, std::memory_order_relaxed);
        st_.stats->connection_closed();
    }
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    net::awaitable<void> run();

    // Drain: a connection waiting for its next request is closed now.
    void close_if_idle() {
        if (idle_) {
            beast::error_code ignored;
            stream_.socket().close(ignored);
        }
    }

  private:
    net::awaitable<bool> handshake();
    net::awaitable<bool> wait_for_request(bool first);
    net::awaitable<bool> serve_one(bool first);
    net::awaitable<void> head_failed(const beast::error_code& ec, clock::time_point started);
    net::awaitable<bool> drain_body(std::uint64_t length);
    net::awaitable<void> close();
    void finish(access_entry& e, clock::time_point started);

    // The configuration in force: the worker's newest when this request started.
    const core::config& cfg() const noexcept { return *gen_->cfg; }
    // Takes the worker's newest generation; no reference-count traffic when unchanged.
    void refresh_generation() {
        if (gen_ != w_.gen) {
            gen_ = w_.gen;
        }
    }

    worker& w_;
    server_state& st_;
    std::shared_ptr<const generation> gen_;
    std::string ip_;
    std::shared_ptr<net::ssl::context> tls_; // the certificate this connection was accepted with
    byte_stream stream_;
    beast::flat_buffer buf_;
    std::list<session*>::iterator reg_;
    bool idle_ = false;
    bool linger_ = false;
};

void close_if_idle(session& s) {
    s.close_if_idle();
}

net::awaitable<void> session::run() {
    if (stream_.is_tls() && !co_await handshake()) {
        co_return;
    }
    bool first = true;
    while (co_await serve_one(first)) {
        first = false;
        if (buf_.size() == 0 && buf_.capacity() > 16 * 1024) {
            buf_.shrink_to_fit(); // a large head once must not pin memory on an idle connection
        }
    }
    co_await close();
}

net::awaitable<bool> session::handshake() {
    stream_.tcp().expires_after(cfg().limits.header_timeout);
    auto [ec] = co_await stream_.tls()->async_handshake(net::ssl::stream_base::server, use_nothrow);
    if (ec) {
        log_failure(core::log_level::debug, "tls_handshake", ec.message());
        co_return false;
    }
    co_return true;
}

// Between requests the client has limits.idle_timeout to start the next one; the first
// request's head, like every head, must arrive whole within limits.header_timeout.
net::awaitable<bool> session::wait_for_request(bool first) {
    if (first || buf_.size() != 0) {
        co_return !st_.draining.load(std::memory_order_relaxed) || first;
    }
    if (st_.draining.load(std::memory_order_relaxed)) {
        co_return false;
    }
    idle_ = true;
    stream_.tcp().expires_after(cfg().limits.idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buf_.prepare(1024), use_nothrow);
    idle_ = false;
    if (ec) {
        co_return false;
    }
    buf_.commit(n);
    co_return true;
}

net::awaitable<void> session::head_failed(const beast::error_code& ec, clock::time_point started) {
    int status = 0;
    if (ec == http::error::header_limit) {
        status = 431;
    } else if (is_http_error(ec) && ec != http::error::end_of_stream &&
               ec != http::error::partial_message) {
        status = 400;
    }
    if (status == 0) {
        // EOF, reset or timeout (slow or silent client): nobody to answer.
        if (ec != http::error::end_of_stream) {
            log_failure(core::log_level::debug, "read_header", ec.message());
        }
        co_return;
    }
    const auto rid = generate_request_id();
    json_response r{status, head_error_body(status), {}, 0};
    co_await write_json_response(stream_, cfg().limits.idle_timeout, r, rid, false, false, false);
    linger_ = true;
    access_entry e;
    e.request_id = rid;
    e.status = status;
    e.outcome = "bad_request";
    finish(e, started);
}

void session::finish(access_entry& e, clock::time_point started) {
    e.duration_ms = ms_since(started);
    log_access(cfg(), e);
    st_.stats->request_done(e.rule.empty() ? std::string_view("default") : e.rule, e.outcome,
                            e.duration_ms / 1000.0);
}

net::awaitable<bool> session::serve_one(bool first) {
    refresh_generation(); // an idle connection must not pin a replaced configuration
    if (!co_await wait_for_request(first)) {
        co_return false;
    }
    const auto started = clock::now();
    refresh_generation(); // a reload applies from the next request on; this one keeps gen_
    const generation& g = *gen_;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(cfg().limits.max_header_bytes, 0xffffffffu)));
    parser.body_limit(boost::none);
    stream_.tcp().expires_after(cfg().limits.header_timeout);
    // A connection that has not sent a byte of this request is idle for the drain.
    idle_ = buf_.size() == 0;
    auto [ec, n] = co_await http::async_read_header(stream_, buf_, parser, use_nothrow);
    idle_ = false;
    if (ec) {
        co_await head_failed(ec, started);
        co_return false;
    }
    const auto& req = parser.get();
    std::vector<core::header_field> fields;
    fields.reserve(16);
    std::string_view incoming_id;
    for (const auto& f : req) {
        fields.push_back({f.name_string(), f.value()});
        if (incoming_id.empty() && iequals(f.name_string(), "x-request-id")) {
            incoming_id = f.value();
        }
    }
    const std::string rid = request_id_for(incoming_id);
    const bool http10 = req.version() == 10;
    const bool head_only = req.method() == http::verb::head;
    bool keep = req.keep_alive() && !st_.draining.load(std::memory_order_relaxed);

    access_entry e;
    e.request_id = rid;
    e.method = std::string(req.method_string());

    request_framing fr;
    if (auto fe = check_request_framing(req.method_string(), req.version(), fields, fr);
        fe != framing_errc::ok) {
        const int status = status_of(fe);
        json_response r{status, framing_error_body(fe), {}, 0};
        co_await write_json_response(stream_, cfg().limits.idle_timeout, r, rid, false, http10,
                                     head_only);
        linger_ = true;
        e.status = status;
        e.outcome = "bad_request";
        finish(e, started);
        co_return false;
    }

    auto keys = g.keys->snapshot();
    const core::request_view view{req.method_string(), req.target(), fields};
    auto now = unix_seconds();
    auto d = g.auth->decide(view, *keys, now, false);
    std::size_t wait_provider = 0;
    if (d.result == core::outcome::wait_for_keys) {
        // Keys never loaded, or an unknown kid: one coalesced refetch, then decide for good.
        wait_provider = d.wait_provider;
        if (st_.fetcher != nullptr && wait_provider < g.sources.size()) {
            co_await await_keys(*st_.fetcher, g.sources[wait_provider],
                                g.cfg->providers[wait_provider].jwks_fetch_timeout +
                                    std::chrono::seconds(1));
            keys = g.keys->snapshot();
            now = unix_seconds();
        }
        d = g.auth->decide(view, *keys, now, true);
    }
    if (d.claim_headers_refused != 0) {
        st_.stats->claim_headers_dropped(d.claim_headers_refused);
    }
    e.path = d.path;
    e.outcome = core::to_string(d.result);
    e.rule = d.rule_label;
    e.provider = d.provider != nullptr ? std::string_view(d.provider->name) : std::string_view{};
    e.sub = d.sub;
    e.shadow = d.shadow;

    if (!d.forward) {
        const auto er = core::render_error(d, g.keys->retry_after(wait_provider, now));
        const bool drainable = !fr.has_body() || (!fr.expect_continue && fr.content_length &&
                                                  *fr.content_length <= drain_limit);
        keep = keep && drainable;
        json_response r{er.status, er.body, er.www_authenticate, er.retry_after};
        auto wec = co_await write_json_response(stream_, cfg().limits.idle_timeout, r, rid, keep,
                                                http10, head_only);
        if (wec) {
            keep = false;
        } else if (keep && fr.has_body()) {
            keep = co_await drain_body(*fr.content_length);
        }
        linger_ = linger_ || (!keep && fr.has_body());
        e.status = er.status;
        e.bytes_out = head_only ? 0 : er.body.size();
        finish(e, started);
        co_return keep;
    }

    client_link link{stream_, buf_, ip_, stream_.is_tls(), http10, keep};
    auto fres = co_await forward_request(w_, g, link, parser, fr, d, rid);
    linger_ = linger_ || fres.unread_body;
    e.status = fres.status;
    e.bytes_in = fres.bytes_in;
    e.bytes_out = fres.bytes_out;
    e.upstream_ms = fres.upstream_ms;
    finish(e, started);
    co_return fres.keep_alive&& fres.status != 499;
}

// Reads and discards a denied request's fixed-length body so the connection stays usable.
net::awaitable<bool> session::drain_body(std::uint64_t length) {
    const auto buffered = std::min<std::uint64_t>(length, buf_.size());
    buf_.consume(static_cast<std::size_t>(buffered));
    length -= buffered;
    char scratch[8192];
    while (length > 0) {
        stream_.tcp().expires_after(cfg().limits.idle_timeout);
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, sizeof scratch));
        auto [ec, n] = co_await stream_.async_read_some(net::buffer(scratch, want), use_nothrow);
        if (ec) {
            co_return false;
        }
        length -= n;
    }
    co_return true;
}

net::awaitable<void> session::close() {
    beast::error_code ec;
    auto& sock = stream_.socket();
    if (!sock.is_open()) {
        co_return;
    }
    sock.shutdown(net::ip::tcp::socket::shutdown_send, ec);
    if (linger_ && !ec) {
        stream_.tcp().expires_after(linger_time);
        char scratch[8192];
        std::uint64_t total = 0;
        while (total < linger_bytes) {
            auto [rec, n] =
                co_await stream_.tcp().async_read_some(net::buffer(scratch), use_nothrow);
            if (rec) {
                break;
            }
            total += n;
        }
    }
    sock.close(ec);
}

net::awaitable<void> run_session(worker& w, net::ip::tcp::socket socket,
                                 std::shared_ptr<net::ssl::context> tls) {
    session s(w, std::move(socket), std::move(tls));
    co_await s.run();
}

} // namespace jwtgate::proxy
