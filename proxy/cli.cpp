// Command line parsing and the offline commands: --check-config, verify-token.
#include "proxy/cli.hpp"

#include "core/authorize.hpp"
#include "core/config.hpp"
#include "core/key_source.hpp"
#include "proxy/jwks_fetcher.hpp"
#include "proxy/key_store.hpp"
#include "proxy/log.hpp"

#include "proxy/demo.hpp"
#include "proxy/server.hpp"
#include <boost/asio/io_context.hpp>

#include <boost/json/serialize.hpp>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace jwtgate::proxy {

namespace json = boost::json;

namespace {

constexpr std::string_view default_config_path = "/etc/jwtgate/jwtgate.yaml";

constexpr std::string_view usage_text = R"(jwtgate - JWT-enforcing reverse proxy

Usage:
  jwtgate [--config FILE | -c FILE] [--watch-config]
                                      run the proxy (default: $JWTGATE_CONFIG,
                                      else /etc/jwtgate/jwtgate.yaml); SIGHUP reloads
                                      FILE, --watch-config also reloads it on change
  jwtgate --check-config FILE         validate FILE, print a summary, exit 0 (1 on error)
  jwtgate verify-token --config FILE [--at UNIX_TIME] [--path PATH] TOKEN
                                      explain whether TOKEN is accepted (exit 0 valid,
                                      3 not valid, 1 bad config or arguments)
  jwtgate demo [--port 8080] [--admin-port 9901]
                                      zero-setup demo: proxy, echo upstream and issuer
  jwtgate --version                   print the version
  jwtgate --help                      print this help

Exit codes: 0 clean shutdown, 1 bad config or arguments, 2 runtime failure.
Documentation: docs/ (configuration.md, operations.md, troubleshooting.md).
)";

int usage_error(std::string_view message) {
    std::cerr << "jwtgate: " << message << "\nTry 'jwtgate --help'.\n";
    return exit_config;
}

// Loads a config, printing every diagnostic to stderr; nullptr when invalid.
std::shared_ptr<const core::config> load_or_report(const std::string& file) {
    auto loaded = core::load_config_file(file, core::process_env());
    if (!loaded.cfg) {
        for (const auto& d : loaded.diagnostics) {
            std::cerr << core::format_diagnostic(file, d) << '\n';
        }
        return nullptr;
    }
    return std::make_shared<const core::config>(std::move(*loaded.cfg));
}

int check_config(const std::string& file) {
    auto cfg = load_or_report(file);
    if (!cfg) {
        return exit_config;
    }
    std::cout << file << ": OK\n" << core::summarize(*cfg);
    return exit_ok;
}

struct verify_args {
    std::string config;
    std::optional<std::int64_t> at;
    std::optional<std::string> path;
    std::string token;
};

std::optional<std::int64_t> parse_unix_time(std::string_view s) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 0) {
        return std::nullopt;
    }
    return v;
}

void print_invalid(int status, std::string_view error, std::string_view details_text) {
    json::object o;
    o["valid"] = false;
    o["status"] = status;
    o["error"] = error;
    if (!details_text.empty()) {
        o["details"] = details_text;
    }
    std::cout << json::serialize(o) << '\n';
}

// Fetches every remote provider's key set once (discovery included), with the same
// fetcher the proxy runs; failures are reported on stderr.
void fetch_remote_once(const std::shared_ptr<const core::config>& cfg,
                       std::vector<std::shared_ptr<const core::key_set>>& keys) {
    // Only the remote providers go to the fetcher (local ones are read by the caller).
    core::config remote = *cfg;
    remote.providers.clear();
    std::vector<std::size_t> index; // remote provider -> position in cfg
    for (std::size_t i = 0; i < cfg->providers.size(); ++i) {
        if (cfg->providers[i].remote()) {
            remote.providers.push_back(cfg->providers[i]);
            index.push_back(i);
        }
    }
    if (index.empty()) {
        return;
    }
    set_log_level(core::log_level::error);
    boost::asio::io_context ioc;
    auto store = std::make_shared<key_store>(index.size());
    auto fetcher = std::make_shared<jwks_fetcher>(ioc);
    const auto sources = fetcher->bind(remote, store, nullptr);
    std::size_t pending = index.size();
    for (const auto& s : sources) {
        fetcher->await_refresh(s, ioc.get_executor(), [&pending, &fetcher] {
            if (--pending == 0) {
                fetcher->stop();
            }
        });
    }
    ioc.run();
    for (std::size_t k = 0; k < index.size(); ++k) {
        keys[index[k]] = store->get(k);
        if (!keys[index[k]]) {
            std::cerr << "jwtgate: provider " << remote.providers[k].name << ": "
                      << jwks_fetcher::status(*sources[k]) << '\n';
        }
    }
}

// The key sets of every provider: local ones read here, remote ones fetched once.
std::vector<std::shared_ptr<const core::key_set>>
load_keys(const std::shared_ptr<const core::config>& cfg_ptr) {
    const core::config& cfg = *cfg_ptr;
    std::vector<std::shared_ptr<const core::key_set>> keys(cfg.providers.size());
    fetch_remote_once(cfg_ptr, keys);
    for (std::size_t i = 0; i < cfg.providers.size(); ++i) {
        const auto& p = cfg.providers[i];
        if (p.remote()) {
            continue;
        }
        auto loaded = core::load_local_jwks(p);
        if (!loaded) {
            std::cerr << "jwtgate: provider " << p.name << ": " << loaded.error().message << '\n';
            continue;
        }
        for (const auto& s : loaded->skipped) {
            std::cerr << "jwtgate: provider " << p.name << ": key " << s.index
                      << " skipped: " << core::make_error_code(s.reason).message() << '\n';
        }
        keys[i] = loaded->keys;
    }
    return keys;
}

