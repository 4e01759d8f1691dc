// Bounded, thread-safe cache of verified tokens (SPEC "Token cache"): a sharded LRU.
//
// Small caches (under 128 entries) use one shard, so eviction is exact LRU; larger ones
// use up to 16 shards of at least 64 entries each, and LRU holds per shard. The shard
// capacities add up to max_entries exactly, so the cache never holds more. With a
// capacity of 0 nothing is stored and every lookup counts as a miss.
#include "core/token_cache.hpp"

#include "core/jwks.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

namespace jwtgate::core {

namespace {

constexpr std::size_t max_shards = 16;
constexpr std::size_t min_entries_per_shard = 64;

std::size_t hash_key(std::string_view token, std::string_view provider) noexcept {
    const std::size_t h = std::hash<std::string_view>{}(token);
    const std::size_t p = std::hash<std::string_view>{}(provider);
    return h ^ (p + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
}

struct node {
    std::string token;
    std::string provider;
    std::size_t hash;
    std::shared_ptr<const cached_token> entry;
};

// Views into a node (list nodes never move), or into the caller's arguments for lookups.
struct node_key {
    std::string_view token;
    std::string_view provider;
    std::size_t hash;
};

struct node_key_hash {
    std::size_t operator()(const node_key& k) const noexcept { return k.hash; }
};

struct node_key_equal {
    bool operator()(const node_key& a, const node_key& b) const noexcept {
        return a.hash == b.hash && a.token == b.token && a.provider == b.provider;
    }
};

using lru_list = std::list<node>;

struct alignas(64) shard {
    std::mutex mutex;
    lru_list lru; // front: most recently used
    std::unordered_map<node_key, lru_list::iterator, node_key_hash, node_key_equal> index;
    std::size_t capacity = 0;
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> misses{0};

    void erase(lru_list::iterator it) {
        index.erase(node_key{it->token, it->provider, it->hash});
        lru.erase(it);
    }
};

} // namespace

struct token_cache::impl {
    std::size_t shard_count;
    std::unique_ptr<shard[]> shards;

    explicit impl(std::size_t capacity)
        : shard_count(std::clamp<std::size_t>(capacity / min_entries_per_shard, 1, max_shards)),
          shards(std::make_unique<shard[]>(shard_count)) {
        for (std::size_t i = 0; i < shard_count; ++i) {
            shards[i].capacity = capacity / shard_count + (i < capacity % shard_count ? 1 : 0);
        }
    }

    shard& shard_for(std::size_t hash) noexcept {
        // The map buckets use the low bits of the hash; the shard is chosen by the high ones.
        const std::uint64_t mixed = static_cast<std::uint64_t>(hash) * 0x9E3779B97F4A7C15ULL;
        return shards[static_cast<std::size_t>(mixed >> 32) % shard_count];
    }
};

token_cache::token_cache(std::size_t max_entries)
    : capacity_(max_entries), impl_(std::make_unique<impl>(max_entries)) {}

token_cache::~token_cache() = default;

std::shared_ptr<const cached_token> token_cache::find(std::string_view token,
                                                      std::string_view provider, double now,
                                                      const key_set& current_keys) {
    const node_key key{token, provider, hash_key(token, provider)};
    shard& s = impl_->shard_for(key.hash);
    std::lock_guard lock(s.mutex);
    const auto found = s.index.find(key);
    if (found == s.index.end()) {
        s.misses.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    const auto it = found->second;
    const cached_token& e = *it->entry;
    if (now >= e.expires_at || !current_keys.contains_fingerprint(e.key_fingerprint)) {
        s.erase(it);
        s.misses.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    s.lru.splice(s.lru.begin(), s.lru, it);
    s.hits.fetch_add(1, std::memory_order_relaxed);
    return it->entry;
}

void token_cache::insert(std::string_view token, std::shared_ptr<const cached_token> entry) {
    if (capacity_ == 0 || !entry)
        return;
    const std::string_view provider = entry->provider;
    const std::size_t hash = hash_key(token, provider);
    shard& s = impl_->shard_for(hash);
    if (s.capacity == 0)
        return;
    std::lock_guard lock(s.mutex);
    if (const auto found = s.index.find(node_key{token, provider, hash}); found != s.index.end()) {
        found->second->entry = std::move(entry);
        s.lru.splice(s.lru.begin(), s.lru, found->second);
        return;
    }
    if (s.lru.size() >= s.capacity)
        s.erase(std::prev(s.lru.end()));
    s.lru.push_front(node{std::string(token), std::string(provider), hash, std::move(entry)});
    const auto it = s.lru.begin();
    s.index.emplace(node_key{it->token, it->provider, hash}, it);
}

void token_cache::drop_missing_keys(std::string_view provider, const key_set& keys) {
    for (std::size_t i = 0; i < impl_->shard_count; ++i) {
        shard& s = impl_->shards[i];
        std::lock_guard lock(s.mutex);
        for (auto it = s.lru.begin(); it != s.lru.end();) {
            const auto next = std::next(it);
            if (it->provider == provider &&
                !keys.contains_fingerprint(it->entry->key_fingerprint)) {
                s.erase(it);
            }
            it = next;
        }
    }
}

std::size_t token_cache::size() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < impl_->shard_count; ++i) {
        shard& s = impl_->shards[i];
        std::lock_guard lock(s.mutex);
        n += s.lru.size();
    }
    return n;
}

std::uint64_t token_cache::hits() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < impl_->shard_count; ++i) {
        n += impl_->shards[i].hits.load(std::memory_order_relaxed);
    }
    return n;
}

std::uint64_t token_cache::misses() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < impl_->shard_count; ++i) {
        n += impl_->shards[i].misses.load(std::memory_order_relaxed);
    }
    return n;
}

} // namespace jwtgate::core
