// Server assembly: TLS contexts, key store, authorizer, workers, listener, signals, drain.
#include "proxy/server.hpp"

#include "proxy/admin.hpp"
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
#include <thread>
#include <vector>

namespace jwtgate::proxy {

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr int exit_runtime = 2;

std::string authority_of(const core::upstream_config& u) {
    const bool v6 = u.host.find(':') != std::string::npos;
    std::string out = v6 ? "[" + u.host + "]" : u.host;
    if (u.port != (u.https ? 443 : 80)) {
        out += ':';
        out += std::to_string(u.port);
    }
    return out;
}

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

// The admin endpoints' view of the server: readiness per provider, and the metrics text.
admin_handlers make_handlers(const server_state& st, const jwks_fetcher& fetcher,
                             const std::vector<std::unique_ptr<worker>>& workers,
                             const std::vector<std::string>& names) {
    admin_handlers h;
    h.ready = [&st, &fetcher] {
        boost::json::object providers;
        for (std::size_t i = 0; i < st.cfg->providers.size(); ++i) {
            providers[st.cfg->providers[i].name] =
                st.keys->get(i) ? std::string("ready") : fetcher.status(i);
        }
        readiness r;
        r.ready = fetcher.all_ready();
        boost::json::object o;
        o["ready"] = r.ready;
        o["providers"] = std::move(providers);
        r.body = boost::json::serialize(o);
        return r;
    };
    h.metrics = [&st, &fetcher, &workers, &names] {
        metrics::sources src;
        src.fetcher = &fetcher;
        src.keys = st.keys;
        src.cache_hits = st.auth->cache().hits();
        src.cache_misses = st.auth->cache().misses();
        src.cache_size = st.auth->cache().size();
        for (const auto& w : workers) {
            src.upstream_idle += static_cast<std::int64_t>(w->pool.idle());
        }
        src.provider_names = &names;
        return st.stats->render(src);
    };
    return h;
}

// SIGHUP: the new config is validated and every problem logged, but this version applies
// configuration only at start: a valid change is reported as needing a restart. The
// process never dies on SIGHUP (its default action).
net::awaitable<void> report_on_hangup(net::signal_set& hangup, std::string config_file) {
    for (;;) {
        auto [ec, sig] = co_await hangup.async_wait(use_nothrow);
        (void)sig;
        if (ec) {
            co_return;
        }
        if (config_file.empty() || config_file.front() == '<') {
            log_message(core::log_level::warn, "SIGHUP ignored: no config file to re-read");
            continue;
        }
        auto loaded = core::load_config_file(config_file, core::process_env());
        if (!loaded.cfg) {
            for (const auto& d : loaded.diagnostics) {
                log_line(core::log_level::error, "config reload rejected")
                    .str("problem", core::format_diagnostic(config_file, d))
                    .emit();
            }
            continue;
        }
        log_line(core::log_level::warn, "config is valid but live reload is not supported: "
                                        "restart jwtgate to apply it")
            .str("config", config_file)
            .emit();
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
    const auto deadline = std::chrono::steady_clock::now() + st.cfg->limits.drain_timeout;
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

int run_server(std::shared_ptr<const core::config> cfg, const std::string& config_file) {
    std::signal(SIGPIPE, SIG_IGN);
    set_log_level(cfg->log.level);

    std::string error;
    std::unique_ptr<net::ssl::context> server_tls;
    if (cfg->listen.tls) {
        server_tls = make_server_tls(*cfg->listen.tls, error);
        if (!server_tls) {
            std::cerr << "jwtgate: " << error << '\n';
            return exit_runtime;
        }
    }
    std::unique_ptr<net::ssl::context> upstream_tls;
    if (cfg->upstream.https) {
        upstream_tls = make_client_tls(cfg->upstream.ca_file, error);
        if (!upstream_tls) {
            std::cerr << "jwtgate: " << error << '\n';
            return exit_runtime;
        }
    }

    // The handlers are installed before anything else, so an early SIGTERM still drains.
    net::io_context control(1);
    net::signal_set signals(control, SIGINT, SIGTERM);
    net::signal_set hangup(control, SIGHUP);
    listener l(control);

    auto keys = std::make_shared<key_store>(cfg->providers.size());
    load_local_key_sets(*cfg, *keys);
    auto cache = std::make_shared<core::token_cache>(cfg->token_cache_max_entries);
    metrics stats;

    server_state st;
    st.cfg = cfg;
    st.auth = std::make_shared<const core::authorizer>(cfg, cache);
    st.keys = keys.get();
    st.stats = &stats;
    st.upstream_authority = authority_of(cfg->upstream);

    // JWKS fetches and the admin endpoints run on the control thread, off the data path.
    auto fetcher = std::make_shared<jwks_fetcher>(control, cfg, keys, cache);
    st.fetcher = fetcher.get();

    unsigned n = cfg->threads != 0 ? cfg->threads : std::thread::hardware_concurrency();
    n = std::max(1u, n);
    const std::size_t max_idle = cfg->upstream.max_idle_connections;
    const std::size_t per_worker =
        max_idle == 0 ? 0 : std::max<std::size_t>(1, (max_idle + n - 1) / n);

    std::vector<std::unique_ptr<worker>> workers;
    std::vector<work_guard> guards;
    for (unsigned i = 0; i < n; ++i) {
        workers.push_back(std::make_unique<worker>(st, upstream_tls.get(), per_worker));
        guards.push_back(net::make_work_guard(*workers.back()->ctx));
        workers.back()->pool.start();
    }
    std::vector<std::string> provider_names;
    for (const auto& p : cfg->providers) {
        provider_names.push_back(p.name);
    }
    small_http_server admin(
        control, make_admin_handler(make_handlers(st, *fetcher, workers, provider_names)));
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
    fetcher->start();
    l.start(workers, server_tls.get());
    net::co_spawn(control, report_on_hangup(hangup, config_file), net::detached);
    net::co_spawn(control, drain_on_signal(control, signals, l, *fetcher, st, workers, guards),
                  net::detached);

    const auto ep = l.local_endpoint();
    log_line(core::log_level::info, "listening")
        .str("address", ep.address().to_string())
        .num("port", static_cast<int>(ep.port()))
        .flag("tls", server_tls != nullptr)
        .num("threads", static_cast<int>(n))
        .str("upstream", cfg->upstream.url)
        .str("config", config_file)
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
    log_message(core::log_level::info, "stopped");
    return 0;
}

} // namespace jwtgate::proxy
