// JWKS lifecycle: first fetch, scheduled refresh, backoff, unknown-kid refetch, file polling.
#include "proxy/jwks_fetcher.hpp"

#include "core/jwks.hpp"
#include "core/key_source.hpp"
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

#include <sys/stat.h>

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

// What identifies a file's current content cheaply: stat() follows symlinks, so a
// Kubernetes "..data" symlink swap or an atomic rename shows as a new inode.
struct file_signature {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const file_signature&) const = default;
};

file_signature stat_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return {};
    }
    return {true,
            st.st_dev,
            st.st_ino,
            st.st_size,
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
            static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
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

std::string discovery_url(std::string issuer) {
    while (!issuer.empty() && issuer.back() == '/') {
        issuer.pop_back();
    }
    return issuer + "/.well-known/openid-configuration";
}

} // namespace

struct jwks_fetcher::provider_state {
    provider_state(net::any_io_executor ex, const core::provider_config& p)
        : policy(core::jwks_timing{p.jwks_refresh_interval, p.jwks_min_refresh_interval,
                                   p.jwks_max_stale}),
          timer(ex), stats(std::make_unique<provider_fetch_stats>()) {}

    core::jwks_policy policy;
    net::steady_timer timer;
    std::vector<waiter> waiters;
    bool kicked = false;
    std::shared_ptr<net::ssl::context> tls;
    std::string status = "loading";
    std::unique_ptr<provider_fetch_stats> stats;
};

jwks_fetcher::jwks_fetcher(net::io_context& ioc, std::shared_ptr<const core::config> cfg,
                           std::shared_ptr<key_store> store,
                           std::shared_ptr<core::token_cache> cache)
    : ioc_(ioc), strand_(net::make_strand(ioc)), cfg_(std::move(cfg)), store_(std::move(store)),
      cache_(std::move(cache)) {
    for (const auto& p : cfg_->providers) {
        providers_.push_back(std::make_unique<provider_state>(strand_, p));
    }
}

jwks_fetcher::~jwks_fetcher() = default;

void jwks_fetcher::start() {
    for (std::size_t i = 0; i < providers_.size(); ++i) {
        const auto& p = cfg_->providers[i];
        if (p.remote()) {
            try {
                providers_[i]->tls = make_client_tls_context(p.jwks_ca_file);
            } catch (const std::exception& e) {
                // Without a trust store no https fetch can succeed; plain http still can.
                set_status(i, std::string("TLS setup failed: ") + e.what());
                log_failure(core::log_level::error, "jwks_tls_context", e.what());
            }
            net::co_spawn(strand_, run_remote(i), net::detached);
        } else {
            set_status(i, store_->get(i) ? "ready" : "key set not loaded");
            if (p.source == core::key_source_kind::jwks_file) {
                net::co_spawn(strand_, run_file_watch(i), net::detached);
            }
        }
    }
}

void jwks_fetcher::stop() {
    stopped_ = true;
    net::post(strand_, [self = shared_from_this()] {
        for (auto& st : self->providers_) {
            st->timer.cancel();
            self->notify_waiters(*st);
        }
    });
}

