// Tests for the verified-token cache: expiry, provider separation, LRU bound, key removal,
// and concurrent use.
#include "core/token_cache.hpp"

#include "core/jwks.hpp"

#include <boost/json/value.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace bdata = boost::unit_test::data;
namespace json = boost::json;
using jwtgate::core::cached_token;
using jwtgate::core::jwk;
using jwtgate::core::key_set;
using jwtgate::core::token_cache;

namespace {

constexpr double now = 1'700'000'000.0;

// A key set holding keys with these fingerprints (the material itself plays no part).
key_set keys_with(std::initializer_list<const char*> fingerprints) {
    std::vector<std::shared_ptr<const jwk>> keys;
    for (const char* fp : fingerprints) {
        auto k = std::make_shared<jwk>();
        k->fingerprint = fp;
        keys.push_back(std::move(k));
    }
    return key_set(std::move(keys));
}

// An entry whose claims record which token it was made for.
std::shared_ptr<const cached_token> entry(std::string_view token, std::string provider,
                                          std::string fingerprint = "k1",
                                          double expires_at = now + 60) {
    auto e = std::make_shared<cached_token>();
    e->provider = std::move(provider);
    e->key_fingerprint = std::move(fingerprint);
    e->claims = std::make_shared<const json::object>(json::object{{"tok", token}});
    e->expires_at = expires_at;
    return e;
}

std::string token_of(const std::shared_ptr<const cached_token>& e) {
    return std::string(e->claims->at("tok").as_string());
}

} // namespace

BOOST_AUTO_TEST_SUITE(token_cache_suite)

