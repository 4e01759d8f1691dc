// The `providers` section: issuer, key source, verification policy, token sources and
// claim headers of each provider (SPEC "Configuration", "Details": Algorithms, Token sources).
//
// Decisions:
// - Names: letters, digits, '.', '_' and '-' (they end up in metric labels and logs);
//   names and issuers are unique.
// - Exactly one key source: jwks_uri | discovery: true | jwks_file | jwks. `discovery:
//   false` is not a source. With two, the second one is reported. jwks_file is not opened
//   here (it may appear later, e.g. a mounted secret); inline `jwks` (a YAML/JSON mapping
//   or a string of JSON) must parse and hold at least one usable key.
// - An explicitly empty `audiences`, `algorithms`, `token_types`, `token_sources` list is
//   an error (omit the key instead), so a list emptied by mistake never silently turns a
//   check off.
// - clock_skew and max_token_lifetime are whole seconds; jwks_min_refresh_interval must
//   not exceed jwks_refresh_interval; the other JWKS timings must be greater than 0.
// - A header token source without `scheme` reads `Bearer` for Authorization and the whole
//   header value otherwise; `scheme: ""` always means the whole value.
// - Claim and payload headers are removed from every incoming request, so they may not
//   name a header the proxy or the HTTP framing relies on, nor a header any provider reads
//   tokens from; within one provider each header is used once.
#include "core/config_detail.hpp"

#include "core/jwks.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace jwtgate::core::config_detail {

