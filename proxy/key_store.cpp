// Per-provider key sets: atomic publication and the startup load of local sources.
#include "proxy/key_store.hpp"

#include "core/key_source.hpp"
#include "proxy/log.hpp"

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

void load_local_key_sets(const core::config& cfg, key_store& store) {
    for (std::size_t i = 0; i < cfg.providers.size(); ++i) {
        const auto& p = cfg.providers[i];
        if (p.remote()) {
            continue;
        }
        auto loaded = core::load_local_jwks(p);
        if (!loaded) {
            log_line(core::log_level::error, "key set not loaded")
                .str("provider", p.name)
                .str("error", loaded.error().message)
                .emit();
            continue;
        }
        for (const auto& s : loaded->skipped) {
            if (log_enabled(core::log_level::warn)) {
                log_line(core::log_level::warn, "key skipped")
                    .str("provider", p.name)
                    .num("index", static_cast<std::uint64_t>(s.index))
                    .str("kid", s.kid)
                    .str("reason", make_error_code(s.reason).message())
                    .emit();
            }
        }
        if (log_enabled(core::log_level::info)) {
            log_line(core::log_level::info, "key set loaded")
                .str("provider", p.name)
                .num("keys", static_cast<std::uint64_t>(loaded->keys->size()))
                .emit();
        }
        store.set(i, loaded->keys);
    }
}

} // namespace jwtgate::proxy
