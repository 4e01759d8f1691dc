// Tests for core/jwks_policy: schedule, Cache-Control, backoff, unknown-kid floor, staleness.
#include "core/jwks_policy.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace jwtgate::core;
using namespace std::chrono_literals;
namespace bdata = boost::unit_test::data;

namespace {

const mono_time t0 = mono_time{} + 1000h;

struct cc_row {
    const char* name;
    const char* header;
    std::optional<millis> expected;
};
std::ostream& operator<<(std::ostream& os, const cc_row& r) {
    return os << r.name;
}

const cc_row cc_rows[] = {
    {"absent", "", std::nullopt},
    {"public_only", "public", std::nullopt},
    {"max_age", "max-age=300", millis(300s)},
    {"max_age_with_others", "public, max-age=60, must-revalidate", millis(60s)},
    {"upper_case", "MAX-AGE=5", millis(5s)},
    {"quoted", "max-age=\"7\"", millis(7s)},
    {"zero", "max-age=0", millis(0)},
    {"no_cache", "no-cache", millis(0)},
    {"no_store_wins", "max-age=600, no-store", millis(0)},
    {"garbage_value", "max-age=abc", std::nullopt},
    {"negative", "max-age=-5", std::nullopt},
    {"trailing_junk", "max-age=5x", std::nullopt},
    {"no_value", "max-age", std::nullopt},
    {"huge", "max-age=99999999999999999999999", millis(std::chrono::seconds(1LL << 31))},
    {"s_maxage_ignored", "s-maxage=10", std::nullopt},
};

jwks_timing timing(millis refresh = 10min, millis floor = 30s, millis stale = 24h) {
    return {refresh, floor, stale};
}

} // namespace

BOOST_AUTO_TEST_SUITE(jwks_policy_tests)

BOOST_DATA_TEST_CASE(cache_control, bdata::make(cc_rows), row) {
    auto got = cache_control_max_age(row.header);
    BOOST_TEST(got.has_value() == row.expected.has_value());
    if (got && row.expected) {
        BOOST_TEST(got->count() == row.expected->count());
    }
}

BOOST_AUTO_TEST_CASE(success_schedules_refresh_interval) {
    jwks_policy p(timing());
    p.fetch_started(t0);
    BOOST_TEST(p.in_flight());
    p.fetch_succeeded(t0, std::nullopt);
    BOOST_TEST(!p.in_flight());
    BOOST_TEST(p.ever_succeeded());
    BOOST_TEST((p.next_fetch() == t0 + 10min));
}

BOOST_AUTO_TEST_CASE(max_age_below_interval_is_honoured) {
    jwks_policy p(timing());
    p.fetch_started(t0);
    p.fetch_succeeded(t0, millis(120s));
    BOOST_TEST((p.next_fetch() == t0 + 120s));
}

BOOST_AUTO_TEST_CASE(max_age_above_interval_is_capped) {
    jwks_policy p(timing());
    p.fetch_started(t0);
    p.fetch_succeeded(t0, millis(3600s));
    BOOST_TEST((p.next_fetch() == t0 + 10min));
}

BOOST_AUTO_TEST_CASE(max_age_below_floor_is_raised_to_floor) {
    jwks_policy p(timing());
    p.fetch_started(t0);
    p.fetch_succeeded(t0, millis(0));
    BOOST_TEST((p.next_fetch() == t0 + 30s));
}

BOOST_AUTO_TEST_CASE(backoff_doubles_to_cap_with_jitter_bounds) {
    jwks_policy p(timing());
    const millis expected[] = {1s, 2s, 4s, 8s, 16s, 32s, 60s, 60s, 60s};
    mono_time now = t0;
    for (auto base : expected) {
        p.fetch_started(now);
        p.fetch_failed(now, 0.5); // factor 1.0
        BOOST_TEST((p.next_fetch() - now == base));
        now = p.next_fetch();
    }
    BOOST_TEST(p.consecutive_failures() == 9u);
    p.fetch_started(now);
    p.fetch_failed(now, 0.0);
    BOOST_TEST((p.next_fetch() - now == millis(48s)));
    p.fetch_started(now);
    p.fetch_failed(now, 0.999999);
    auto d = std::chrono::duration_cast<millis>(p.next_fetch() - now);
    BOOST_TEST(d.count() <= 72000);
    BOOST_TEST(d.count() >= 71999);
}

