// Tests for segment-boundary prefix matching, rule ordering and CORS preflight detection.
#include "core/rules.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace bdata = boost::unit_test::data;
using jwtgate::core::is_cors_preflight;
using jwtgate::core::prefix_matches;
using jwtgate::core::rule;
using jwtgate::core::rule_table;

namespace {

struct prefix_row {
    const char* name;
    std::string_view prefix;
    std::string_view path;
    bool matches;
};
std::ostream& operator<<(std::ostream& os, const prefix_row& r) {
    return os << r.name;
}

const prefix_row prefixes[] = {
    {"exact", "/protected", "/protected", true},
    {"trailing_slash", "/protected", "/protected/", true},
    {"below", "/protected", "/protected/a", true},
    {"deep_below", "/protected", "/protected/a/b/c", true},
    {"longer_segment", "/protected", "/protectedx", false},
    {"case_sensitive", "/protected", "/Protected", false},
    {"shorter_path", "/protected", "/protecte", false},
    {"root_path", "/protected", "/", false},
    {"inner_prefix_is_not_outer", "/a", "/b/a", false},
    {"two_segments_below", "/a/b", "/a/b/c/d", true},
    {"two_segments_longer", "/a/b", "/a/bc", false},
    {"slash_prefix_not_bare", "/api/", "/api", false},
    {"slash_prefix_exact", "/api/", "/api/", true},
    {"slash_prefix_below", "/api/", "/api/x", true},
    {"slash_prefix_other_segment", "/api/", "/apix/", false},
    {"root_matches_root", "/", "/", true},
    {"root_matches_any", "/", "/anything", true},
    {"root_matches_deep", "/", "/a/b/", true},
    {"root_not_asterisk", "/", "*", false},
    {"empty_prefix", "", "/", false},
};

} // namespace

BOOST_AUTO_TEST_SUITE(rules)

BOOST_DATA_TEST_CASE(prefix_matches_table, bdata::make(prefixes), row) {
    BOOST_TEST(prefix_matches(row.prefix, row.path) == row.matches);
}

namespace {

rule make_rule(std::string prefix, std::vector<std::string> methods, int line) {
    rule r;
    r.prefix = std::move(prefix);
    r.methods = std::move(methods);
    r.line = line;
    return r;
}

// Deliberately not in match order, with equal prefixes in a known config order.
rule_table sample_table() {
    return rule_table({
        make_rule("/", {}, 10),
        make_rule("/api/admin", {"DELETE"}, 40),
        make_rule("/api", {"GET", "HEAD"}, 20),
        make_rule("/api/admin", {}, 50),
        make_rule("/api", {"POST"}, 30),
        make_rule("/static/", {}, 60),
    });
}

struct match_row {
    const char* name;
    std::string_view path;
    std::string_view method;
    int line; // 0: no rule
};
std::ostream& operator<<(std::ostream& os, const match_row& r) {
    return os << r.name;
}

const match_row matches[] = {
    {"longest_wins", "/api/admin/users", "GET", 50},
    {"longest_exact", "/api/admin", "GET", 50},
    {"equal_prefix_first_in_config_order", "/api/admin", "DELETE", 40},
    {"method_rule", "/api/x", "GET", 20},
    {"second_method_listed", "/api", "HEAD", 20},
    {"same_prefix_other_methods", "/api/x", "POST", 30},
    {"methods_exclude_fall_to_shorter", "/api/x", "PUT", 10},
    {"methods_are_case_sensitive", "/api/x", "get", 10},
    {"segment_boundary", "/apix", "GET", 10},
    {"admin_boundary", "/api/administrator", "DELETE", 10},
    {"admin_boundary_get", "/api/administrator", "GET", 20},
    {"slash_prefix_below", "/static/app.js", "GET", 60},
    {"slash_prefix_bare", "/static", "GET", 10},
    {"root_catch_all", "/other", "OPTIONS", 10},
};

} // namespace

BOOST_DATA_TEST_CASE(match_table, bdata::make(matches), row) {
    const rule_table table = sample_table();
    const rule* r = table.match(row.path, row.method);
    BOOST_TEST((r == nullptr ? 0 : r->line) == row.line);
}

namespace {

const match_row no_root_matches[] = {
    {"match", "/api/x", "GET", 1},
    {"method_excluded_nothing_shorter", "/api/x", "POST", 0},
    {"no_prefix_matches", "/other", "GET", 0},
    {"boundary", "/apix", "GET", 0},
};

} // namespace

BOOST_DATA_TEST_CASE(no_match_table, bdata::make(no_root_matches), row) {
    const rule_table table({make_rule("/api", {"GET"}, 1)});
    const rule* r = table.match(row.path, row.method);
    BOOST_TEST((r == nullptr ? 0 : r->line) == row.line);
}

BOOST_AUTO_TEST_CASE(empty_table_matches_nothing) {
    const rule_table table;
    BOOST_TEST(table.match("/", "GET") == nullptr);
    BOOST_TEST(table.ordered().empty());
}

BOOST_AUTO_TEST_CASE(ordered_longest_first_stable) {
    const rule_table table = sample_table();
    std::vector<int> lines;
    for (const rule& r : table.ordered())
        lines.push_back(r.line);
    const std::vector<int> expected{40, 50, 60, 20, 30, 10};
    BOOST_TEST(lines == expected, boost::test_tools::per_element());
}

namespace {

struct cors_row {
    const char* name;
    std::string_view method;
    bool origin;
    bool acrm;
    bool preflight;
};
std::ostream& operator<<(std::ostream& os, const cors_row& r) {
    return os << r.name;
}

const cors_row cors[] = {
    {"preflight", "OPTIONS", true, true, true},
    {"no_origin", "OPTIONS", false, true, false},
    {"no_request_method", "OPTIONS", true, false, false},
    {"plain_options", "OPTIONS", false, false, false},
    {"get_with_both", "GET", true, true, false},
    {"lower_case_method", "options", true, true, false},
};

} // namespace

BOOST_DATA_TEST_CASE(cors_preflight_table, bdata::make(cors), row) {
    BOOST_TEST(is_cors_preflight(row.method, row.origin, row.acrm) == row.preflight);
}

BOOST_AUTO_TEST_SUITE_END()