namespace {

constexpr std::string_view provider_keys[] = {"name",
                                              "issuer",
                                              "jwks_uri",
                                              "discovery",
                                              "jwks_file",
                                              "jwks",
                                              "audiences",
                                              "algorithms",
                                              "clock_skew",
                                              "require_exp",
                                              "max_token_lifetime",
                                              "token_types",
                                              "jwks_refresh_interval",
                                              "jwks_min_refresh_interval",
                                              "jwks_fetch_timeout",
                                              "jwks_max_stale",
                                              "jwks_ca_file",
                                              "token_sources",
                                              "claims_to_headers",
                                              "payload_header",
                                              "forward_token"};

constexpr std::string_view reserved_headers[] = {"host",
                                                 "content-length",
                                                 "transfer-encoding",
                                                 "content-type",
                                                 "content-encoding",
                                                 "connection",
                                                 "keep-alive",
                                                 "proxy-connection",
                                                 "proxy-authorization",
                                                 "proxy-authenticate",
                                                 "te",
                                                 "trailer",
                                                 "upgrade",
                                                 "expect",
                                                 "cookie",
                                                 "authorization",
                                                 "x-forwarded-for",
                                                 "x-forwarded-proto",
                                                 "x-forwarded-host",
                                                 "x-request-id"};

// What the cross-provider checks need to know about where things were written.
struct header_use {
    std::string header;
    located at;
};

struct provider_read {
    std::vector<header_use> injected; // claim and payload headers
    std::vector<std::string> token_headers;
    std::optional<located> name_at, issuer_at;
};

bool valid_provider_name(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

// A dotted claim path: non-empty segments.
bool valid_claim_path(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.')
        return false;
    return s.find("..") == std::string_view::npos;
}

std::string_view jwks_problem(const boost::system::error_code& ec) {
    if (ec == jwks_errc::not_json)
        return "is not valid JSON";
    if (ec == jwks_errc::not_an_object)
        return "must be a JSON object";
    if (ec == jwks_errc::no_keys_member)
        return "must have a \"keys\" array";
    if (ec == jwks_errc::no_usable_key)
        return "holds no usable key";
    if (ec == jwks_errc::too_large)
        return "is larger than 1 MiB";
    return "is not a valid JWKS";
}

void read_inline_jwks(reader& r, const located& v, provider_config& p) {
    std::string text;
    if (v.node.IsMap()) {
        const auto json = yaml_to_json(r, v);
        if (!json)
            return;
        text = boost::json::serialize(*json);
    } else if (v.node.IsScalar()) {
        text = v.node.Scalar();
    } else {
        r.error(v.where, v.path, "expected a JWKS (a mapping, or a string of JSON)");
        return;
    }
    const auto parsed = parse_jwks(text, true);
    if (!parsed) {
        std::string message(jwks_problem(parsed.error()));
        r.error(v.where, v.path, message);
        return;
    }
    p.inline_jwks = std::move(text);
}

// Sets p.source and its value; returns whether the source is remote (for HS* checks).
bool read_key_source(reader& r, const mapping& m, const located& item, provider_config& p,
                     const located* issuer) {
    static constexpr std::string_view sources[] = {"jwks_uri", "discovery", "jwks_file", "jwks"};
    const located* first = nullptr;
    std::string_view first_key;
    bool remote = false;
    for (const auto& [key, v] : m.entries) {
        if (std::find(std::begin(sources), std::end(sources), key) == std::end(sources)) {
            continue;
        }
        if (key == "discovery") {
            const auto on = read_bool(r, v);
            if (!on || !*on)
                continue;
        }
        if (first != nullptr) {
            r.error(v.key_where, v.path,
                    "only one key source is allowed; '" + std::string(first_key) +
                        "' is already set on line " + std::to_string(first->key_where.line));
            remote = remote || key == "jwks_uri" || key == "discovery";
            continue;
        }
        first = &v;
        first_key = key;
        if (key == "jwks_uri") {
            remote = true;
            p.source = key_source_kind::jwks_uri;
            if (const auto s = read_string(r, v)) {
                std::string why;
                if (parse_http_url(*s, why)) {
                    p.jwks_uri = *s;
                } else {
                    r.error(v.where, v.path, why);
                }
            }
        } else if (key == "discovery") {
            remote = true;
            p.source = key_source_kind::discovery;
            std::string why;
            if (issuer != nullptr && issuer->node.IsScalar() && !issuer->node.Scalar().empty()) {
                const auto url = parse_http_url(issuer->node.Scalar(), why);
                if (url && url->has_query)
                    why = "must not contain a query ('?')";
                if (!url || url->has_query) {
                    r.error(issuer->where, issuer->path,
                            "with discovery: true the issuer must be an http(s) URL: " + why);
                }
            }
        } else if (key == "jwks_file") {
            p.source = key_source_kind::jwks_file;
            if (auto s = read_string(r, v))
                p.jwks_file = std::move(*s);
        } else {
            p.source = key_source_kind::inline_jwks;
            read_inline_jwks(r, v, p);
        }
    }
    if (first == nullptr) {
        r.error(item.where, item.path,
                "no key source: set exactly one of jwks_uri, discovery: true, jwks_file, jwks");
    }
    return remote;
}

void read_algorithms(reader& r, const located& v, bool remote, verify_policy& policy) {
    const auto items = read_string_list(r, v, true);
    if (!items)
        return;
    if (items->empty()) {
        r.error(v.where, v.path, "must not be empty (omit it to allow every asymmetric one)");
        return;
    }
    policy.algorithms.reset();
    for (const auto& [name, at] : *items) {
        const auto alg = parse_jws_alg(name);
        if (name == "none") {
            r.error(at.where, at.path, "'none' is never allowed");
        } else if (!alg) {
            r.error(at.where, at.path, "unknown algorithm '" + name + "'");
        } else if (is_symmetric(*alg) && remote) {
            r.error(at.where, at.path,
                    name + " needs a local 'oct' key (jwks or jwks_file); it is never allowed "
                           "with a remote key source (jwks_uri, discovery)");
        } else {
            policy.algorithms.set(static_cast<std::size_t>(*alg));
        }
    }
}

bool valid_query_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~';
    });
}

std::optional<token_source> read_token_source(reader& r, const located& item) {
    static constexpr std::string_view keys[] = {"header", "cookie", "query", "scheme"};
    const auto m = read_mapping(r, item, keys);
    if (!m)
        return std::nullopt;
    std::optional<token_source> out;
    bool bad = false;
    for (const auto& [key, v] : m->entries) {
        if (key == "scheme")
            continue;
        if (out) {
            r.error(v.key_where, v.path, "a token source has exactly one of header, cookie, query");
            bad = true;
            continue;
        }
        token_source s;
        std::optional<std::string> name;
        if (key == "header") {
            s.kind = token_source_kind::header;
            name = read_header_name(r, v);
            if (name && iequals(*name, "authorization"))
                s.scheme = "Bearer";
        } else {
            s.kind = key == "cookie" ? token_source_kind::cookie : token_source_kind::query;
            name = read_string(r, v);
            const bool ok =
                key == "cookie" ? is_token(name.value_or("")) : valid_query_name(name.value_or(""));
            if (name && !ok) {
                r.error(v.where, v.path, "'" + *name + "' is not a valid " + key + " name");
                name.reset();
            }
        }
        bad = bad || !name;
        s.name = name.value_or("");
        out = std::move(s);
    }
    if (!out) {
        r.error(item.where, item.path, "a token source needs one of header, cookie, query");
        return std::nullopt;
    }
    if (const located* scheme = m->get("scheme")) {
        if (out->kind != token_source_kind::header) {
            r.error(scheme->key_where, scheme->path, "'scheme' is only for a header source");
            bad = true;
        } else if (auto s = read_string(r, *scheme, true)) {
            if (!s->empty() && !is_token(*s)) {
                r.error(scheme->where, scheme->path, "'" + *s + "' is not a valid auth scheme");
                bad = true;
            }
            out->scheme = std::move(*s);
        } else {
            bad = true;
        }
    }
    if (bad)
        return std::nullopt;
    return out;
}

