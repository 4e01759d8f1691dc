// JWKS lifecycle: first fetch, scheduled refresh, backoff, unknown-kid refetch, file polling,
// and the rebinding of unchanged key sources on reload.
#include "proxy/jwks_fetcher.hpp"

#include "core/jwks.hpp"
#include "core/key_source.hpp"
#include "proxy/file_signature.hpp"
#include "proxy/http_client.hpp"
#include "proxy/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <random>

namespace jwtgate::proxy {

namespace net = boost::asio;
namespace json = boost::json;
using core::mono_clock;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// jwks_file changes must be seen within 2 s (SPEC "Details: Refresh timing").
constexpr std::chrono::milliseconds file_poll_interval{1000};

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double jitter_draw() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// Reads {issuer}/.well-known/openid-configuration's jwks_uri, checking its "issuer".
bool discovery_jwks_uri(const std::string& body, const std::string& issuer, std::string& uri,
                        std::string& error) {
    boost::system::error_code ec;
    auto doc = json::parse(body, ec);
    if (ec || !doc.is_object()) {
        error = "discovery document is not a JSON object";
        return false;
    }
    const auto* iss = doc.as_object().if_contains("issuer");
    if (iss == nullptr || !iss->is_string() || iss->get_string() != issuer) {
        error = "discovery document issuer does not match the configured issuer";
        return false;
    }
    const auto* ju = doc.as_object().if_contains("jwks_uri");
    if (ju == nullptr || !ju->is_string() || ju->get_string().empty()) {
        error = "discovery document has no jwks_uri";
        return false;
    }
    uri = std::string(ju->get_string());
    return true;
}

} // namespace

namespace {

// Whether a reloaded provider `b` may keep the key source built for `a`: same kind, same
// origin (URI, issuer for discovery, file, inline text), same trust store and timings.
bool same_key_source(const core::provider_config& a, const core::provider_config& b) {
    if (a.source != b.source || a.jwks_ca_file != b.jwks_ca_file ||
        a.jwks_refresh_interval != b.jwks_refresh_interval ||
        a.jwks_min_refresh_interval != b.jwks_min_refresh_interval ||
        a.jwks_fetch_timeout != b.jwks_fetch_timeout || a.jwks_max_stale != b.jwks_max_stale) {
        return false;
    }
    switch (a.source) {
    case core::key_source_kind::jwks_uri: return a.jwks_uri == b.jwks_uri;
    case core::key_source_kind::discovery: return a.policy.issuer == b.policy.issuer;
    case core::key_source_kind::jwks_file: return a.jwks_file == b.jwks_file;
    case core::key_source_kind::inline_jwks: return a.inline_jwks == b.inline_jwks;
    }
    return false;
}

void log_skipped(const std::string& provider, const std::vector<core::skipped_key>& skipped) {
    if (!log_enabled(core::log_level::warn)) {
        return;
    }
    for (const auto& s : skipped) {
        log_line(core::log_level::warn, "jwks key skipped")
            .str("provider", provider)
            .num("index", static_cast<std::uint64_t>(s.index))
            .str("kid", s.kid)
            .str("reason", make_error_code(s.reason).message())
            .emit();
    }
}

} // namespace

// Where a source publishes: slot `index` of one configuration's key store, and that
// configuration's token cache (entries verified with a removed key are dropped).
struct key_sink {
    std::weak_ptr<key_store> store;
    std::size_t index = 0;
    std::weak_ptr<core::token_cache> cache;
    std::string provider; // the name the cache knows the provider by
};

struct key_source {
    key_source(net::any_io_executor ex, const core::provider_config& p)
        : settings(p), policy(core::jwks_timing{p.jwks_refresh_interval,
                                                p.jwks_min_refresh_interval, p.jwks_max_stale}),
          timer(std::move(ex)) {}

