// Path-prefix rules: segment-boundary matching, longest prefix wins, methods filter.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jwtgate::core {

enum class auth_kind { required, optional, none, deny };
enum class rule_mode { enforce, shadow };

struct rule {
    std::string prefix; // normalised path
    auth_kind auth = auth_kind::required;
    std::vector<std::string> providers; // names; empty = any provider
    std::vector<std::string> methods;   // upper-case; empty = every method
    rule_mode mode = rule_mode::enforce;
    std::vector<std::string> require_scopes;
    std::vector<std::pair<std::string, boost::json::value>> require_claims;
    int line = 0; // 1-based config line (for messages)
};

// True when `prefix` matches `path` on a segment boundary: "/p" matches "/p", "/p/",
// "/p/a", not "/px"; "/p/" matches "/p/" and below, not "/p"; "/" matches everything.
bool prefix_matches(std::string_view prefix, std::string_view path) noexcept;

// The rules in match order (longest prefix first; among equal prefixes, config order).
class rule_table {
  public:
    rule_table() = default;
    explicit rule_table(std::vector<rule> rules);

    // The rule for this request: the longest matching prefix whose methods (if any)
    // include `method`. nullptr when none matches (then default_auth applies).
    const rule* match(std::string_view path, std::string_view method) const noexcept;

    const std::vector<rule>& ordered() const noexcept { return rules_; }

  private:
    std::vector<rule> rules_;
};

// True for a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method.
bool is_cors_preflight(std::string_view method, bool has_origin, bool has_acrm) noexcept;

} // namespace jwtgate::core
