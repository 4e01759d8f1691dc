// The `rules` section: path-prefix rules with auth, providers, methods, mode, require
// (SPEC "Rule matching and paths", "Details": Rule prefixes, 403 kinds).
//
// Decisions:
// - A prefix must be exactly what normalise_path makes of it ("/a/../b", "/a//b", "a"
//   are refused rather than silently rewritten, so the rule reads as it matches).
// - Methods are upper-cased and must be RFC 9110 tokens; repeats are dropped.
// - Two rules with the same prefix whose method sets overlap (either has no `methods`,
//   or they share one) are an error: the second could never match those methods.
// - `require` on an `auth: none` or `auth: deny` rule is an error: no token is ever
//   verified there, so it would never be checked.
// - An explicitly empty `providers`, `methods` or `require.scopes` list is an error
//   (omit the key instead). Scopes may not contain spaces. `require.claims` values are
//   scalars (string, boolean, integer, number), compared as JSON values.
#include "core/config_detail.hpp"

#include "core/path.hpp"

#include <algorithm>

namespace jwtgate::core::config_detail {

namespace {

constexpr std::string_view rule_keys[] = {"prefix",  "auth", "providers",
                                          "methods", "mode", "require"};

constexpr enum_name<auth_kind> auth_names[] = {{"required", auth_kind::required},
                                               {"optional", auth_kind::optional},
                                               {"none", auth_kind::none},
                                               {"deny", auth_kind::deny}};

constexpr enum_name<rule_mode> mode_names[] = {{"enforce", rule_mode::enforce},
                                               {"shadow", rule_mode::shadow}};

std::optional<std::string> read_prefix(reader& r, const located& v) {
    auto prefix = read_string(r, v);
    if (!prefix)
        return std::nullopt;
    if (prefix->front() != '/') {
        r.error(v.where, v.path,
                "'" + *prefix + "' is not a normalised path: it must start with '/'");
        return std::nullopt;
    }
    const auto normal = normalise_path(*prefix);
    if (!normal) {
        r.error(v.where, v.path,
                "'" + *prefix + "' is not a normalised path: " + normal.error().message());
        return std::nullopt;
    }
    if (*normal != *prefix) {
        r.error(v.where, v.path,
                "'" + *prefix + "' is not a normalised path (write '" + *normal + "')");
        return std::nullopt;
    }
    return prefix;
}

void read_rule_providers(reader& r, const located& v, const config& cfg, rule& out) {
    const auto items = read_string_list(r, v, true);
    if (!items)
        return;
    if (items->empty()) {
        r.error(v.where, v.path, "must not be empty (omit it to allow every provider)");
    }
    for (auto& [name, at] : *items) {
        if (cfg.find_provider(name) == nullptr) {
            r.error(at.where, at.path, "unknown provider '" + name + "'");
        } else if (std::find(out.providers.begin(), out.providers.end(), name) ==
                   out.providers.end()) {
            out.providers.push_back(std::move(name));
        }
    }
}

void read_methods(reader& r, const located& v, rule& out) {
    const auto items = read_string_list(r, v, true);
    if (!items)
        return;
    if (items->empty())
        r.error(v.where, v.path, "must not be empty (omit it for every method)");
    for (const auto& [name, at] : *items) {
        if (!is_token(name)) {
            r.error(at.where, at.path, "'" + name + "' is not a valid method");
            continue;
        }
        std::string upper(name);
        for (auto& c : upper) {
            if (c >= 'a' && c <= 'z')
                c = static_cast<char>(c - 'a' + 'A');
        }
        if (std::find(out.methods.begin(), out.methods.end(), upper) == out.methods.end()) {
            out.methods.push_back(std::move(upper));
        }
    }
}

void read_require(reader& r, const located& v, rule& out) {
    static constexpr std::string_view keys[] = {"scopes", "claims"};
    const auto m = read_mapping(r, v, keys);
    if (!m)
        return;
    if (const located* s = m->get("scopes")) {
        if (const auto items = read_string_list(r, *s, true)) {
            if (items->empty())
                r.error(s->where, s->path, "must not be empty");
            for (const auto& [scope, at] : *items) {
                if (scope.find_first_of(" \t") != std::string::npos) {
                    r.error(at.where, at.path, "a scope cannot contain spaces");
                } else {
                    out.require_scopes.push_back(scope);
                }
            }
        }
    }
    if (const located* c = m->get("claims")) {
        const auto claims = read_open_mapping(r, *c);
        if (!claims)
            return;
        for (const auto& [claim, at] : claims->entries) {
            if (claim.empty() || claim.front() == '.' || claim.back() == '.' ||
                claim.find("..") != std::string::npos) {
                r.error(at.key_where, at.path, "'" + claim + "' is not a valid claim path");
            } else if (!at.node.IsScalar()) {
                r.error(at.where, at.path,
                        "expected a string, boolean or number to compare the claim with");
            } else {
                out.require_claims.emplace_back(claim, scalar_to_json(at.node));
            }
        }
    }
}

bool methods_overlap(const rule& a, const rule& b) {
    if (a.methods.empty() || b.methods.empty())
        return true;
    return std::any_of(a.methods.begin(), a.methods.end(), [&](const std::string& m) {
        return std::find(b.methods.begin(), b.methods.end(), m) != b.methods.end();
    });
}

std::optional<rule> read_rule(reader& r, const located& item, const config& cfg,
                              located& prefix_at) {
    const auto m = read_mapping(r, item, rule_keys);
    if (!m)
        return std::nullopt;
    rule out;
    out.line = item.where.line;
    const located* p = m->require(r, "prefix");
    std::optional<std::string> prefix;
    if (p != nullptr) {
        prefix = read_prefix(r, *p);
        prefix_at = *p;
    }
    assign(*m, "auth", out.auth, [&](const located& x) { return read_enum(r, x, auth_names); });
    if (const located* v = m->get("providers"))
        read_rule_providers(r, *v, cfg, out);
    if (const located* v = m->get("methods"))
        read_methods(r, *v, out);
    assign(*m, "mode", out.mode, [&](const located& x) { return read_enum(r, x, mode_names); });
    if (const located* v = m->get("require")) {
        if (out.auth == auth_kind::none || out.auth == auth_kind::deny) {
            r.error(v->key_where, v->path,
                    std::string("has no effect with auth: ") +
                        (out.auth == auth_kind::none ? "none" : "deny") +
                        " (no token is verified on this rule)");
        }
        read_require(r, *v, out);
    }
    if (!prefix)
        return std::nullopt;
    out.prefix = std::move(*prefix);
    return out;
}

} // namespace

void read_rules(reader& r, const located& v, config& cfg) {
    const auto items = read_sequence(r, v);
    if (!items)
        return;
    std::vector<rule> rules;
    for (const auto& item : *items) {
        located prefix_at;
        auto ru = read_rule(r, item, cfg, prefix_at);
        if (!ru)
            continue;
        for (const auto& earlier : rules) {
            if (earlier.prefix == ru->prefix && methods_overlap(earlier, *ru)) {
                r.error(prefix_at.where, prefix_at.path,
                        "the rule on line " + std::to_string(earlier.line) +
                            " has the same prefix for the same methods");
                break;
            }
        }
        rules.push_back(std::move(*ru));
    }
    cfg.rules = rule_table(std::move(rules));
}

} // namespace jwtgate::core::config_detail
