// The typed configuration and its YAML loader (SPEC "Configuration").
#pragma once

#include "core/rules.hpp"
#include "core/verify.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace jwtgate::core {

using duration = std::chrono::milliseconds;

struct tls_config {
    std::string cert_file;
    std::string key_file;
};

struct listen_config {
    std::string address = "0.0.0.0";
    std::uint16_t port = 8080;
    std::optional<tls_config> tls;
};

struct admin_config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 9901;
};

struct upstream_config {
    std::string url; // as configured
    bool https = false;
    std::string host; // host name or IP literal (no brackets)
    std::uint16_t port = 80;
    std::string path_prefix; // "" or "/prefix" without a trailing '/'
    duration connect_timeout = std::chrono::seconds(2);
    duration timeout = std::chrono::seconds(30);
    duration idle_timeout = std::chrono::seconds(60);
    std::size_t max_idle_connections = 256;
    std::string ca_file; // "" = system store
};

struct limits_config {
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_token_bytes = 8 * 1024;
    std::uint64_t max_body_bytes = 0; // 0 = unlimited
    duration header_timeout = std::chrono::seconds(10);
    duration idle_timeout = std::chrono::seconds(60);
    duration drain_timeout = std::chrono::seconds(15);
};

enum class token_source_kind { header, cookie, query };

struct token_source {
    token_source_kind kind = token_source_kind::header;
    std::string name;   // header name, cookie name or query parameter name
    std::string scheme; // header only: "Bearer"; "" = the whole header value is the token
};

enum class key_source_kind { jwks_uri, discovery, jwks_file, inline_jwks };

struct provider_config {
    std::string name;
    key_source_kind source = key_source_kind::jwks_uri;
    std::string jwks_uri;    // jwks_uri source
    std::string jwks_file;   // jwks_file source
    std::string inline_jwks; // inline source: the JWKS as JSON text
    verify_policy policy;    // issuer, audiences, algorithms, skew, exp, lifetime, typ
    duration jwks_refresh_interval = std::chrono::minutes(10);
    duration jwks_min_refresh_interval = std::chrono::seconds(30);
    duration jwks_fetch_timeout = std::chrono::seconds(5);
    duration jwks_max_stale = std::chrono::hours(24);
    std::string jwks_ca_file;
    std::vector<token_source> token_sources;                            // never empty after load
    std::vector<std::pair<std::string, std::string>> claims_to_headers; // claim path -> header
    std::string payload_header;                                         // "" = off
    bool forward_token = true;
    int line = 0;

    bool remote() const noexcept {
        return source == key_source_kind::jwks_uri || source == key_source_kind::discovery;
    }
};

enum class log_level { debug, info, warn, error };

struct log_config {
    log_level level = log_level::info;
    bool access_log = true;
};

struct config {
    std::string file; // the path as given
    listen_config listen;
    unsigned threads = 0; // 0 = one per core
    std::size_t token_cache_max_entries = 10000;
    admin_config admin;
    upstream_config upstream;
    limits_config limits;
    std::vector<provider_config> providers;
    std::vector<std::string> strip_request_headers;
    rule_table rules;
    auth_kind default_auth = auth_kind::required;
    bool cors_preflight_bypass = true;
    log_config log;

    const provider_config* find_provider(std::string_view name) const noexcept;
    const provider_config* find_issuer(std::string_view issuer) const noexcept;
};

// One problem in a config file. `line`/`column` are 1-based.
struct config_diagnostic {
    int line = 0;
    int column = 0;
    std::string key_path; // "rules[2].prefix", "upstream.timeout"
    std::string message;
};

// "FILE:LINE:COL: key.path: message"
std::string format_diagnostic(std::string_view file, const config_diagnostic& d);

struct config_load_result {
    std::optional<config> cfg;                  // set only when diagnostics is empty
    std::vector<config_diagnostic> diagnostics; // every problem found
};

// Looks up an environment variable (nullopt when unset). Injected for tests.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;
env_lookup process_env();

// Loads and validates a config from YAML text; `file` is used in messages and as the
// base for relative paths only as given. Collects every problem.
config_load_result load_config_text(std::string_view text, const std::string& file,
                                    const env_lookup& env);

// Reads `file` and loads it; an unreadable file is one diagnostic at 0:0.
config_load_result load_config_file(const std::string& file, const env_lookup& env);

// Parses "500ms", "30s", "10m", "1h" (also "1h30m"). nullopt when invalid.
std::optional<duration> parse_duration(std::string_view text);

// Parses "8KiB", "1MiB", "512", "10KB". nullopt when invalid.
std::optional<std::uint64_t> parse_size(std::string_view text);

// The --check-config summary: listeners, providers, rules in match order.
std::string summarize(const config& cfg);

} // namespace jwtgate::core
