// The human summary printed by --check-config: listeners, upstream, providers, and the
// rules in match order (longest prefix first) followed by the default.
#include "core/config.hpp"
#include "core/key_source.hpp"

#include <algorithm>
#include <sstream>

namespace jwtgate::core {

namespace {

std::string host_port(const std::string& host, std::uint16_t port) {
    if (host.find(':') != std::string::npos)
        return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

std::string show(duration d) {
    auto ms = d.count();
    if (ms == 0)
        return "0s";
    std::string out;
    for (const auto& [unit, size] :
         {std::pair{"h", 3'600'000LL}, {"m", 60'000LL}, {"s", 1'000LL}}) {
        if (ms >= size) {
            out += std::to_string(ms / size) + unit;
            ms %= size;
        }
    }
    if (ms > 0)
        out += std::to_string(ms) + "ms";
    return out;
}

std::string_view show(auth_kind a) {
    switch (a) {
    case auth_kind::required: return "required";
    case auth_kind::optional: return "optional";
    case auth_kind::none: return "none";
    case auth_kind::deny: return "deny";
    }
    return "?";
}

std::string join(const std::vector<std::string>& items, std::string_view none) {
    if (items.empty())
        return std::string(none);
    std::string out;
    for (const auto& i : items) {
        if (!out.empty())
            out += ',';
        out += i;
    }
    return out;
}

std::string key_source(const provider_config& p) {
    switch (p.source) {
    case key_source_kind::jwks_uri: return "jwks_uri " + p.jwks_uri;
    case key_source_kind::discovery: return "discovery " + discovery_url(p.policy.issuer);
    case key_source_kind::jwks_file: return "jwks_file " + p.jwks_file;
    case key_source_kind::inline_jwks: return "inline jwks";
    }
    return "?";
}

std::string algorithms(const verify_policy& policy) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < jws_alg_count; ++i) {
        const auto alg = static_cast<jws_alg>(i);
        if (policy.allows(alg))
            names.emplace_back(to_string(alg));
    }
    return join(names, "(none)");
}

void providers(std::ostream& out, const config& cfg) {
    out << "providers (" << cfg.providers.size() << "):\n";
    for (const auto& p : cfg.providers) {
        out << "  " << p.name << ": issuer " << p.policy.issuer << ", keys from " << key_source(p)
            << ", algorithms " << algorithms(p.policy) << ", audiences "
            << join(p.policy.audiences, "(not checked)") << '\n';
    }
}

void rules(std::ostream& out, const config& cfg) {
    const auto& ordered = cfg.rules.ordered();
    std::size_t width = std::string_view("(default)").size();
    for (const auto& r : ordered)
        width = std::max(width, r.prefix.size());
    out << "rules in match order (" << ordered.size() << ", longest prefix first):\n";
    for (const auto& r : ordered) {
        out << "  " << r.prefix << std::string(width - r.prefix.size() + 2, ' ')
            << "auth=" << show(r.auth) << " methods=" << join(r.methods, "any")
            << " providers=" << join(r.providers, "any")
            << " mode=" << (r.mode == rule_mode::enforce ? "enforce" : "shadow");
        if (!r.require_scopes.empty())
            out << " scopes=" << join(r.require_scopes, "");
        if (!r.require_claims.empty())
            out << " claims=" << r.require_claims.size();
        out << " (line " << r.line << ")\n";
    }
    out << "  (default)" << std::string(width - 9 + 2, ' ') << "auth=" << show(cfg.default_auth)
        << '\n';
}

} // namespace

std::string summarize(const config& cfg) {
    std::ostringstream out;
    out << "listen: " << host_port(cfg.listen.address, cfg.listen.port)
        << (cfg.listen.tls ? " (TLS, cert " + cfg.listen.tls->cert_file + ")" : " (plain HTTP)")
        << '\n';
    out << "admin: " << host_port(cfg.admin.address, cfg.admin.port) << '\n';
    out << "upstream: " << cfg.upstream.url << " (connect " << show(cfg.upstream.connect_timeout)
        << ", timeout " << show(cfg.upstream.timeout) << ")\n";
    out << "threads: "
        << (cfg.threads == 0 ? std::string("one per core") : std::to_string(cfg.threads))
        << ", token cache: " << cfg.token_cache_max_entries << " entries\n";
    providers(out, cfg);
    rules(out, cfg);
    out << "cors preflight: " << (cfg.cors_preflight_bypass ? "bypass" : "enforce") << '\n';
    return out.str();
}

} // namespace jwtgate::core