BOOST_AUTO_TEST_CASE(hit_returns_the_inserted_entry) {
    token_cache cache(100);
    const key_set keys = keys_with({"k1"});
    const auto e = entry("t1", "idp");
    cache.insert("t1", e);
    const auto found = cache.find("t1", "idp", now, keys);
    BOOST_TEST(found == e);
    BOOST_TEST(cache.hits() == 1u);
    BOOST_TEST(cache.misses() == 0u);
    BOOST_TEST(cache.size() == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_token_misses) {
    token_cache cache(100);
    const key_set keys = keys_with({"k1"});
    cache.insert("t1", entry("t1", "idp"));
    BOOST_TEST(cache.find("t2", "idp", now, keys) == nullptr);
    BOOST_TEST(cache.find("t1x", "idp", now, keys) == nullptr);
    BOOST_TEST(cache.find("t", "idp", now, keys) == nullptr);
    BOOST_TEST(cache.hits() == 0u);
    BOOST_TEST(cache.misses() == 3u);
    BOOST_TEST(cache.size() == 1u);
}

namespace {

struct expiry_row {
    const char* name;
    double lookup_at;
    bool hit;
};
std::ostream& operator<<(std::ostream& os, const expiry_row& r) {
    return os << r.name;
}

const expiry_row expiries[] = {
    {"long_before", now - 3600, true},   {"one_second_before", now + 59, true},
    {"just_before", now + 59.999, true}, {"at_expiry_is_a_miss", now + 60, false},
    {"after", now + 61, false},
};

} // namespace

BOOST_DATA_TEST_CASE(expiry_boundary, bdata::make(expiries), row) {
    token_cache cache(100);
    const key_set keys = keys_with({"k1"});
    cache.insert("t1", entry("t1", "idp", "k1", now + 60));
    BOOST_TEST((cache.find("t1", "idp", row.lookup_at, keys) != nullptr) == row.hit);
    // An expired entry is dropped: it does not come back for an earlier `now`.
    BOOST_TEST(cache.size() == (row.hit ? 1u : 0u));
    BOOST_TEST((cache.find("t1", "idp", now - 3600, keys) != nullptr) == row.hit);
}

BOOST_AUTO_TEST_CASE(providers_are_separate) {
    token_cache cache(100);
    const key_set keys = keys_with({"k1"});
    const auto a = entry("t1", "a");
    cache.insert("t1", a);
    BOOST_TEST(cache.find("t1", "b", now, keys) == nullptr);
    const auto b = entry("t1", "b");
    cache.insert("t1", b);
    BOOST_TEST(cache.size() == 2u);
    BOOST_TEST(cache.find("t1", "a", now, keys) == a);
    BOOST_TEST(cache.find("t1", "b", now, keys) == b);
}

// (token, provider) pairs whose concatenations coincide must not be confused.
BOOST_AUTO_TEST_CASE(key_parts_do_not_run_together) {
    token_cache cache(100);
    const key_set keys = keys_with({"k1"});
    const auto first = entry("ab", "c");
    cache.insert("ab", first);
    BOOST_TEST(cache.find("a", "bc", now, keys) == nullptr);
    BOOST_TEST(cache.find("abc", "", now, keys) == nullptr);
    BOOST_TEST(cache.find("ab", "c", now, keys) == first);
}

BOOST_AUTO_TEST_CASE(reinsert_replaces_without_growing) {
    token_cache cache(100);
    const key_set keys = keys_with({"k1"});
    cache.insert("t1", entry("t1", "idp", "k1", now + 10));
    const auto newer = entry("t1", "idp", "k1", now + 100);
    cache.insert("t1", newer);
    BOOST_TEST(cache.size() == 1u);
    BOOST_TEST(cache.find("t1", "idp", now + 50, keys) == newer);
}

BOOST_AUTO_TEST_CASE(lru_eviction_at_capacity) {
    token_cache cache(3);
    const key_set keys = keys_with({"k1"});
    for (const char* t : {"t1", "t2", "t3"})
        cache.insert(t, entry(t, "idp"));
    BOOST_REQUIRE(cache.find("t1", "idp", now, keys) != nullptr); // t2 is now the oldest
    cache.insert("t4", entry("t4", "idp"));
    BOOST_TEST(cache.size() == 3u);
    BOOST_TEST(cache.find("t2", "idp", now, keys) == nullptr);
    for (const char* t : {"t1", "t3", "t4"}) {
        const auto found = cache.find(t, "idp", now, keys);
        BOOST_REQUIRE(found != nullptr);
        BOOST_TEST(token_of(found) == t);
    }
}

// A re-insert counts as a use: the replaced entry is not the next victim.
BOOST_AUTO_TEST_CASE(reinsert_refreshes_recency) {
    token_cache cache(2);
    const key_set keys = keys_with({"k1"});
    cache.insert("t1", entry("t1", "idp"));
    cache.insert("t2", entry("t2", "idp"));
    cache.insert("t1", entry("t1", "idp"));
    cache.insert("t3", entry("t3", "idp"));
    BOOST_TEST(cache.find("t2", "idp", now, keys) == nullptr);
    BOOST_TEST(cache.find("t1", "idp", now, keys) != nullptr);
    BOOST_TEST(cache.find("t3", "idp", now, keys) != nullptr);
}

namespace {

const std::size_t capacities[] = {1, 63, 64, 127, 128, 1000, 1025, 10000};

} // namespace

// Whatever the sharding, the cache fills up to exactly its capacity and never beyond.
BOOST_DATA_TEST_CASE(size_bounded_by_capacity, bdata::make(capacities), capacity) {
    token_cache cache(capacity);
    BOOST_TEST(cache.capacity() == capacity);
    const key_set keys = keys_with({"k1"});
    const std::size_t n = capacity * 8;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string t = "token-" + std::to_string(i);
        cache.insert(t, entry(t, "idp"));
        BOOST_REQUIRE(cache.size() <= capacity);
    }
    BOOST_TEST(cache.size() == capacity);
    // The most recent insert always survives.
    const std::string last = "token-" + std::to_string(n - 1);
    BOOST_TEST(cache.find(last, "idp", now, keys) != nullptr);
}