BOOST_AUTO_TEST_CASE(backoff_cap_is_refresh_interval_when_lower) {
    jwks_policy p(timing(5s, 1s));
    mono_time now = t0;
    for (int i = 0; i < 6; ++i) {
        p.fetch_started(now);
        p.fetch_failed(now, 0.5);
        now = p.next_fetch();
    }
    p.fetch_started(now);
    p.fetch_failed(now, 0.5);
    BOOST_TEST((p.next_fetch() - now == millis(5s)));
}

BOOST_AUTO_TEST_CASE(success_resets_backoff) {
    jwks_policy p(timing());
    for (int i = 0; i < 4; ++i) {
        p.fetch_started(t0);
        p.fetch_failed(t0, 0.5);
    }
    p.fetch_started(t0);
    p.fetch_succeeded(t0, std::nullopt);
    BOOST_TEST(p.consecutive_failures() == 0u);
    p.fetch_started(t0);
    p.fetch_failed(t0, 0.5);
    BOOST_TEST((p.next_fetch() - t0 == millis(1s)));
}

BOOST_AUTO_TEST_CASE(unknown_kid_floor_counts_from_last_attempt_start) {
    jwks_policy p(timing());
    BOOST_TEST((p.unknown_kid(t0) == refetch_verdict::start));
    p.fetch_started(t0);
    BOOST_TEST((p.unknown_kid(t0 + 1s) == refetch_verdict::join));
    p.fetch_failed(t0 + 2s, 0.5);
    // A failed attempt counts as "last fetch" too.
    BOOST_TEST((p.unknown_kid(t0 + 29s) == refetch_verdict::refuse));
    BOOST_TEST((p.unknown_kid(t0 + 30s - 1ms) == refetch_verdict::refuse));
    BOOST_TEST((p.unknown_kid(t0 + 30s) == refetch_verdict::start));
}

BOOST_AUTO_TEST_CASE(unknown_kid_flood_allows_one_fetch_per_floor) {
    jwks_policy p(timing(10min, 30s));
    int fetches = 0;
    // 10 minutes of an unknown kid every 100 ms: at most one fetch per 30 s window.
    for (millis at{0}; at < millis(10min); at += 100ms) {
        const mono_time now = t0 + at;
        switch (p.unknown_kid(now)) {
        case refetch_verdict::start:
            ++fetches;
            p.fetch_started(now);
            p.fetch_succeeded(now + 50ms, std::nullopt);
            break;
        case refetch_verdict::join:
        case refetch_verdict::refuse: break;
        }
    }
    BOOST_TEST(fetches == 20);
}

BOOST_AUTO_TEST_CASE(staleness_after_max_stale_without_success) {
    jwks_policy p(timing(10min, 30s, 1h));
    BOOST_TEST(!p.stale(t0 + 1000h)); // never loaded is not "stale", just unloaded
    p.fetch_started(t0);
    p.fetch_succeeded(t0, std::nullopt);
    BOOST_TEST(!p.stale(t0 + 1h));
    BOOST_TEST(p.stale(t0 + 1h + 1ms));
}

BOOST_AUTO_TEST_CASE(retry_after_rounds_up_and_is_at_least_one) {
    jwks_policy p(timing());
    BOOST_TEST(p.retry_after_seconds(t0) == 1);
    p.fetch_started(t0);
    BOOST_TEST(p.retry_after_seconds(t0) == 1);
    p.fetch_failed(t0, 1.0); // 1.2 s
    BOOST_TEST(p.retry_after_seconds(t0) == 2);
    BOOST_TEST(p.retry_after_seconds(t0 + 1100ms) == 1);
    BOOST_TEST(p.retry_after_seconds(t0 + 5s) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
