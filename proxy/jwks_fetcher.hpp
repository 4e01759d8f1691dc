// Keeps every provider's key set fresh without blocking a worker: asynchronous JWKS
// (and discovery) fetches, scheduled by core::jwks_policy, coalesced unknown-kid
// refetches, jwks_file polling, staleness and per-provider readiness. Key sources outlive
// a configuration: a reload rebinds the providers whose key-source settings are unchanged
// to their existing sources, keys and schedule included.
#pragma once

#include "core/config.hpp"
#include "core/jwks_policy.hpp"
#include "core/token_cache.hpp"
#include "proxy/key_store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace jwtgate::proxy {

// Counters of one key source, read by /metrics.
struct provider_fetch_stats {
    std::atomic<std::uint64_t> fetch_ok{0};
    std::atomic<std::uint64_t> fetch_error{0};
    std::atomic<std::int64_t> last_success_unix{0}; // 0 = never
};

// One provider's key source (remote JWKS, discovery, jwks_file or inline): its keys, fetch
// schedule, waiters and counters. Opaque outside the fetcher.
struct key_source;

// The sources bound to one configuration's providers, in config order.
using provider_sources = std::vector<std::shared_ptr<key_source>>;

// All state is touched only on the thread that runs `ioc` (a single-threaded io_context:
// jwtgate's control thread), except await_refresh, which any thread may call.
class jwks_fetcher : public std::enable_shared_from_this<jwks_fetcher> {
  public:
    explicit jwks_fetcher(boost::asio::io_context& ioc);
    ~jwks_fetcher();
    jwks_fetcher(const jwks_fetcher&) = delete;
    jwks_fetcher& operator=(const jwks_fetcher&) = delete;

    // Gives each provider i of `cfg` a source that publishes into `store` slot i (and drops
    // rotated-out keys from `cache`, which may be null): the current source with the same
    // key-source settings when there is one (keys, schedule and counters kept), else a new
    // one. New local sources are read now; new remote ones start fetching as soon as `ioc`
    // runs. Sources that no provider of `cfg` uses any more are stopped. Runs on `ioc`'s
    // thread, or before `ioc` runs.
    provider_sources bind(const core::config& cfg, const std::shared_ptr<key_store>& store,
                          const std::shared_ptr<core::token_cache>& cache);

    // Stops every source's timers and polling; in-flight fetches end by their deadline.
    void stop();

    // Asks for fresh keys of `source` (unknown kid, or keys never loaded). `done` is posted
    // to `caller` once: when the coalesced fetch ends, or at once when the policy refuses a
    // new fetch (the last attempt is younger than jwks_min_refresh_interval) or the source
    // is local or stopped. A fetch never outlasts jwks_fetch_timeout, so neither does the
    // wait. Callable from any thread.
    void await_refresh(const std::shared_ptr<key_source>& source,
                       boost::asio::any_io_executor caller, std::function<void()> done);

    // "ready", or why not ("loading", "fetch failed: ...", "stale: ...", ...).
    static std::string status(const key_source& s);
    static const provider_fetch_stats& stats(const key_source& s);

  private:
    boost::asio::awaitable<void> run_remote(std::shared_ptr<key_source> s);
    boost::asio::awaitable<void> fetch_once(key_source& s);
    boost::asio::awaitable<void> run_file_watch(std::shared_ptr<key_source> s);
    void start(const std::shared_ptr<key_source>& s);
    void load_local(key_source& s);
    void retire(key_source& s);

    boost::asio::io_context& ioc_;
    provider_sources active_; // the sources of the last bind()
    std::atomic<bool> stopped_{false};
};

} // namespace jwtgate::proxy