    // Publishes `k` (null drops the set) into every configuration still alive.
    void publish(std::shared_ptr<const core::key_set> k) {
        keys = std::move(k);
        std::erase_if(sinks, [](const key_sink& s) { return s.store.expired(); });
        for (const auto& s : sinks) {
            auto cache = s.cache.lock();
            if (keys && cache) {
                cache->drop_missing_keys(s.provider, *keys);
            }
            if (auto store = s.store.lock()) {
                store->set(s.index, keys);
            }
        }
    }

    void set_next_attempt(std::int64_t unix_time) {
        next_attempt_unix = unix_time;
        for (const auto& s : sinks) {
            if (auto store = s.store.lock()) {
                store->set_next_attempt(s.index, unix_time);
            }
        }
    }

    void notify_waiters() {
        auto ws = std::move(waiters);
        waiters.clear();
        for (auto& w : ws) {
            net::post(w.executor, std::move(w.done));
        }
    }

    void loaded(const std::string& what, std::size_t count) {
        status = "ready";
        stats.fetch_ok.fetch_add(1, std::memory_order_relaxed);
        stats.last_success_unix.store(unix_now(), std::memory_order_relaxed);
        if (log_enabled(core::log_level::info)) {
            log_line(core::log_level::info, what)
                .str("provider", settings.name)
                .num("keys", static_cast<std::uint64_t>(count))
                .emit();
        }
    }

    struct waiter {
        net::any_io_executor executor;
        std::function<void()> done;
    };

    core::provider_config settings; // as last bound (the name follows renames)
    core::jwks_policy policy;
    net::steady_timer timer;
    std::vector<waiter> waiters;
    std::vector<key_sink> sinks;
    std::shared_ptr<const core::key_set> keys;
    std::int64_t next_attempt_unix = 0;
    bool kicked = false;
    bool retired = false; // no provider uses it any more: its coroutine ends
    std::shared_ptr<net::ssl::context> tls;
    std::string status = "loading";
    provider_fetch_stats stats;
};

jwks_fetcher::jwks_fetcher(net::io_context& ioc) : ioc_(ioc) {}

jwks_fetcher::~jwks_fetcher() = default;

provider_sources jwks_fetcher::bind(const core::config& cfg,
                                    const std::shared_ptr<key_store>& store,
                                    const std::shared_ptr<core::token_cache>& cache) {
    provider_sources bound(cfg.providers.size());
    provider_sources fresh;
    std::vector<bool> claimed(active_.size(), false);
    for (std::size_t i = 0; i < cfg.providers.size(); ++i) {
        const auto& p = cfg.providers[i];
        std::shared_ptr<key_source> s;
        for (std::size_t j = 0; j < active_.size() && !s; ++j) {
            if (!claimed[j] && same_key_source(active_[j]->settings, p)) {
                claimed[j] = true;
                s = active_[j];
            }
        }
        if (s) {
            s->settings.name = p.name;
            log_line(core::log_level::info, "jwks key source kept")
                .str("provider", p.name)
                .num("keys", static_cast<std::uint64_t>(s->keys ? s->keys->size() : 0))
                .emit();
        } else {
            s = std::make_shared<key_source>(ioc_.get_executor(), p);
            fresh.push_back(s);
        }
        std::erase_if(s->sinks, [](const key_sink& k) { return k.store.expired(); });
        s->sinks.push_back({store, i, cache, p.name});
        store->set(i, s->keys);
        store->set_next_attempt(i, s->next_attempt_unix);
        bound[i] = s;
    }
    for (std::size_t j = 0; j < active_.size(); ++j) {
        if (!claimed[j]) {
            retire(*active_[j]);
        }
    }
    active_ = bound;
    for (const auto& s : fresh) {
        start(s);
    }
    return bound;
}

