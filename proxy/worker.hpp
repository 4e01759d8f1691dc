// The shared server state, the applied configuration (a generation), and one worker: an
// io_context run by exactly one thread, its upstream pool and its sessions (a
// single-threaded io_context is an implicit strand).
#pragma once

#include "core/authorize.hpp"
#include "core/token_cache.hpp"
#include "proxy/jwks_fetcher.hpp"
#include "proxy/key_store.hpp"
#include "proxy/upstream_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

namespace jwtgate::proxy {

class metrics;

// One applied configuration and everything built from it. Immutable once published: a
// reload publishes a new generation, and every request keeps the one it started with
// until it ends, so a reload never changes a request in flight.
struct generation {
    std::uint64_t number = 0; // 1 at startup, +1 per applied reload
    std::shared_ptr<const core::config> cfg;
    std::shared_ptr<core::token_cache> cache;
    std::shared_ptr<const core::authorizer> auth;
    std::shared_ptr<key_store> keys; // fed by `sources`
    provider_sources sources;        // [provider index]
    std::shared_ptr<const upstream_target> upstream;
    // listen.tls's certificate and key (null: plain HTTP). A reload reads the files again,
    // so a rotated certificate applies to new connections.
    std::shared_ptr<net::ssl::context> server_tls;
};

// Read by every worker.
struct server_state {
    // The newest generation; the workers get it by a post (worker::apply).
    std::atomic<std::shared_ptr<const generation>> current;
    jwks_fetcher* fetcher = nullptr; // refreshes keys on wait_for_keys (null: none)
    metrics* stats = nullptr;        // never null while serving
    std::atomic<bool> draining{false};
    std::atomic<std::int64_t> open_connections{0};
};

class session;

struct worker {
    worker(server_state& st, std::shared_ptr<const generation> g, std::size_t max_idle);
    ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    // Makes `g` the generation of this worker's new requests; runs on this worker.
    void apply(std::shared_ptr<const generation> g, std::size_t max_idle);

    // Closes the connections that wait for a next request (drain); runs on this worker.
    void close_idle_sessions();

    server_state& state;
    std::shared_ptr<const generation> gen; // touched only on this worker's thread
    std::unique_ptr<net::io_context> ctx;  // before the pool: the pool and sessions use it
    upstream_pool pool;
    std::list<session*> sessions;
};

} // namespace jwtgate::proxy
