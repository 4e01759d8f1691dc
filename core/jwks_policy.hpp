// When to fetch a provider's JWKS: scheduled refresh, Cache-Control, failure backoff
// with jitter, the unknown-kid refetch floor and staleness. Pure: driven only by `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace jwtgate::core {

using mono_clock = std::chrono::steady_clock;
using mono_time = mono_clock::time_point;
using millis = std::chrono::milliseconds;

struct jwks_timing {
    millis refresh_interval = std::chrono::minutes(10);
    millis min_refresh_interval = std::chrono::seconds(30);
    millis max_stale = std::chrono::hours(24);
};

// The first failure is retried after 1 s, doubling up to this cap (or the refresh
// interval if lower), each delay scaled by a jitter factor in [0.8, 1.2].
inline constexpr millis backoff_initial = std::chrono::seconds(1);
inline constexpr millis backoff_cap = std::chrono::seconds(60);

// What an unknown `kid` may cause (SPEC "JWKS cache").
enum class refetch_verdict {
    start,  // no fetch in flight and the last attempt is older than the floor: fetch now
    join,   // a fetch is in flight: wait for it
    refuse, // the last attempt is too recent: answer with the keys we have
};

// Parses Cache-Control for the freshness lifetime: max-age=N (seconds), no-cache and
// no-store count as 0 (RFC 9111 5.2.2). nullopt when absent or unparseable.
std::optional<millis> cache_control_max_age(std::string_view header) noexcept;

// One provider's fetch schedule. Not thread-safe: owned by the fetcher's strand.
class jwks_policy {
  public:
    explicit jwks_policy(jwks_timing t) noexcept : t_(t) {}

    // A fetch (scheduled, initial or unknown-kid) starts now.
    void fetch_started(mono_time now) noexcept;

    // The fetch produced a usable key set; `max_age` from Cache-Control if any.
    void fetch_succeeded(mono_time now, std::optional<millis> max_age) noexcept;

    // The fetch failed (network, status, malformed, no usable key). `jitter` in [0, 1)
    // (a random draw by the caller) spreads retries of many instances.
    void fetch_failed(mono_time now, double jitter) noexcept;

    // Whether an unknown kid at `now` may start, join, or must not cause a fetch.
    refetch_verdict unknown_kid(mono_time now) const noexcept;

    // When the next scheduled fetch is due (meaningful when no fetch is in flight).
    mono_time next_fetch() const noexcept { return next_; }

    bool in_flight() const noexcept { return in_flight_; }
    bool ever_succeeded() const noexcept { return last_success_.has_value(); }
    std::optional<mono_time> last_success() const noexcept { return last_success_; }
    unsigned consecutive_failures() const noexcept { return failures_; }

    // True when keys were loaded but no good fetch happened for more than max_stale:
    // the key set must be dropped (the provider is as if never loaded).
    bool stale(mono_time now) const noexcept;

    // Seconds until the next attempt, at least 1 (the Retry-After of a 503).
    std::int64_t retry_after_seconds(mono_time now) const noexcept;

  private:
    jwks_timing t_;
    bool in_flight_ = false;
    std::optional<mono_time> last_attempt_;
    std::optional<mono_time> last_success_;
    mono_time next_{};
    unsigned failures_ = 0;
};

} // namespace jwtgate::core