void jwks_fetcher::start(const std::shared_ptr<key_source>& s) {
    const auto& p = s->settings;
    if (p.remote()) {
        try {
            s->tls = make_client_tls_context(p.jwks_ca_file);
        } catch (const std::exception& e) {
            // Without a trust store no https fetch can succeed; plain http still can.
            s->status = std::string("TLS setup failed: ") + e.what();
            log_failure(core::log_level::error, "jwks_tls_context", e.what());
        }
        net::co_spawn(ioc_, run_remote(s), net::detached);
        return;
    }
    load_local(*s);
    if (p.source == core::key_source_kind::jwks_file) {
        net::co_spawn(ioc_, run_file_watch(s), net::detached);
    }
}

// Inline `jwks` and `jwks_file`, read once; a failure leaves the provider unloaded (503).
void jwks_fetcher::load_local(key_source& s) {
    auto loaded = core::load_local_jwks(s.settings);
    if (!loaded) {
        s.status = "key set not loaded: " + loaded.error().message;
        s.stats.fetch_error.fetch_add(1, std::memory_order_relaxed);
        log_line(core::log_level::error, "key set not loaded")
            .str("provider", s.settings.name)
            .str("error", loaded.error().message)
            .emit();
        return;
    }
    log_skipped(s.settings.name, loaded->skipped);
    const auto count = loaded->keys->size();
    s.publish(loaded->keys);
    s.loaded("key set loaded", count);
}

void jwks_fetcher::retire(key_source& s) {
    s.retired = true;
    s.timer.cancel();
    s.notify_waiters();
    log_line(core::log_level::info, "jwks key source stopped")
        .str("provider", s.settings.name)
        .emit();
}

void jwks_fetcher::stop() {
    stopped_ = true;
    net::post(ioc_, [self = shared_from_this()] {
        for (auto& s : self->active_) {
            s->timer.cancel();
            s->notify_waiters();
        }
    });
}

void jwks_fetcher::await_refresh(const std::shared_ptr<key_source>& source,
                                 net::any_io_executor caller, std::function<void()> done) {
    net::post(ioc_, [self = shared_from_this(), source, caller = std::move(caller),
                     done = std::move(done)]() mutable {
        auto& st = *source;
        if (!st.settings.remote() || st.retired || self->stopped_) {
            net::post(caller, std::move(done));
            return;
        }
        if (st.kicked) {
            st.waiters.push_back({std::move(caller), std::move(done)});
            return;
        }
        switch (st.policy.unknown_kid(mono_clock::now())) {
        case core::refetch_verdict::refuse: net::post(caller, std::move(done)); return;
        case core::refetch_verdict::join:
            st.waiters.push_back({std::move(caller), std::move(done)});
            return;
        case core::refetch_verdict::start:
            st.waiters.push_back({std::move(caller), std::move(done)});
            st.kicked = true;
            st.timer.cancel(); // wakes run_remote, which fetches now
            return;
        }
    });
}

const provider_fetch_stats& jwks_fetcher::stats(const key_source& s) {
    return s.stats;
}

std::string jwks_fetcher::status(const key_source& s) {
    return s.status;
}

net::awaitable<void> jwks_fetcher::run_remote(std::shared_ptr<key_source> src) {
    auto self = shared_from_this();
    auto& st = *src;
    auto running = [&] { return !stopped_ && !st.retired; };
    co_await fetch_once(st); // the first fetch starts at once
    while (running()) {
        const auto now = mono_clock::now();
        auto wake = st.policy.next_fetch();
        if (auto last = st.policy.last_success(); last && st.keys) {
            const auto stale_at = *last + st.settings.jwks_max_stale + std::chrono::milliseconds(1);
            wake = std::min(wake, stale_at);
        }
        if (!st.kicked && wake > now) {
            st.timer.expires_at(wake);
            co_await st.timer.async_wait(use_tuple);
            if (!running()) {
                break;
            }
        }
        const auto after = mono_clock::now();
        if (st.policy.stale(after) && st.keys) {
            st.publish(nullptr);
            st.status = "stale: no successful fetch within jwks_max_stale";
            log_line(core::log_level::error, "jwks key set dropped as stale")
                .str("provider", st.settings.name)
                .emit();
        }
        if (st.kicked || st.policy.next_fetch() <= after) {
            co_await fetch_once(st);
        }
    }
    st.notify_waiters();
}