void read_token_sources(reader& r, const located& v, provider_config& p, provider_read& seen) {
    const auto items = read_sequence(r, v);
    if (!items)
        return;
    if (items->empty()) {
        r.error(v.where, v.path, "must not be empty (omit it for Authorization: Bearer)");
        return;
    }
    p.token_sources.clear();
    for (const auto& item : *items) {
        if (auto s = read_token_source(r, item)) {
            if (s->kind == token_source_kind::header)
                seen.token_headers.push_back(s->name);
            p.token_sources.push_back(std::move(*s));
        }
    }
}

// A claim or payload header: a valid name, not reserved, not used twice in the provider.
std::optional<std::string> read_injected_header(reader& r, const located& v, provider_read& seen) {
    auto name = read_header_name(r, v);
    if (!name)
        return std::nullopt;
    const auto reserved = std::find_if(std::begin(reserved_headers), std::end(reserved_headers),
                                       [&](std::string_view h) { return iequals(h, *name); });
    if (reserved != std::end(reserved_headers)) {
        r.error(v.where, v.path,
                "'" + *name +
                    "' cannot carry claims: incoming values of claim headers are "
                    "removed from every request");
        return std::nullopt;
    }
    for (const auto& used : seen.injected) {
        if (iequals(used.header, *name)) {
            r.error(v.where, v.path, "header '" + *name + "' is already set from " + used.at.path);
            return std::nullopt;
        }
    }
    seen.injected.push_back(header_use{*name, v});
    return name;
}

void read_claims_to_headers(reader& r, const located& v, provider_config& p, provider_read& seen) {
    const auto m = read_open_mapping(r, v);
    if (!m)
        return;
    for (const auto& [claim, at] : m->entries) {
        if (!valid_claim_path(claim)) {
            r.error(at.key_where, at.path, "'" + claim + "' is not a valid claim path");
            continue;
        }
        if (auto header = read_injected_header(r, at, seen)) {
            p.claims_to_headers.emplace_back(claim, std::move(*header));
        }
    }
}

void read_timings(reader& r, const mapping& m, provider_config& p) {
    const auto positive = [&](const located& x) { return read_duration(r, x, duration(1)); };
    assign(m, "jwks_refresh_interval", p.jwks_refresh_interval, positive);
    assign(m, "jwks_min_refresh_interval", p.jwks_min_refresh_interval, positive);
    assign(m, "jwks_fetch_timeout", p.jwks_fetch_timeout, positive);
    assign(m, "jwks_max_stale", p.jwks_max_stale, positive);
    if (p.jwks_min_refresh_interval > p.jwks_refresh_interval) {
        const located* at = m.get("jwks_min_refresh_interval");
        if (at == nullptr)
            at = m.get("jwks_refresh_interval");
        r.error(at->where, at->path,
                "jwks_min_refresh_interval (" +
                    std::to_string(p.jwks_min_refresh_interval.count()) +
                    "ms) must not exceed jwks_refresh_interval (" +
                    std::to_string(p.jwks_refresh_interval.count()) + "ms)");
    }
}

