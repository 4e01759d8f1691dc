// Bounded, thread-safe cache of verified tokens (SPEC "Token cache").
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace jwtgate::core {

class key_set;

struct cached_token {
    std::string provider;        // provider name
    std::string key_fingerprint; // key that verified it
    std::shared_ptr<const boost::json::object> claims;
    double expires_at = 0; // exp + skew, or insert time + 300
};

// Keyed by (whole token, provider). Sharded LRU; every operation is O(1) amortised and
// takes one shard lock. A capacity of 0 disables the cache.
class token_cache {
  public:
    explicit token_cache(std::size_t max_entries);
    ~token_cache();
    token_cache(const token_cache&) = delete;
    token_cache& operator=(const token_cache&) = delete;

    // The entry for this token and provider if present and `now < expires_at`, and its
    // key is still in `current_keys` (otherwise the entry is dropped). Counts hit/miss.
    std::shared_ptr<const cached_token> find(std::string_view token, std::string_view provider,
                                             double now, const key_set& current_keys);

    void insert(std::string_view token, std::shared_ptr<const cached_token> entry);

    // Drops every entry of `provider` whose key is not in `keys` (after a refresh).
    void drop_missing_keys(std::string_view provider, const key_set& keys);

    std::size_t size() const;
    std::size_t capacity() const noexcept { return capacity_; }
    std::uint64_t hits() const noexcept;
    std::uint64_t misses() const noexcept;

  private:
    struct impl;
    std::size_t capacity_;
    std::unique_ptr<impl> impl_;
};

} // namespace jwtgate::core
