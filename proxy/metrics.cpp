// Prometheus text exposition of jwtgate's counters, gauges and histogram.
#include "proxy/metrics.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>

namespace jwtgate::proxy {

namespace {

// Label values are escaped per the text format: backslash, double quote, newline.
void append_label(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += "=\"";
    for (char c : value) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    out += '"';
}

void append_number(std::string& out, double v) {
    char buf[64];
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    std::snprintf(buf, sizeof buf, "%.17g", v);
    out += buf;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

} // namespace

metrics::counter& metrics::intern(std::map<std::string, std::unique_ptr<counter>, std::less<>>& m,
                                  std::string_view key) {
    {
        std::shared_lock lock(mutex_);
        if (auto it = m.find(key); it != m.end()) {
            return *it->second;
        }
    }
    std::unique_lock lock(mutex_);
    auto [it, inserted] = m.try_emplace(std::string(key));
    if (inserted) {
        it->second = std::make_unique<counter>();
    }
    return *it->second;
}

void metrics::request_done(std::string_view rule, std::string_view outcome, double seconds) {
    std::string key;
    key.reserve(rule.size() + outcome.size() + 1);
    key += rule;
    key += '\0';
    key += outcome;
    intern(requests_, key).value.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < duration_buckets.size(); ++i) {
        if (seconds <= duration_buckets[i]) {
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    duration_count_.fetch_add(1, std::memory_order_relaxed);
    duration_sum_us_.fetch_add(static_cast<std::uint64_t>(std::llround(seconds * 1e6)),
                               std::memory_order_relaxed);
}

void metrics::upstream_error(std::string_view kind) {
    intern(upstream_errors_, kind).value.fetch_add(1, std::memory_order_relaxed);
}

std::string metrics::render(const sources& src) const {
    std::string out;
    out.reserve(8192);
    std::shared_lock lock(mutex_);

    header(out, "jwtgate_requests_total", "counter", "Requests by rule and outcome.");
    for (const auto& [key, c] : requests_) {
        auto sep = key.find('\0');
        out += "jwtgate_requests_total{";
        append_label(out, "rule", std::string_view(key).substr(0, sep));
        out += ',';
        append_label(out, "outcome", std::string_view(key).substr(sep + 1));
        out += "} ";
        out += std::to_string(c->value.load(std::memory_order_relaxed));
        out += '\n';
    }

    header(out, "jwtgate_request_duration_seconds", "histogram",
           "Time from request head to the end of the response.");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < duration_buckets.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        out += "jwtgate_request_duration_seconds_bucket{le=\"";
        append_number(out, duration_buckets[i]);
        out += "\"} " + std::to_string(cumulative) + '\n';
    }
    const auto count = duration_count_.load(std::memory_order_relaxed);
    out += "jwtgate_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(count) + '\n';
    out += "jwtgate_request_duration_seconds_sum ";
    append_number(out, static_cast<double>(duration_sum_us_.load(std::memory_order_relaxed)) / 1e6);
    out += "\njwtgate_request_duration_seconds_count " + std::to_string(count) + '\n';

    header(out, "jwtgate_upstream_errors_total", "counter", "Upstream failures by kind.");
    for (const auto& [kind, c] : upstream_errors_) {
        out += "jwtgate_upstream_errors_total{";
        append_label(out, "kind", kind);
        out += "} " + std::to_string(c->value.load(std::memory_order_relaxed)) + '\n';
    }

    header(out, "jwtgate_jwks_fetches_total", "counter",
           "JWKS fetches (and local key set loads) by provider and result.");
    for (const auto& p : src.providers) {
        for (auto [result, v] :
             {std::pair{"success", p.fetch_ok}, std::pair{"error", p.fetch_error}}) {
            out += "jwtgate_jwks_fetches_total{";
            append_label(out, "provider", p.name);
            out += ',';
            append_label(out, "result", result);
            out += "} " + std::to_string(v) + '\n';
        }
    }
    header(out, "jwtgate_jwks_keys", "gauge", "Keys loaded per provider.");
    for (const auto& p : src.providers) {
        out += "jwtgate_jwks_keys{";
        append_label(out, "provider", p.name);
        out += "} " + std::to_string(p.keys) + '\n';
    }
    header(out, "jwtgate_jwks_last_success_timestamp_seconds", "gauge",
           "Unix time of the last good key set load (0: never).");
    for (const auto& p : src.providers) {
        out += "jwtgate_jwks_last_success_timestamp_seconds{";
        append_label(out, "provider", p.name);
        out += "} " + std::to_string(p.last_success_unix) + '\n';
    }

    header(out, "jwtgate_token_cache_hits_total", "counter", "Verified-token cache hits.");
    out += "jwtgate_token_cache_hits_total " + std::to_string(src.cache_hits) + '\n';
    header(out, "jwtgate_token_cache_misses_total", "counter", "Verified-token cache misses.");
    out += "jwtgate_token_cache_misses_total " + std::to_string(src.cache_misses) + '\n';
    header(out, "jwtgate_token_cache_entries", "gauge", "Entries in the verified-token cache.");
    out += "jwtgate_token_cache_entries " + std::to_string(src.cache_size) + '\n';
    header(out, "jwtgate_connections_open", "gauge", "Open client connections.");
    out += "jwtgate_connections_open " + std::to_string(connections_open()) + '\n';
    header(out, "jwtgate_upstream_idle_connections", "gauge", "Pooled idle upstream connections.");
    out += "jwtgate_upstream_idle_connections " + std::to_string(src.upstream_idle) + '\n';
    header(out, "jwtgate_claim_headers_dropped_total", "counter",
           "Claim headers not emitted because the value held a control character.");
    out += "jwtgate_claim_headers_dropped_total " +
           std::to_string(claim_headers_dropped_.load(std::memory_order_relaxed)) + '\n';
    header(out, "jwtgate_config_reloads_total", "counter",
           "Configuration reloads (SIGHUP, --watch-config) by result: applied, or rejected.");
    out += "jwtgate_config_reloads_total{result=\"success\"} " +
           std::to_string(reloads_ok_.load(std::memory_order_relaxed)) + '\n';
    out += "jwtgate_config_reloads_total{result=\"error\"} " +
           std::to_string(reloads_failed_.load(std::memory_order_relaxed)) + '\n';
    header(out, "jwtgate_config_last_reload_success_timestamp_seconds", "gauge",
           "Unix time the configuration in force was loaded (startup or last applied reload).");
    out += "jwtgate_config_last_reload_success_timestamp_seconds " +
           std::to_string(last_reload_unix_.load(std::memory_order_relaxed)) + '\n';
    return out;
}

} // namespace jwtgate::proxy
