// The JWKS fetch schedule: refresh interval, Cache-Control, backoff, unknown-kid floor.
#include "core/jwks_policy.hpp"

#include "core/ascii.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace jwtgate::core {

namespace {} // namespace

std::optional<millis> cache_control_max_age(std::string_view header) noexcept {
    std::optional<millis> result;
    while (!header.empty()) {
        auto comma = header.find(',');
        std::string_view directive = trim(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        auto eq = directive.find('=');
        std::string_view name = trim(directive.substr(0, eq));
        if (iequals(name, "no-cache") || iequals(name, "no-store")) {
            return millis(0); // wins over any max-age
        }
        if (!iequals(name, "max-age") || eq == std::string_view::npos) {
            continue;
        }
        std::string_view value = trim(directive.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        std::uint64_t seconds = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec == std::errc::result_out_of_range) {
            seconds = std::uint64_t{1} << 31; // RFC 9111 1.2.2: treat as "very large"
        } else if (ec != std::errc{} || end != value.data() + value.size()) {
            continue;
        }
        seconds = std::min<std::uint64_t>(seconds, std::uint64_t{1} << 31);
        result = std::chrono::duration_cast<millis>(std::chrono::seconds(seconds));
    }
    return result;
}

void jwks_policy::fetch_started(mono_time now) noexcept {
    in_flight_ = true;
    last_attempt_ = now;
}

void jwks_policy::fetch_succeeded(mono_time now, std::optional<millis> max_age) noexcept {
    in_flight_ = false;
    failures_ = 0;
    last_success_ = now;
    millis wait = t_.refresh_interval;
    if (max_age) {
        wait = std::min(wait, *max_age);
    }
    wait = std::max(wait, t_.min_refresh_interval);
    next_ = now + wait;
}

void jwks_policy::fetch_failed(mono_time now, double jitter) noexcept {
    in_flight_ = false;
    ++failures_;
    const millis cap = std::min(backoff_cap, t_.refresh_interval);
    millis base = backoff_initial;
    for (unsigned i = 1; i < failures_ && base < cap; ++i) {
        base *= 2;
    }
    base = std::min(base, cap);
    jitter = std::clamp(jitter, 0.0, 1.0);
    const double factor = 0.8 + 0.4 * jitter;
    next_ =
        now +
        millis(static_cast<millis::rep>(std::llround(static_cast<double>(base.count()) * factor)));
}

refetch_verdict jwks_policy::unknown_kid(mono_time now) const noexcept {
    if (in_flight_) {
        return refetch_verdict::join;
    }
    if (last_attempt_ && now - *last_attempt_ < t_.min_refresh_interval) {
        return refetch_verdict::refuse;
    }
    return refetch_verdict::start;
}

bool jwks_policy::stale(mono_time now) const noexcept {
    return last_success_ && now - *last_success_ > t_.max_stale;
}

std::int64_t jwks_policy::retry_after_seconds(mono_time now) const noexcept {
    if (in_flight_ || next_ <= now) {
        return 1;
    }
    auto ms = std::chrono::duration_cast<millis>(next_ - now).count();
    return std::max<std::int64_t>(1, (ms + 999) / 1000);
}

} // namespace jwtgate::core
