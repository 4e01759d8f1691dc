// The per-request decision: path -> rule -> token -> provider -> verification -> require.
#include "core/authorize.hpp"

#include "core/ascii.hpp"
#include "core/claims.hpp"
#include "core/jwt.hpp"
#include "core/verify.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>

namespace jwtgate::core {

namespace json = boost::json;

std::string_view to_string(outcome o) noexcept {
    switch (o) {
    case outcome::allowed: return "allowed";
    case outcome::anonymous: return "anonymous";
    case outcome::public_route: return "public";
    case outcome::preflight: return "preflight";
    case outcome::no_token: return "no_token";
    case outcome::expired: return "expired";
    case outcome::invalid: return "invalid";
    case outcome::insufficient_scope: return "insufficient_scope";
    case outcome::forbidden: return "forbidden";
    case outcome::denied: return "denied";
    case outcome::key_set_unavailable: return "key_set_unavailable";
    case outcome::bad_request: return "bad_request";
    case outcome::wait_for_keys: return "wait_for_keys";
    }
    return "unknown";
}

namespace {

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = ascii_lower(c);
    }
    return out;
}

// A found token, or the fact that a source was present but unusable.
struct extracted {
    enum class kind { absent, token, malformed } what = kind::absent;
    std::string token;
    token_origin origin;
};

// The characters of a compact JWS (base64url and '.'), as a table: the check runs over
// the whole token on every request, cache hits included.
constexpr std::array<bool, 256> jwt_char_table = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) {
        t[static_cast<std::size_t>(c)] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    }
    return t;
}();

bool jwt_chars_only(std::string_view t) noexcept {
    bool ok = true;
    for (char c : t) {
        ok &= jwt_char_table[static_cast<unsigned char>(c)]; // no early exit: vectorisable
    }
    return ok;
}

// RFC 6750 2.1: "Bearer" 1*SP token. Another scheme counts as absent; the configured
// scheme with an empty or malformed credential is an invalid token.
extracted from_header_value(std::string_view value, const token_source& src) {
    extracted out;
    out.origin = {token_source_kind::header, src.name};
    value = trim(value);
    if (src.scheme.empty()) {
        if (value.empty()) {
            return out;
        }
        out.what = jwt_chars_only(value) ? extracted::kind::token : extracted::kind::malformed;
        out.token = std::string(value);
        return out;
    }
    auto space = value.find_first_of(" \t");
    std::string_view scheme = value.substr(0, space);
    if (!iequals(scheme, src.scheme)) {
        // A bare credential without any scheme ("Authorization: eyJ...") is a malformed
        // Authorization value, not another scheme.
        if (space == std::string_view::npos && value.find('.') != std::string_view::npos) {
            out.what = extracted::kind::malformed;
        }
        return out;
    }
    std::string_view cred =
        space == std::string_view::npos ? std::string_view{} : trim(value.substr(space));
    if (cred.empty() || !jwt_chars_only(cred)) {
        out.what = extracted::kind::malformed;
        return out;
    }
    out.what = extracted::kind::token;
    out.token = std::string(cred);
    return out;
}

extracted from_headers(std::span<const header_field> headers, const token_source& src) {
    const header_field* found = nullptr;
    for (const auto& h : headers) {
        if (iequals(h.name, src.name)) {
            if (found != nullptr) {
                // Two credentials in one request are ambiguous: refuse rather than guess.
                extracted out;
                out.what = extracted::kind::malformed;
                out.origin = {token_source_kind::header, src.name};
                return out;
            }
            found = &h;
        }
    }
    if (found == nullptr) {
        return {};
    }
    return from_header_value(found->value, src);
}

extracted from_cookies(std::span<const header_field> headers, const token_source& src) {
    for (const auto& h : headers) {
        if (!iequals(h.name, "cookie")) {
            continue;
        }
        std::string_view rest = h.value;
        while (!rest.empty()) {
            auto semi = rest.find(';');
            std::string_view pair = trim(rest.substr(0, semi));
            rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
            auto eq = pair.find('=');
            if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != src.name) {
                continue;
            }
            std::string_view v = trim(pair.substr(eq + 1));
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
                v = v.substr(1, v.size() - 2);
            }
            extracted out;
            out.origin = {token_source_kind::cookie, src.name};
            out.what = (!v.empty() && jwt_chars_only(v)) ? extracted::kind::token
                                                         : extracted::kind::malformed;
            out.token = std::string(v);
            return out;
        }
    }
    return {};
}

