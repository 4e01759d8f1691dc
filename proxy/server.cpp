// Server assembly: TLS contexts, key store, authorizer, workers, listener, signals, drain.
#include "proxy/server.hpp"

#include "proxy/admin.hpp"
#include "proxy/file_signature.hpp"
#include "proxy/jwks_fetcher.hpp"
#include "proxy/key_store.hpp"
#include "proxy/listener.hpp"
#include "proxy/log.hpp"
#include "proxy/metrics.hpp"
#include "proxy/small_server.hpp"
#include "proxy/tls.hpp"
#include "proxy/worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <exception>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

namespace jwtgate::proxy {

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr int exit_runtime = 2;

void run_worker(net::io_context& ctx) {
    for (;;) {
        try {
            ctx.run();
            return;
        } catch (const std::exception& e) {
            // A bug in one request must not stop the worker's other connections.
            log_failure(core::log_level::error, "worker", e.what());
        }
    }
}

using work_guard = net::executor_work_guard<net::io_context::executor_type>;

std::size_t idle_per_worker(const core::config& cfg, std::size_t workers) {
    const std::size_t max_idle = cfg.upstream.max_idle_connections;
    return max_idle == 0 ? 0 : std::max<std::size_t>(1, (max_idle + workers - 1) / workers);
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The server TLS context of a new generation. The listener keeps the `listen.tls` it was
// started with: when `next` names the same files they are read again (a rotated
// certificate), otherwise (a change that needs a restart) the running context stays.
bool server_tls_for(const core::listen_config& running, const core::listen_config& next,
                    const generation* previous, std::shared_ptr<net::ssl::context>& out,
                    std::string& error) {
    if (!running.tls) {
        return true;
    }
    const bool same_files = next.tls && next.tls->cert_file == running.tls->cert_file &&
                            next.tls->key_file == running.tls->key_file;
    if (previous != nullptr && !same_files) {
        out = previous->server_tls;
        return true;
    }
    out = make_server_tls(*running.tls, error);
    return out != nullptr;
}

// Builds what `cfg` needs at run time. Keeps `previous`'s upstream target (and so the
// pooled connections) when the upstream settings and CA file are unchanged, reads the
// listener's certificate again, and rebinds providers to their key sources
// (fetcher.bind). `running` is the listen section in effect (startup's). Null with `error`
// set when a TLS context cannot be built; nothing has changed then.
std::shared_ptr<const generation> build_generation(std::shared_ptr<const core::config> cfg,
                                                   const generation* previous,
                                                   const core::listen_config& running,
                                                   jwks_fetcher& fetcher, std::string& error) {
    auto g = std::make_shared<generation>();
    g->number = previous != nullptr ? previous->number + 1 : 1;
    if (!server_tls_for(running, cfg->listen, previous, g->server_tls, error)) {
        return nullptr;
    }
    if (previous != nullptr && same_upstream(*previous->upstream, cfg->upstream)) {
        g->upstream = previous->upstream;
    } else {
        g->upstream = make_upstream_target(cfg->upstream, error);
        if (!g->upstream) {
            return nullptr;
        }
    }
    // A new cache: entries verified under the old providers' policies must not be reused.
    g->cache = std::make_shared<core::token_cache>(cfg->token_cache_max_entries);
    g->auth = std::make_shared<const core::authorizer>(cfg, g->cache);
    g->keys = std::make_shared<key_store>(cfg->providers.size());
    g->cfg = std::move(cfg);
    g->sources = fetcher.bind(*g->cfg, g->keys, g->cache); // last: it stops unused sources
    return g;
}

// The running server as the control thread sees it: what reloads and the admin endpoints
// work on. Touched only on the control thread.
struct control_plane {
    server_state& st;
    jwks_fetcher& fetcher;
    std::vector<std::unique_ptr<worker>>& workers;
    std::shared_ptr<const core::config> started; // its listen/admin/threads are in effect
    std::string config_file;
    std::uint64_t retired_cache_hits = 0; // of replaced generations' caches
    std::uint64_t retired_cache_misses = 0;
};

// The admin endpoints' view of the server: readiness per provider, and the metrics text.
admin_handlers make_handlers(control_plane& cp) {
    admin_handlers h;
    h.ready = [&cp] {
        const auto g = cp.st.current.load();
        boost::json::object providers;
        readiness r;
        r.ready = true;
        for (std::size_t i = 0; i < g->cfg->providers.size(); ++i) {
            const bool loaded = g->keys->get(i) != nullptr;
            r.ready = r.ready && loaded;
            providers[g->cfg->providers[i].name] =
                loaded ? std::string("ready") : jwks_fetcher::status(*g->sources[i]);
        }
        boost::json::object o;
        o["ready"] = r.ready;
        o["providers"] = std::move(providers);
        r.body = boost::json::serialize(o);
        return r;
    };
    h.metrics = [&cp] {
        const auto g = cp.st.current.load();
        metrics::sources src;
        for (std::size_t i = 0; i < g->cfg->providers.size(); ++i) {
            const auto& fs = jwks_fetcher::stats(*g->sources[i]);
            const auto ks = g->keys->get(i);
            src.providers.push_back({g->cfg->providers[i].name, fs.fetch_ok.load(),
                                     fs.fetch_error.load(), fs.last_success_unix.load(),
                                     ks ? ks->size() : 0});
        }
        src.cache_hits = cp.retired_cache_hits + g->cache->hits();
        src.cache_misses = cp.retired_cache_misses + g->cache->misses();
        src.cache_size = g->cache->size();
        for (const auto& w : cp.workers) {
            src.upstream_idle += static_cast<std::int64_t>(w->pool.idle());
        }
        return cp.st.stats->render(src);
    };
    return h;
}

// The settings a running process cannot change: named in a warning when a reload
// changes them (the rest of the reload is applied).
std::vector<std::string> needs_restart(const core::config& running, const core::config& next) {
    std::vector<std::string> out;
    const auto& a = running.listen;
    const auto& b = next.listen;
    const bool same_tls =
        a.tls.has_value() == b.tls.has_value() &&
        (!a.tls || (a.tls->cert_file == b.tls->cert_file && a.tls->key_file == b.tls->key_file));
    if (a.address != b.address || a.port != b.port || !same_tls) {
        out.emplace_back("listen");
    }
    if (running.admin.address != next.admin.address || running.admin.port != next.admin.port) {
        out.emplace_back("admin");
    }
    if (running.threads != next.threads) {
        out.emplace_back("threads");
    }
    return out;
}

// Publishes `g` for new requests: the workers take it by a post, between requests.
void publish(control_plane& cp, const std::shared_ptr<const generation>& g) {
    const auto old = cp.st.current.load();
    cp.retired_cache_hits += old->cache->hits();
    cp.retired_cache_misses += old->cache->misses();
    cp.st.current.store(g);
    const auto per_worker = idle_per_worker(*g->cfg, cp.workers.size());
    for (auto& w : cp.workers) {
        net::post(*w->ctx, [wp = w.get(), g, per_worker] { wp->apply(g, per_worker); });
    }
}

// One SIGHUP: re-read and validate the file; apply it, or log every problem and keep the
// configuration in force. Never drops a connection.
void reload(control_plane& cp) {
    if (cp.config_file.empty() || cp.config_file.front() == '<') {
        log_message(core::log_level::warn, "SIGHUP ignored: no config file to re-read");
        return;
    }
    if (cp.st.draining.load()) {
        log_message(core::log_level::warn, "SIGHUP ignored: draining");
        return;
    }
    auto loaded = core::load_config_file(cp.config_file, core::process_env());
    if (!loaded.cfg) {
        for (const auto& d : loaded.diagnostics) {
            log_line(core::log_level::error, "config reload rejected")
                .str("problem", core::format_diagnostic(cp.config_file, d))
                .emit();
        }
        cp.st.stats->config_reload(false);
        return;
    }
    auto cfg = std::make_shared<const core::config>(std::move(*loaded.cfg));
    std::string error;
    const auto old = cp.st.current.load();
    auto g = build_generation(cfg, old.get(), cp.started->listen, cp.fetcher, error);
    if (!g) {
        log_line(core::log_level::error, "config reload rejected").str("problem", error).emit();
        cp.st.stats->config_reload(false);
        return;
    }
    for (const auto& key : needs_restart(*cp.started, *g->cfg)) {
        log_line(core::log_level::warn, "config change needs a restart: not applied")
            .str("setting", key)
            .emit();
    }
    set_log_level(g->cfg->log.level);
    publish(cp, g);
    cp.st.stats->config_reload(true);
    cp.st.stats->config_loaded(unix_now());
    log_line(core::log_level::info, "config reloaded")
        .str("config", cp.config_file)
        .num("generation", g->number)
        .flag("upstream_changed", g->upstream != old->upstream)
        .emit();
}

void reload_safely(control_plane& cp) {
    try {
        reload(cp);
    } catch (const std::exception& e) {
        // The old configuration stays in force; the process never dies on a reload.
        log_failure(core::log_level::error, "config_reload", e.what());
        cp.st.stats->config_reload(false);
    }
}

net::awaitable<void> reload_on_hangup(net::signal_set& hangup, control_plane& cp) {
    for (;;) {
        auto [ec, sig] = co_await hangup.async_wait(use_nothrow);
        (void)sig;
        if (ec) {
            co_return;
        }
        reload_safely(cp);
    }
}

// --watch-config: polls the file every second. A change is applied once the file has held
// still for one more poll, so a file being written in place is not read half-written.
net::awaitable<void> reload_on_change(net::io_context& control, control_plane& cp,
                                      file_signature applied) {
    constexpr auto poll = std::chrono::seconds(1);
    net::steady_timer timer(control);
    std::optional<file_signature> changed;
    while (!cp.st.draining.load()) {
        timer.expires_after(poll);
        auto [ec] = co_await timer.async_wait(use_nothrow);
        if (ec) {
            co_return;
        }
        const auto now = stat_file(cp.config_file);
        if (now == applied) {
            changed.reset();
            continue;
        }
        if (!changed || *changed != now) {
            changed = now; // still moving: look again at the next poll
            continue;
        }
        applied = now;
        changed.reset();
        log_line(core::log_level::info, "config file changed").str("config", cp.config_file).emit();
        reload_safely(cp);
    }
}

// Waits for SIGTERM/SIGINT, then drains: listener closed, idle connections closed,
// in-flight requests given limits.drain_timeout, then every worker stopped.
net::awaitable<void> drain_on_signal(net::io_context& control, net::signal_set& signals,
                                     listener& l, jwks_fetcher& fetcher, server_state& st,
                                     std::vector<std::unique_ptr<worker>>& workers,
                                     std::vector<work_guard>& guards) {
    auto [ec, sig] = co_await signals.async_wait(use_nothrow);
    if (ec) {
        co_return;
    }
    l.close();
    fetcher.stop();
    st.draining.store(true);
    log_line(core::log_level::info, "draining")
        .num("signal", sig)
        .num("connections", st.open_connections.load())
        .emit();
    for (auto& w : workers) {
        net::post(*w->ctx, [wp = w.get()] {
            wp->close_idle_sessions();
            wp->pool.shutdown();
        });
    }
    const auto deadline =
        std::chrono::steady_clock::now() + st.current.load()->cfg->limits.drain_timeout;
    net::steady_timer timer(control);
    while (st.open_connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(use_nothrow);
        for (auto& w : workers) {
            // Connections that finished a request since the last pass are idle now.
            net::post(*w->ctx, [wp = w.get()] { wp->close_idle_sessions(); });
        }
    }
    if (const auto left = st.open_connections.load(); left > 0) {
        log_line(core::log_level::warn, "drain timeout").num("connections", left).emit();
    }
    guards.clear();
    for (auto& w : workers) {
        w->ctx->stop();
    }
    control.stop();
}

} // namespace

int run_server(std::shared_ptr<const core::config> cfg, const std::string& config_file,
               server_options options) {
    std::signal(SIGPIPE, SIG_IGN);
    set_log_level(cfg->log.level);

    std::string error;
    // The handlers are installed before anything else, so an early SIGTERM still drains.
    net::io_context control(1);
    net::signal_set signals(control, SIGINT, SIGTERM);
    net::signal_set hangup(control, SIGHUP);
    listener l(control);

    metrics stats;
    server_state st;
    st.stats = &stats;
    // JWKS fetches and the admin endpoints run on the control thread, off the data path.
    auto fetcher = std::make_shared<jwks_fetcher>(control);
    st.fetcher = fetcher.get();
    auto first = build_generation(cfg, nullptr, cfg->listen, *fetcher, error);
    if (!first) {
        std::cerr << "jwtgate: " << error << '\n';
        return exit_runtime;
    }
    st.current.store(first);
    stats.config_loaded(unix_now());

    unsigned n = cfg->threads != 0 ? cfg->threads : std::thread::hardware_concurrency();
    n = std::max(1u, n);
    const std::size_t per_worker = idle_per_worker(*cfg, n);

    std::vector<std::unique_ptr<worker>> workers;
    std::vector<work_guard> guards;
    for (unsigned i = 0; i < n; ++i) {
        workers.push_back(std::make_unique<worker>(st, first, per_worker));
        guards.push_back(net::make_work_guard(*workers.back()->ctx));
        workers.back()->pool.start();
    }
    control_plane cp{st, *fetcher, workers, cfg, config_file};
    first.reset();
    small_http_server admin(control, make_admin_handler(make_handlers(cp)));
    if (auto ec = admin.start(cfg->admin.address, cfg->admin.port)) {
        std::cerr << "jwtgate: cannot listen on admin " << cfg->admin.address << ':'
                  << cfg->admin.port << ": " << ec.message() << '\n';
        return exit_runtime;
    }
    // The proxy port opens last, so whoever sees it accept finds the admin port up too.
    if (!l.open(cfg->listen.address, cfg->listen.port, error)) {
        std::cerr << "jwtgate: " << error << '\n';
        return exit_runtime;
    }
    l.start(workers, st);
    net::co_spawn(control, reload_on_hangup(hangup, cp), net::detached);
    if (options.watch_config && !config_file.empty() && config_file.front() != '<') {
        net::co_spawn(control, reload_on_change(control, cp, options.loaded_signature),
                      net::detached);
    }
    net::co_spawn(control, drain_on_signal(control, signals, l, *fetcher, st, workers, guards),
                  net::detached);

    const auto ep = l.local_endpoint();
    log_line(core::log_level::info, "listening")
        .str("address", ep.address().to_string())
        .num("port", static_cast<int>(ep.port()))
        .flag("tls", cfg->listen.tls.has_value())
        .num("threads", static_cast<int>(n))
        .str("upstream", cfg->upstream.url)
        .str("config", config_file)
        .flag("watch_config", options.watch_config)
        .emit();

    std::vector<std::thread> threads;
    threads.reserve(n);
    for (auto& w : workers) {
        threads.emplace_back([ctx = w->ctx.get()] { run_worker(*ctx); });
    }
    run_worker(control);
    for (auto& t : threads) {
        t.join();
    }
    workers.clear(); // tear down sessions and pools before the state they reference
    st.current.store(nullptr);
    log_message(core::log_level::info, "stopped");
    return 0;
}

} // namespace jwtgate::proxy
