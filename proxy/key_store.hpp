// Per-provider key sets shared by every worker: swapped atomically, read without locks.
#pragma once

#include "core/config.hpp"
#include "core/jwks.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace jwtgate::proxy {

// Holds one immutable key set per provider (index = position in config.providers). A
// writer (a key source of the fetcher) replaces a provider's set with set();
// readers take snapshot(), one atomic load, and pass it to authorizer::decide.
class key_store {
  public:
    using snapshot_type = std::vector<std::shared_ptr<const core::key_set>>;

    explicit key_store(std::size_t providers);
    key_store(const key_store&) = delete;
    key_store& operator=(const key_store&) = delete;

    std::size_t size() const noexcept { return size_; }

    // The current key set of provider `i` (null: never loaded, or dropped as stale).
    std::shared_ptr<const core::key_set> get(std::size_t i) const;

    // Replaces provider `i`'s key set (null drops it) and publishes a new snapshot.
    void set(std::size_t i, std::shared_ptr<const core::key_set> keys);

    // Every provider's current set, in config order; usable as core::key_sets.
    std::shared_ptr<const snapshot_type> snapshot() const;

    // Seconds a client should wait before retrying a 503 for provider `i` (at least 1):
    // the time to the provider's next scheduled fetch attempt, when one is known.
    std::int64_t retry_after(std::size_t i, std::int64_t now) const noexcept;
    void set_next_attempt(std::size_t i, std::int64_t unix_time) noexcept;

  private:
    struct slot {
        std::atomic<std::shared_ptr<const core::key_set>> keys;
        std::atomic<std::int64_t> next_attempt{0};
    };
    std::size_t size_;
    std::unique_ptr<slot[]> slots_;
    std::mutex publish_;
    std::atomic<std::shared_ptr<const snapshot_type>> snapshot_;
};

} // namespace jwtgate::proxy
