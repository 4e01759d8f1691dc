// Per-provider key sets: atomic publication.
#include "proxy/key_store.hpp"

#include <algorithm>

namespace jwtgate::proxy {

key_store::key_store(std::size_t providers)
    : size_(providers), slots_(std::make_unique<slot[]>(providers)),
      snapshot_(std::make_shared<const snapshot_type>(providers)) {}

std::shared_ptr<const core::key_set> key_store::get(std::size_t i) const {
    return slots_[i].keys.load(std::memory_order_acquire);
}

void key_store::set(std::size_t i, std::shared_ptr<const core::key_set> keys) {
    // Writers are rare (refreshes); the mutex only orders concurrent publications.
    std::lock_guard lock(publish_);
    slots_[i].keys.store(std::move(keys), std::memory_order_release);
    auto next = std::make_shared<snapshot_type>(size_);
    for (std::size_t k = 0; k < size_; ++k) {
        (*next)[k] = slots_[k].keys.load(std::memory_order_acquire);
    }
    snapshot_.store(std::move(next), std::memory_order_release);
}

std::shared_ptr<const key_store::snapshot_type> key_store::snapshot() const {
    return snapshot_.load(std::memory_order_acquire);
}

std::int64_t key_store::retry_after(std::size_t i, std::int64_t now) const noexcept {
    if (i >= size_) {
        return 1;
    }
    const auto next = slots_[i].next_attempt.load(std::memory_order_relaxed);
    return std::max<std::int64_t>(1, next - now);
}

void key_store::set_next_attempt(std::size_t i, std::int64_t unix_time) noexcept {
    if (i < size_) {
        slots_[i].next_attempt.store(unix_time, std::memory_order_relaxed);
    }
}

} // namespace jwtgate::proxy
