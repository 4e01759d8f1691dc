// Keeps every provider's key set fresh without blocking a worker: asynchronous JWKS
// (and discovery) fetches on their own strand, scheduled by core::jwks_policy, coalesced
// unknown-kid refetches, jwks_file polling, staleness, and per-provider readiness.
#pragma once

#include "core/config.hpp"
#include "core/jwks_policy.hpp"
#include "core/token_cache.hpp"
#include "proxy/key_store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace jwtgate::proxy {

// Counters of one provider, read by /metrics.
struct provider_fetch_stats {
    std::atomic<std::uint64_t> fetch_ok{0};
    std::atomic<std::uint64_t> fetch_error{0};
    std::atomic<std::int64_t> last_success_unix{0}; // 0 = never
};

class jwks_fetcher : public std::enable_shared_from_this<jwks_fetcher> {
  public:
    jwks_fetcher(boost::asio::io_context& ioc, std::shared_ptr<const core::config> cfg,
                 std::shared_ptr<key_store> store, std::shared_ptr<core::token_cache> cache);
    ~jwks_fetcher();
    jwks_fetcher(const jwks_fetcher&) = delete;
    jwks_fetcher& operator=(const jwks_fetcher&) = delete;

    // Starts the first fetch of every remote provider (asynchronously: returns at once)
    // and the polling of jwks_file providers. Local sources must already be loaded.
    void start();

    // Stops timers and polling; in-flight fetches end by their deadline.
    void stop();

    // Asks for fresh keys of provider `i` (unknown kid, or keys never loaded). `done` is
    // posted to `caller` once: when the coalesced fetch ends, or at once when the policy
    // refuses a new fetch (the last attempt is younger than jwks_min_refresh_interval).
    // A fetch never outlasts jwks_fetch_timeout, so neither does the wait.
    void await_refresh(std::size_t i, boost::asio::any_io_executor caller,
                       std::function<void()> done);

    // "ready", or why not ("loading", "fetch failed: ...", "stale: ...", "no usable key").
    std::string status(std::size_t i) const;
    bool all_ready() const;

    const provider_fetch_stats& stats(std::size_t i) const;
    std::size_t size() const noexcept { return providers_.size(); }

  private:
    struct waiter {
        boost::asio::any_io_executor executor;
        std::function<void()> done;
    };
    struct provider_state;

    boost::asio::awaitable<void> run_remote(std::size_t i);
    boost::asio::awaitable<void> fetch_once(std::size_t i);
    boost::asio::awaitable<void> run_file_watch(std::size_t i);
    void set_status(std::size_t i, std::string s);
    void publish(std::size_t i, std::shared_ptr<const core::key_set> keys);
    void notify_waiters(provider_state& st);

    boost::asio::io_context& ioc_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    std::shared_ptr<const core::config> cfg_;
    std::shared_ptr<key_store> store_;
    std::shared_ptr<core::token_cache> cache_;
    std::vector<std::unique_ptr<provider_state>> providers_;
    std::atomic<bool> stopped_{false};
    mutable std::mutex status_mutex_;
};

} // namespace jwtgate::proxy
