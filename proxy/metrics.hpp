// Process metrics in Prometheus text format 0.0.4. Hot-path updates are relaxed atomics;
// label sets are interned once and never removed, so updates take no exclusive lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace jwtgate::proxy {

// Upper bounds (seconds) of the request duration histogram.
inline constexpr std::array<double, 14> duration_buckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

class metrics {
  public:
    metrics() = default;
    metrics(const metrics&) = delete;
    metrics& operator=(const metrics&) = delete;

    // One finished request: its rule label ("/prefix" or "default"), outcome label,
    // and total duration.
    void request_done(std::string_view rule, std::string_view outcome, double seconds);

    // An upstream failure by kind: connect, timeout, reset, tls, protocol.
    void upstream_error(std::string_view kind);

    void claim_headers_dropped(std::uint64_t n) {
        claim_headers_dropped_.fetch_add(n, std::memory_order_relaxed);
    }
    void connection_opened() { connections_open_.fetch_add(1, std::memory_order_relaxed); }
    void connection_closed() { connections_open_.fetch_sub(1, std::memory_order_relaxed); }
    std::int64_t connections_open() const {
        return connections_open_.load(std::memory_order_relaxed);
    }

    // A SIGHUP reload: applied, or rejected (the old configuration stays in force).
    void config_reload(bool applied) {
        (applied ? reloads_ok_ : reloads_failed_).fetch_add(1, std::memory_order_relaxed);
    }
    // The configuration in force was loaded at `unix_time` (startup or an applied reload).
    void config_loaded(std::int64_t unix_time) {
        last_reload_unix_.store(unix_time, std::memory_order_relaxed);
    }

    // The values owned elsewhere (the current configuration's providers and token cache,
    // the pools), read by the caller when scraped.
    struct provider_values {
        std::string name;
        std::uint64_t fetch_ok = 0;
        std::uint64_t fetch_error = 0;
        std::int64_t last_success_unix = 0;
        std::size_t keys = 0;
    };
    struct sources {
        std::vector<provider_values> providers;
        std::uint64_t cache_hits = 0;
        std::uint64_t cache_misses = 0;
        std::uint64_t cache_size = 0;
        std::int64_t upstream_idle = 0;
    };
    // Everything as Prometheus text.
    std::string render(const sources& src) const;

  private:
    struct counter {
        std::atomic<std::uint64_t> value{0};
    };
    counter& intern(std::map<std::string, std::unique_ptr<counter>, std::less<>>& m,
                    std::string_view key);

    mutable std::shared_mutex mutex_;
    std::map<std::string, std::unique_ptr<counter>, std::less<>> requests_; // "rule\0outcome"
    std::map<std::string, std::unique_ptr<counter>, std::less<>> upstream_errors_;
    std::array<std::atomic<std::uint64_t>, duration_buckets.size()> buckets_{};
    std::atomic<std::uint64_t> duration_count_{0};
    std::atomic<std::uint64_t> duration_sum_us_{0};
    std::atomic<std::uint64_t> claim_headers_dropped_{0};
    std::atomic<std::int64_t> connections_open_{0};
    std::atomic<std::uint64_t> reloads_ok_{0};
    std::atomic<std::uint64_t> reloads_failed_{0};
    std::atomic<std::int64_t> last_reload_unix_{0};
};

} // namespace jwtgate::proxy