void read_policy(reader& r, const mapping& m, bool remote, verify_policy& policy) {
    policy.algorithms = asymmetric_algorithms();
    if (const located* v = m.get("audiences")) {
        if (auto items = read_string_list(r, *v, true)) {
            if (items->empty()) {
                r.error(v->where, v->path, "must not be empty (omit it to skip the check)");
            }
            for (auto& [aud, at] : *items)
                policy.audiences.push_back(std::move(aud));
        }
    }
    if (const located* v = m.get("algorithms"))
        read_algorithms(r, *v, remote, policy);
    assign(m, "clock_skew", policy.clock_skew,
           [&](const located& x) { return read_seconds(r, x, 0); });
    assign(m, "require_exp", policy.require_exp, [&](const located& x) { return read_bool(r, x); });
    if (const located* v = m.get("max_token_lifetime")) {
        if (const auto s = read_seconds(r, *v, 1))
            policy.max_token_lifetime = *s;
    }
    if (const located* v = m.get("token_types")) {
        if (auto items = read_string_list(r, *v, true)) {
            if (items->empty()) {
                r.error(v->where, v->path, "must not be empty (omit it to skip the check)");
            }
            for (auto& [typ, at] : *items)
                policy.token_types.push_back(normalise_typ(typ));
        }
    }
}

// Reads one provider; returns it when its name could be read (so that rules naming it
// do not get a second, misleading error).
std::optional<provider_config> read_provider(reader& r, const located& item, provider_read& seen) {
    const auto m = read_mapping(r, item, provider_keys);
    if (!m)
        return std::nullopt;
    provider_config p;
    p.line = item.where.line;
    p.token_sources = {token_source{token_source_kind::header, "Authorization", "Bearer"}};
    std::optional<std::string> name;
    if (const located* v = m->require(r, "name")) {
        seen.name_at = *v;
        name = read_string(r, *v);
        if (name && !valid_provider_name(*name)) {
            r.error(v->where, v->path,
                    "'" + *name + "': a name may contain only letters, digits, '.', '_', '-'");
        }
    }
    const located* issuer = m->require(r, "issuer");
    if (issuer != nullptr) {
        seen.issuer_at = *issuer;
        if (auto s = read_string(r, *issuer))
            p.policy.issuer = std::move(*s);
    }
    const bool remote = read_key_source(r, *m, item, p, issuer);
    read_policy(r, *m, remote, p.policy);
    read_timings(r, *m, p);
    assign(*m, "jwks_ca_file", p.jwks_ca_file,
           [&](const located& x) { return read_string(r, x, true); });
    if (const located* v = m->get("token_sources"))
        read_token_sources(r, *v, p, seen);
    if (const located* v = m->get("claims_to_headers"))
        read_claims_to_headers(r, *v, p, seen);
    if (const located* v = m->get("payload_header")) {
        if (auto h = read_injected_header(r, *v, seen))
            p.payload_header = std::move(*h);
    }
    assign(*m, "forward_token", p.forward_token, [&](const located& x) { return read_bool(r, x); });
    if (!name)
        return std::nullopt;
    p.name = std::move(*name);
    return p;
}

} // namespace

void read_providers(reader& r, const located& v, config& cfg) {
    const auto items = read_sequence(r, v);
    if (!items)
        return;
    std::vector<provider_read> reads(items->size());
    for (std::size_t i = 0; i < items->size(); ++i) {
        const located& item = (*items)[i];
        auto p = read_provider(r, item, reads[i]);
        if (!p)
            continue;
        for (const auto& earlier : cfg.providers) {
            if (earlier.name == p->name) {
                r.error(reads[i].name_at->where, reads[i].name_at->path,
                        "provider '" + p->name + "' is already defined on line " +
                            std::to_string(earlier.line));
            }
            if (!p->policy.issuer.empty() && earlier.policy.issuer == p->policy.issuer) {
                r.error(reads[i].issuer_at->where, reads[i].issuer_at->path,
                        "issuer is already used by provider '" + earlier.name + "'");
            }
        }
        cfg.providers.push_back(std::move(*p));
    }
    // Incoming claim headers are stripped on every request, so a provider must never
    // inject into a header another one reads tokens from.
    for (std::size_t i = 0; i < reads.size(); ++i) {
        for (const auto& use : reads[i].injected) {
            for (std::size_t j = 0; j < reads.size(); ++j) {
                const auto& heads = reads[j].token_headers;
                const bool clash = std::any_of(heads.begin(), heads.end(), [&](const auto& h) {
                    return iequals(h, use.header);
                });
                if (clash) {
                    r.error(use.at.where, use.at.path,
                            "'" + use.header + "' is a token source header of " +
                                item_path("providers", j));
                }
            }
        }
    }
}

} // namespace jwtgate::core::config_detail