void jwks_fetcher::await_refresh(std::size_t i, net::any_io_executor caller,
                                 std::function<void()> done) {
    net::post(strand_, [self = shared_from_this(), i, caller = std::move(caller),
                        done = std::move(done)]() mutable {
        if (i >= self->providers_.size() || !self->cfg_->providers[i].remote() || self->stopped_) {
            net::post(caller, std::move(done));
            return;
        }
        auto& st = *self->providers_[i];
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

const provider_fetch_stats& jwks_fetcher::stats(std::size_t i) const {
    return *providers_[i]->stats;
}

std::string jwks_fetcher::status(std::size_t i) const {
    std::lock_guard lock(status_mutex_);
    return providers_[i]->status;
}

bool jwks_fetcher::all_ready() const {
    for (std::size_t i = 0; i < providers_.size(); ++i) {
        if (!store_->get(i)) {
            return false;
        }
    }
    return true;
}

void jwks_fetcher::set_status(std::size_t i, std::string s) {
    std::lock_guard lock(status_mutex_);
    providers_[i]->status = std::move(s);
}

void jwks_fetcher::publish(std::size_t i, std::shared_ptr<const core::key_set> keys) {
    if (keys && cache_) {
        cache_->drop_missing_keys(cfg_->providers[i].name, *keys);
    }
    store_->set(i, std::move(keys));
}

void jwks_fetcher::notify_waiters(provider_state& st) {
    auto waiters = std::move(st.waiters);
    st.waiters.clear();
    for (auto& w : waiters) {
        net::post(w.executor, std::move(w.done));
    }
}

net::awaitable<void> jwks_fetcher::run_remote(std::size_t i) {
    auto self = shared_from_this();
    auto& st = *providers_[i];
    co_await fetch_once(i); // the first fetch starts at once
    while (!stopped_) {
        const auto now = mono_clock::now();
        auto wake = st.policy.next_fetch();
        if (auto last = st.policy.last_success(); last && store_->get(i)) {
            const auto stale_at =
                *last + cfg_->providers[i].jwks_max_stale + std::chrono::milliseconds(1);
            wake = std::min(wake, stale_at);
        }
        if (!st.kicked && wake > now) {
            st.timer.expires_at(wake);
            co_await st.timer.async_wait(use_tuple);
            if (stopped_) {
                break;
            }
        }
        const auto after = mono_clock::now();
        if (st.policy.stale(after) && store_->get(i)) {
            publish(i, nullptr);
            set_status(i, "stale: no successful fetch within jwks_max_stale");
            log_line(core::log_level::error, "jwks key set dropped as stale")
                .str("provider", cfg_->providers[i].name)
                .emit();
        }
        if (st.kicked || st.policy.next_fetch() <= after) {
            co_await fetch_once(i);
        }
    }
    notify_waiters(st);
}

net::awaitable<void> jwks_fetcher::fetch_once(std::size_t i) {
    auto& st = *providers_[i];
    const auto& p = cfg_->providers[i];
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
        auto doc = co_await http_get(discovery_url(p.policy.issuer), st.tls, remaining(),
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
            for (const auto& s : parsed->skipped) {
                if (log_enabled(core::log_level::warn)) {
                    log_line(core::log_level::warn, "jwks key skipped")
                        .str("provider", p.name)
                        .num("index", static_cast<std::uint64_t>(s.index))
                        .str("kid", s.kid)
                        .str("reason", make_error_code(s.reason).message())
                        .emit();
                }
            }
        }
    }

    const auto finished = mono_clock::now();
    if (keys) {
        st.policy.fetch_succeeded(finished, core::cache_control_max_age(res.cache_control));
        const auto count = keys->size();
        publish(i, std::move(keys));
        set_status(i, "ready");
        st.stats->fetch_ok.fetch_add(1, std::memory_order_relaxed);
        st.stats->last_success_unix.store(unix_now(), std::memory_order_relaxed);
        if (log_enabled(core::log_level::info)) {
            log_line(core::log_level::info, "jwks fetched")
                .str("provider", p.name)
                .num("keys", static_cast<std::uint64_t>(count))
                .emit();
        }
    } else {
        st.policy.fetch_failed(finished, jitter_draw());
        st.stats->fetch_error.fetch_add(1, std::memory_order_relaxed);
        if (!store_->get(i)) {
            set_status(i, "fetch failed: " + error);
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
    store_->set_next_attempt(i, unix_now() + st.policy.retry_after_seconds(finished));
    notify_waiters(st);
}

net::awaitable<void> jwks_fetcher::run_file_watch(std::size_t i) {
    auto self = shared_from_this();
    auto& st = *providers_[i];
    const auto& p = cfg_->providers[i];
    auto seen = stat_file(p.jwks_file);
    while (!stopped_) {
        st.timer.expires_after(file_poll_interval);
        co_await st.timer.async_wait(use_tuple);
        if (stopped_) {
            break;
        }
        auto now_sig = stat_file(p.jwks_file);
        if (now_sig == seen) {
            continue;
        }
        seen = now_sig;
        auto loaded = core::load_local_jwks(p);
        if (!loaded) {
            // Keep the last good keys: a half-written or broken file must not drop them.
            if (log_enabled(core::log_level::warn)) {
                log_line(core::log_level::warn, "jwks file reload failed")
                    .str("provider", p.name)
                    .str("error", loaded.error().message)
                    .emit();
            }
            st.stats->fetch_error.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        publish(i, loaded->keys);
        set_status(i, "ready");
        st.stats->fetch_ok.fetch_add(1, std::memory_order_relaxed);
        st.stats->last_success_unix.store(unix_now(), std::memory_order_relaxed);
        log_line(core::log_level::info, "jwks file reloaded")
            .str("provider", p.name)
            .num("keys", static_cast<std::uint64_t>(loaded->keys->size()))
            .emit();
    }
}

} // namespace jwtgate::proxy