extracted from_query(const request_target& t, const token_source& src) {
    if (!t.has_query) {
        return {};
    }
    auto v = find_query_param(t.query, src.name);
    if (!v) {
        return {};
    }
    extracted out;
    out.origin = {token_source_kind::query, src.name};
    out.what =
        (!v->empty() && jwt_chars_only(*v)) ? extracted::kind::token : extracted::kind::malformed;
    out.token = std::move(*v);
    return out;
}

bool same_source(const token_source& a, const token_source& b) noexcept {
    return a.kind == b.kind && iequals(a.name, b.name) && iequals(a.scheme, b.scheme);
}

// The providers a rule allows, by index, in the rule's order (else config order).
std::vector<std::size_t> allowed_providers(const config& cfg, const rule* r) {
    std::vector<std::size_t> out;
    if (r == nullptr || r->providers.empty()) {
        for (std::size_t i = 0; i < cfg.providers.size(); ++i) {
            out.push_back(i);
        }
        return out;
    }
    for (const auto& name : r->providers) {
        for (std::size_t i = 0; i < cfg.providers.size(); ++i) {
            if (cfg.providers[i].name == name) {
                out.push_back(i);
            }
        }
    }
    return out;
}

std::string_view payload_segment(std::string_view token) noexcept {
    auto first = token.find('.');
    auto second = token.find('.', first + 1);
    return token.substr(first + 1, second - first - 1);
}

void set_final(decision& d, outcome o, int status) {
    d.result = o;
    d.status = status;
    d.forward = false;
}

} // namespace

authorizer::authorizer(std::shared_ptr<const config> cfg, std::shared_ptr<token_cache> cache)
    : cfg_(std::move(cfg)), cache_(std::move(cache)) {
    auto add = [this](std::string_view name) {
        auto l = to_lower(name);
        if (!l.empty() && std::find(identity_.begin(), identity_.end(), l) == identity_.end()) {
            identity_.push_back(std::move(l));
        }
    };
    for (const auto& p : cfg_->providers) {
        for (const auto& [claim, header] : p.claims_to_headers) {
            add(header);
        }
        add(p.payload_header);
    }
    for (const auto& h : cfg_->strip_request_headers) {
        add(h);
    }
}

token_check authorizer::check_token(std::string_view token, const rule* r, key_sets keys,
                                    std::int64_t now) const {
    token_check out;
    const config& cfg = *cfg_;
    const auto allowed = allowed_providers(cfg, r);
    const auto now_d = static_cast<double>(now);

    if (token.size() > cfg.limits.max_token_bytes) {
        out.error = auth_errc::token_too_large;
        return out;
    }
    for (auto i : allowed) {
        if (i < keys.size() && keys[i]) {
            if (auto hit = cache_->find(token, cfg.providers[i].name, now_d, *keys[i])) {
                out.provider_index = i;
                out.provider_known = true;
                out.verified = std::move(hit);
                return out;
            }
        }
    }

    auto parsed = parse_jws(token, cfg.limits.max_token_bytes);
    if (!parsed) {
        out.error = static_cast<auth_errc>(parsed.error().value());
        return out;
    }
    const auto* iss = parsed->payload.if_contains("iss");
    if (iss == nullptr || !iss->is_string()) {
        out.error = auth_errc::missing_issuer;
        return out;
    }
    const provider_config* p = cfg.find_issuer(iss->get_string());
    if (p == nullptr) {
        out.error = auth_errc::unknown_issuer;
        return out;
    }
    out.provider_index = static_cast<std::size_t>(p - cfg.providers.data());
    out.provider_known = true;
    if (std::find(allowed.begin(), allowed.end(), out.provider_index) == allowed.end()) {
        out.error = auth_errc::provider_not_allowed;
        return out;
    }
    if (out.provider_index >= keys.size() || !keys[out.provider_index]) {
        out.error = auth_errc::key_set_unavailable;
        return out;
    }
    auto verified = verify_jws(*parsed, p->policy, *keys[out.provider_index], now);
    if (!verified) {
        out.error = static_cast<auth_errc>(verified.error().value());
        return out;
    }
    auto entry = std::make_shared<cached_token>();
    entry->provider = p->name;
    entry->key_fingerprint = std::move(verified->key_fingerprint);
    entry->claims = std::make_shared<const json::object>(std::move(parsed->payload));
    constexpr double no_exp_lifetime = 300;
    entry->expires_at = verified->exp ? *verified->exp + static_cast<double>(p->policy.clock_skew)
                                      : now_d + no_exp_lifetime;
    cache_->insert(token, entry);
    out.verified = std::move(entry);
    return out;
}