BOOST_AUTO_TEST_CASE(entry_whose_key_left_the_set_is_dropped) {
    token_cache cache(100);
    cache.insert("t1", entry("t1", "idp", "k1"));
    BOOST_TEST(cache.find("t1", "idp", now, keys_with({"k2"})) == nullptr);
    BOOST_TEST(cache.size() == 0u);
    // Dropped for good: the key coming back does not revive it.
    BOOST_TEST(cache.find("t1", "idp", now, keys_with({"k1", "k2"})) == nullptr);
    BOOST_TEST(cache.misses() == 2u);
}

BOOST_AUTO_TEST_CASE(empty_key_set_drops_everything_found) {
    token_cache cache(100);
    cache.insert("t1", entry("t1", "idp", "k1"));
    BOOST_TEST(cache.find("t1", "idp", now, key_set{}) == nullptr);
    BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(drop_missing_keys_only_touches_the_provider) {
    token_cache cache(100);
    cache.insert("a1", entry("a1", "a", "k1"));
    cache.insert("a2", entry("a2", "a", "k2"));
    cache.insert("b1", entry("b1", "b", "k1"));
    cache.drop_missing_keys("a", keys_with({"k2"}));
    BOOST_TEST(cache.size() == 2u);
    const key_set all = keys_with({"k1", "k2"});
    BOOST_TEST(cache.find("a1", "a", now, all) == nullptr);
    BOOST_TEST(cache.find("a2", "a", now, all) != nullptr);
    BOOST_TEST(cache.find("b1", "b", now, all) != nullptr);
}

BOOST_AUTO_TEST_CASE(drop_missing_keys_across_shards) {
    token_cache cache(5000);
    for (int i = 0; i < 2000; ++i) {
        const std::string t = "t" + std::to_string(i);
        cache.insert(t, entry(t, "idp", i % 2 == 0 ? "even" : "odd"));
    }
    BOOST_REQUIRE(cache.size() == 2000u);
    cache.drop_missing_keys("idp", keys_with({"even"}));
    BOOST_TEST(cache.size() == 1000u);
    const key_set all = keys_with({"even", "odd"});
    BOOST_TEST(cache.find("t2", "idp", now, all) != nullptr);
    BOOST_TEST(cache.find("t3", "idp", now, all) == nullptr);
}

BOOST_AUTO_TEST_CASE(capacity_zero_disables) {
    token_cache cache(0);
    const key_set keys = keys_with({"k1"});
    cache.insert("t1", entry("t1", "idp"));
    BOOST_TEST(cache.size() == 0u);
    BOOST_TEST(cache.find("t1", "idp", now, keys) == nullptr);
    BOOST_TEST(cache.hits() == 0u);
    BOOST_TEST(cache.misses() == 1u);
}

BOOST_AUTO_TEST_CASE(null_entry_is_ignored) {
    token_cache cache(10);
    cache.insert("t1", nullptr);
    BOOST_TEST(cache.size() == 0u);
}

// Several threads insert and look up overlapping tokens (more than fit). Every hit must
// return the entry made for that token, the counters must add up, and the bound holds.
BOOST_DATA_TEST_CASE(concurrent_use, bdata::make({std::size_t{64}, std::size_t{2048}}), capacity) {
    constexpr int threads = 4;
    constexpr int iterations = 5000;
    constexpr int distinct = 3000;
    token_cache cache(capacity);
    const key_set keys = keys_with({"k1"});
    std::atomic<int> wrong{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < threads; ++w) {
        workers.emplace_back([&, w] {
            for (int i = 0; i < iterations; ++i) {
                // Half the lookups go to a small hot set, half sweep far more than fits.
                const std::string t = i % 2 == 0
                                          ? "hot" + std::to_string((i / 2 + w) % 16)
                                          : "tok" + std::to_string((i * 7 + w * 13) % distinct);
                if (const auto found = cache.find(t, "idp", now, keys)) {
                    if (token_of(found) != t || found->provider != "idp")
                        ++wrong;
                } else {
                    cache.insert(t, entry(t, "idp"));
                }
            }
        });
    }
    for (auto& t : workers)
        t.join();
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(cache.size() <= capacity);
    BOOST_TEST(cache.hits() + cache.misses() == std::uint64_t{threads} * iterations);
    BOOST_TEST(cache.hits() > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