int verify_token(const verify_args& a) {
    auto cfg = load_or_report(a.config);
    if (!cfg) {
        return exit_config;
    }
    const std::int64_t now = a.at ? *a.at
                                  : std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
    auto keys = load_keys(cfg);
    core::authorizer auth(cfg, std::make_shared<core::token_cache>(0));

    const core::rule* r = nullptr;
    if (a.path) {
        auto normalised = core::normalise_path(*a.path);
        if (!normalised) {
            return usage_error("--path: " + normalised.error().message());
        }
        r = cfg->rules.match(*normalised, "GET");
        if ((r != nullptr ? r->auth : cfg->default_auth) == core::auth_kind::deny) {
            print_invalid(403, "Forbidden", "the rule for this path denies every request");
            return exit_invalid_token;
        }
    }
    auto tc = auth.check_token(a.token, r, keys, now);
    if (tc.error == core::auth_errc::key_set_unavailable) {
        print_invalid(503, "Key set unavailable", core::details(tc.error));
        return exit_invalid_token;
    }
    if (tc.error != core::auth_errc::ok) {
        print_invalid(401,
                      tc.error == core::auth_errc::expired ? "Token has expired" : "Invalid token",
                      core::details(tc.error));
        return exit_invalid_token;
    }
    std::string scopes;
    if (auto unmet = core::unmet_requirement(r, *tc.verified->claims, scopes)) {
        bool scope = *unmet == core::outcome::insufficient_scope;
        print_invalid(403, scope ? "Insufficient scope" : "Forbidden",
                      scope ? "missing scopes: " + scopes : "required claims not met");
        return exit_invalid_token;
    }
    const auto& provider = cfg->providers[tc.provider_index];
    core::decision d;
    auth.render_headers(provider, *tc.verified, a.token, d);
    json::object out;
    out["valid"] = true;
    out["provider"] = provider.name;
    out["claims"] = *tc.verified->claims;
    json::object headers;
    for (const auto& [name, value] : d.add_headers) {
        headers[name] = value;
    }
    out["headers"] = std::move(headers);
    if (a.path) {
        out["rule"] = r != nullptr ? r->prefix : "default";
    }
    std::cout << json::serialize(out) << '\n';
    return exit_ok;
}

int run_verify_token(std::span<const std::string_view> args) {
    verify_args a;
    for (std::size_t i = 0; i < args.size(); ++i) {
        auto arg = args[i];
        auto next = [&]() -> std::optional<std::string_view> {
            if (i + 1 >= args.size()) {
                return std::nullopt;
            }
            return args[++i];
        };
        if (arg == "--config" || arg == "-c") {
            auto v = next();
            if (!v) {
                return usage_error("verify-token: --config needs a FILE");
            }
            a.config = std::string(*v);
        } else if (arg == "--at") {
            auto v = next();
            auto t = v ? parse_unix_time(*v) : std::nullopt;
            if (!t) {
                return usage_error("verify-token: --at needs a UNIX_TIME (seconds)");
            }
            a.at = t;
        } else if (arg == "--path") {
            auto v = next();
            if (!v) {
                return usage_error("verify-token: --path needs a PATH");
            }
            a.path = std::string(*v);
        } else if (arg.starts_with("-") && arg.size() > 1) {
            return usage_error("verify-token: unknown option " + std::string(arg));
        } else if (a.token.empty()) {
            a.token = std::string(arg);
        } else {
            return usage_error("verify-token: more than one TOKEN given");
        }
    }
    if (a.config.empty()) {
        return usage_error("verify-token: --config FILE is required");
    }
    if (a.token.empty()) {
        return usage_error("verify-token: TOKEN is required");
    }
    return verify_token(a);
}

int run_proxy(const std::string& file, server_options options) {
    options.loaded_signature = stat_file(file); // before the read: a later edit is seen
    auto cfg = load_or_report(file);
    if (!cfg) {
        return exit_config;
    }
    return run_server(cfg, file, options);
}

} // namespace

int run_cli(std::span<const std::string_view> args) {
    if (!args.empty() && args[0] == "verify-token") {
        return run_verify_token(args.subspan(1));
    }
    if (!args.empty() && args[0] == "demo") {
        return run_demo(args.subspan(1));
    }
    std::optional<std::string> config;
    server_options options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        auto arg = args[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << usage_text;
            return exit_ok;
        }
        if (arg == "--version" || arg == "-V") {
            std::cout << "jwtgate " << JWTGATE_VERSION << '\n';
            return exit_ok;
        }
        if (arg == "--check-config") {
            if (i + 1 >= args.size()) {
                return usage_error("--check-config needs a FILE");
            }
            return check_config(std::string(args[i + 1]));
        }
        if (arg == "--config" || arg == "-c") {
            if (i + 1 >= args.size()) {
                return usage_error(std::string(arg) + " needs a FILE");
            }
            config = std::string(args[++i]);
            continue;
        }
        if (arg == "--watch-config") {
            options.watch_config = true;
            continue;
        }
        return usage_error("unknown argument '" + std::string(arg) + "'");
    }
    if (!config) {
        const char* env = std::getenv("JWTGATE_CONFIG");
        config =
            (env != nullptr && *env != '\0') ? std::string(env) : std::string(default_config_path);
    }
    return run_proxy(*config, options);
}

} // namespace jwtgate::proxy