void authorizer::render_headers(const provider_config& p, const cached_token& t,
                                std::string_view token, decision& d) const {
    for (const auto& [claim, header] : p.claims_to_headers) {
        const json::value* v = find_claim(*t.claims, claim);
        if (v == nullptr) {
            continue;
        }
        std::string rendered;
        switch (render_claim(*v, rendered)) {
        case render_status::ok: d.add_headers.emplace_back(header, std::move(rendered)); break;
        case render_status::omit: break;
        case render_status::refused: ++d.claim_headers_refused; break;
        }
    }
    if (!p.payload_header.empty()) {
        // The payload segment as sent is exactly the base64url JSON of the verified payload.
        d.add_headers.emplace_back(p.payload_header, std::string(payload_segment(token)));
    }
}

decision authorizer::decide(const request_view& req, key_sets keys, std::int64_t now,
                            bool final_attempt) const {
    const config& cfg = *cfg_;
    decision d;

    auto target = normalise_target(req.target, req.method);
    if (!target) {
        d.path_error = static_cast<path_errc>(target.error().value());
        d.rule_label = "default";
        set_final(d, outcome::bad_request, 400);
        return d;
    }
    d.path = target->path;
    d.authority = target->authority;
    if (target->asterisk) {
        d.forward_target = "*";
        d.rule_label = "default";
        d.result = outcome::preflight;
        d.forward = true;
        return d;
    }

    const rule* r = cfg.rules.match(target->path, req.method);
    // A ';' in a segment is literal for most servers but starts path parameters for
    // servlet containers ("/public;x" is "/public" there). When the two readings pick
    // different rules, refuse rather than guess which one the upstream uses.
    if (target->path.find(';') != std::string::npos &&
        cfg.rules.match(strip_path_parameters(target->path), req.method) != r) {
        d.path_error = path_errc::ambiguous_parameters;
        d.rule_label = "default";
        set_final(d, outcome::bad_request, 400);
        return d;
    }
    d.matched_rule = r;
    d.rule_label = r != nullptr ? r->prefix : "default";
    d.shadow = r != nullptr && r->mode == rule_mode::shadow;
    const auth_kind auth = r != nullptr ? r->auth : cfg.default_auth;

    std::string query = target->query;
    bool has_query = target->has_query;
    auto finish_target = [&] {
        d.forward_target = target->path;
        if (has_query) {
            d.forward_target += '?';
            d.forward_target += query;
        }
    };

    // In shadow mode every outcome is forwarded; claim headers only when verified.
    auto refuse = [&](outcome o, int status) {
        set_final(d, o, status);
        if (d.shadow) {
            d.forward = true;
            d.status = 0;
            d.add_headers.clear();
            d.strip_token.reset();
        }
        finish_target();
        return d;
    };

    if (auth == auth_kind::deny) {
        return refuse(outcome::denied, 403);
    }
    if (auth == auth_kind::none) {
        d.result = outcome::public_route;
        d.forward = true;
        finish_target();
        return d;
    }
    bool has_origin = false;
    bool has_acrm = false;
    for (const auto& h : req.headers) {
        has_origin = has_origin || iequals(h.name, "origin");
        has_acrm = has_acrm || iequals(h.name, "access-control-request-method");
    }
    if (cfg.cors_preflight_bypass && is_cors_preflight(req.method, has_origin, has_acrm)) {
        d.result = outcome::preflight;
        d.forward = true;
        finish_target();
        return d;
    }

    // Token sources: the rule's providers in order, then each provider's source order.
    const auto allowed = allowed_providers(cfg, r);
    std::vector<const token_source*> sources;
    for (auto i : allowed) {
        for (const auto& s : cfg.providers[i].token_sources) {
            bool dup = std::any_of(sources.begin(), sources.end(),
                                   [&](const token_source* o) { return same_source(*o, s); });
            if (!dup) {
                sources.push_back(&s);
            }
        }
    }
    extracted found;
    for (const auto* s : sources) {
        if (found.what == extracted::kind::absent) {
            switch (s->kind) {
            case token_source_kind::header: found = from_headers(req.headers, *s); break;
            case token_source_kind::cookie: found = from_cookies(req.headers, *s); break;
            case token_source_kind::query: found = from_query(*target, *s); break;
            }
        }
        // A consulted query parameter never reaches the upstream (URLs end up in logs).
        if (s->kind == token_source_kind::query && has_query) {
            query = remove_query_param(query, s->name);
            // "?access_token=x" becomes no query at all, not a dangling "?".
            has_query = !query.empty() || target->query.empty();
        }
    }

    if (found.what == extracted::kind::absent) {
        if (auth == auth_kind::optional) {
            d.result = outcome::anonymous;
            d.forward = true;
            finish_target();
            return d;
        }
        return refuse(outcome::no_token, 401);
    }
    if (found.what == extracted::kind::malformed) {
        d.reason = auth_errc::malformed_token;
        return refuse(outcome::invalid, 401);
    }

    token_check tc = check_token(found.token, r, keys, now);
    if (tc.provider_known) {
        d.provider = &cfg.providers[tc.provider_index];
    }
    if (tc.error == auth_errc::key_set_unavailable ||
        (tc.error == auth_errc::unknown_key && !final_attempt)) {
        if (!final_attempt) {
            d.result = outcome::wait_for_keys;
            d.wait_provider = tc.provider_index;
            return d;
        }
        return refuse(outcome::key_set_unavailable, 503);
    }
    if (tc.error != auth_errc::ok) {
        d.reason = tc.error;
        return refuse(tc.error == auth_errc::expired ? outcome::expired : outcome::invalid, 401);
    }

    const cached_token& t = *tc.verified;
    d.claims = t.claims;
    if (const auto* sub = t.claims->if_contains("sub"); sub != nullptr && sub->is_string()) {
        d.sub = std::string(sub->get_string());
    }
    if (auto unmet = unmet_requirement(r, *t.claims, d.required_scopes)) {
        return refuse(*unmet, 403);
    }

    d.result = outcome::allowed;
    d.forward = true;
    render_headers(*d.provider, t, found.token, d);
    if (!d.provider->forward_token) {
        d.strip_token = found.origin;
    }
    finish_target();
    return d;
}