net::awaitable<void> jwks_fetcher::fetch_once(key_source& st) {
    const auto& p = st.settings;
    const auto started = mono_clock::now();
    const auto deadline = started + p.jwks_fetch_timeout;
    st.kicked = false;
    st.policy.fetch_started(started);

    auto remaining = [&] {
        return std::max(
            std::chrono::milliseconds(1),
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - mono_clock::now()));
    };
    std::string error;
    std::string uri = p.jwks_uri;
    if (p.source == core::key_source_kind::discovery) {
        auto doc = co_await http_get(core::discovery_url(p.policy.issuer), st.tls, remaining(),
                                     core::max_jwks_bytes);
        if (!doc.ok) {
            error = "discovery: " + doc.error;
        } else if (!discovery_jwks_uri(doc.body, p.policy.issuer, uri, error)) {
            error = "discovery: " + error;
        }
    }
    http_get_result res;
    std::shared_ptr<const core::key_set> keys;
    if (error.empty()) {
        res = co_await http_get(uri, st.tls, remaining(), core::max_jwks_bytes);
        if (!res.ok) {
            error = res.error;
        } else if (auto parsed = core::parse_jwks(res.body, false); !parsed) {
            error = "JWKS rejected: " + parsed.error().message();
        } else {
            keys = parsed->keys;
            log_skipped(p.name, parsed->skipped);
        }
    }

    const auto finished = mono_clock::now();
    if (keys) {
        st.policy.fetch_succeeded(finished, core::cache_control_max_age(res.cache_control));
        const auto count = keys->size();
        st.publish(std::move(keys));
        st.loaded("jwks fetched", count);
    } else {
        st.policy.fetch_failed(finished, jitter_draw());
        st.stats.fetch_error.fetch_add(1, std::memory_order_relaxed);
        if (!st.keys) {
            st.status = "fetch failed: " + error;
        }
        if (log_enabled(core::log_level::warn)) {
            log_line(core::log_level::warn, "jwks fetch failed")
                .str("provider", p.name)
                .str("error", error)
                .num("retry_in_ms", static_cast<std::int64_t>(
                                        std::chrono::duration_cast<std::chrono::milliseconds>(
                                            st.policy.next_fetch() - finished)
                                            .count()))
                .emit();
        }
    }
    st.set_next_attempt(unix_now() + st.policy.retry_after_seconds(finished));
    st.notify_waiters();
}

net::awaitable<void> jwks_fetcher::run_file_watch(std::shared_ptr<key_source> src) {
    auto self = shared_from_this();
    auto& st = *src;
    const std::string path = st.settings.jwks_file;
    auto seen = stat_file(path);
    while (!stopped_ && !st.retired) {
        st.timer.expires_after(file_poll_interval);
        co_await st.timer.async_wait(use_tuple);
        if (stopped_ || st.retired) {
            break;
        }
        auto now_sig = stat_file(path);
        if (now_sig == seen) {
            continue;
        }
        seen = now_sig;
        auto loaded = core::load_local_jwks(st.settings);
        if (!loaded) {
            // Keep the last good keys: a half-written or broken file must not drop them.
            if (log_enabled(core::log_level::warn)) {
                log_line(core::log_level::warn, "jwks file reload failed")
                    .str("provider", st.settings.name)
                    .str("error", loaded.error().message)
                    .emit();
            }
            st.stats.fetch_error.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        log_skipped(st.settings.name, loaded->skipped);
        const auto count = loaded->keys->size();
        st.publish(loaded->keys);
        st.loaded("jwks file reloaded", count);
    }
}

} // namespace jwtgate::proxy
