// Path-prefix rules: segment-boundary matching, longest prefix wins, methods filter.
#include "core/rules.hpp"

#include <algorithm>

namespace jwtgate::core {

bool prefix_matches(std::string_view prefix, std::string_view path) noexcept {
    // An empty prefix is not a normalised path: it matches nothing.
    if (prefix.empty() || !path.starts_with(prefix))
        return false;
    // "/api/" (and "/") already end on a boundary; "/api" needs one right after it.
    if (prefix.back() == '/')
        return true;
    return path.size() == prefix.size() || path[prefix.size()] == '/';
}

rule_table::rule_table(std::vector<rule> rules) : rules_(std::move(rules)) {
    std::stable_sort(rules_.begin(), rules_.end(), [](const rule& a, const rule& b) {
        return a.prefix.size() > b.prefix.size();
    });
}

const rule* rule_table::match(std::string_view path, std::string_view method) const noexcept {
    for (const rule& r : rules_) {
        if (!prefix_matches(r.prefix, path))
            continue;
        // A rule whose methods exclude this one is skipped so a shorter prefix may match.
        if (!r.methods.empty() &&
            std::find(r.methods.begin(), r.methods.end(), method) == r.methods.end()) {
            continue;
        }
        return &r;
    }
    return nullptr;
}

bool is_cors_preflight(std::string_view method, bool has_origin, bool has_acrm) noexcept {
    return method == "OPTIONS" && has_origin && has_acrm;
}

} // namespace jwtgate::core