std::optional<outcome> unmet_requirement(const rule* r, const json::object& claims,
                                         std::string& scopes_out) {
    if (r == nullptr) {
        return std::nullopt;
    }
    if (!r->require_scopes.empty() && !has_scopes(claims, r->require_scopes)) {
        scopes_out.clear();
        for (const auto& s : r->require_scopes) {
            scopes_out += scopes_out.empty() ? "" : " ";
            scopes_out += s;
        }
        return outcome::insufficient_scope;
    }
    for (const auto& [path, expected] : r->require_claims) {
        if (!claim_matches(claims, path, expected)) {
            return outcome::forbidden;
        }
    }
    return std::nullopt;
}

std::string error_body(std::string_view message) {
    json::object o;
    o["error"] = message;
    return json::serialize(o);
}

error_response render_error(const decision& d, std::int64_t retry_after) {
    error_response r;
    r.status = d.status;
    switch (d.result) {
    case outcome::no_token:
        r.body = error_body("No token provided");
        r.www_authenticate = "Bearer realm=\"jwtgate\"";
        break;
    case outcome::expired:
        r.body = error_body("Token has expired");
        r.www_authenticate =
            "Bearer error=\"invalid_token\", error_description=\"Token has expired\"";
        break;
    case outcome::invalid: {
        json::object o;
        o["error"] = "Invalid token";
        o["details"] = details(d.reason);
        r.body = json::serialize(o);
        r.www_authenticate = "Bearer error=\"invalid_token\", error_description=\"";
        r.www_authenticate += details(d.reason);
        r.www_authenticate += '"';
        break;
    }
    case outcome::insufficient_scope:
        r.body = error_body("Insufficient scope");
        r.www_authenticate =
            "Bearer error=\"insufficient_scope\", scope=\"" + d.required_scopes + '"';
        break;
    case outcome::forbidden:
    case outcome::denied: r.body = error_body("Forbidden"); break;
    case outcome::key_set_unavailable:
        r.body = error_body("Key set unavailable");
        r.retry_after = std::max<std::int64_t>(1, retry_after);
        break;
    case outcome::bad_request: {
        json::object o;
        o["error"] = "Bad request";
        o["details"] = make_error_code(d.path_error).message();
        r.body = json::serialize(o);
        break;
    }
    default: r.body = error_body("Internal error"); break;
    }
    return r;
}

} // namespace jwtgate::core
