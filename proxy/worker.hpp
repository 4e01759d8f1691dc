// The shared server state and one worker: an io_context run by exactly one thread, its
// upstream pool and its sessions (a single-threaded io_context is an implicit strand).
#pragma once

#include "core/authorize.hpp"
#include "proxy/key_store.hpp"
#include "proxy/upstream_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

namespace jwtgate::proxy {

// Read by every worker; written only at startup (and by atomics).
class jwks_fetcher;
class metrics;

struct server_state {
    std::shared_ptr<const core::config> cfg;
    std::shared_ptr<const core::authorizer> auth;
    key_store* keys = nullptr;
    jwks_fetcher* fetcher = nullptr; // refreshes keys on wait_for_keys (null: none)
    metrics* stats = nullptr;        // never null while serving
    std::string upstream_authority;  // host[:port] of upstream.url (Host fallback)
    std::atomic<bool> draining{false};
    std::atomic<std::int64_t> open_connections{0};
};

class session;

struct worker {
    worker(server_state& st, net::ssl::context* upstream_tls, std::size_t max_idle);
    ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    // Closes the connections that wait for a next request (drain); runs on this worker.
    void close_idle_sessions();

    server_state& state;
    std::unique_ptr<net::io_context> ctx; // first: the pool and sessions use it
    upstream_pool pool;
    std::list<session*> sessions;
};

} // namespace jwtgate::proxy
