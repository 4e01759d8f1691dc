// Tests for claim lookup, header rendering (SPEC "Claim values"), scopes and claim checks.
#include "core/claims.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace bdata = boost::unit_test::data;
namespace json = boost::json;
using namespace std::literals;
using jwtgate::core::claim_matches;
using jwtgate::core::find_claim;
using jwtgate::core::has_scopes;
using jwtgate::core::render_claim;
using jwtgate::core::render_status;

namespace {

struct render_row {
    const char* name;
    std::string_view json_text;
    render_status status;
    std::string_view out;
};
std::ostream& operator<<(std::ostream& os, const render_row& r) {
    return os << r.name;
}

constexpr auto ok = render_status::ok;
constexpr auto refused = render_status::refused;

const render_row renders[] = {
    {"string", R"("alice")", ok, "alice"},
    {"empty_string", R"("")", ok, ""},
    {"string_with_comma", R"("a,b")", ok, "a,b"},
    {"string_with_quotes", R"("say \"hi\"")", ok, R"(say "hi")"},
    {"int", "42", ok, "42"},
    {"zero", "0", ok, "0"},
    {"negative_int", "-42", ok, "-42"},
    {"int64_min", "-9223372036854775808", ok, "-9223372036854775808"},
    {"int64_max", "9223372036854775807", ok, "9223372036854775807"},
    {"uint64_max", "18446744073709551615", ok, "18446744073709551615"},
    {"double", "1.5", ok, "1.5"},
    {"double_large", "1e300", ok, "1e+300"},
    {"double_tenth", "0.1", ok, "0.1"},
    {"double_small", "1e-7", ok, "1e-07"},
    {"double_integral", "2.0", ok, "2"},
    {"double_negative_zero", "-0.0", ok, "-0"},
    {"beyond_uint64_is_double", "18446744073709551616", ok, "18446744073709551616"},
    {"double_huge_integral", "1e21", ok, "1e+21"},
    {"true", "true", ok, "true"},
    {"false", "false", ok, "false"},
    {"null_omitted", "null", render_status::omit, ""},
    {"string_array", R"(["a","b"])", ok, "a,b"},
    {"single_item_array", R"(["a"])", ok, "a"},
    {"mixed_scalars", R"([1,"x",true])", ok, "1,x,true"},
    {"numbers_rendered", R"([1.5,-3,18446744073709551615])", ok, "1.5,-3,18446744073709551615"},
    {"null_item", R"(["a",null])", ok, "a,null"},
    {"array_strings_unescaped", R"(["a\"b","c\\d"])", ok, R"(a"b,c\d)"},
    {"empty_array", "[]", ok, ""},
    {"array_of_object", R"([{"a":1}])", ok, R"([{"a":1}])"},
    {"array_with_array", R"([1,[2]])", ok, R"([1,[2]])"},
    {"object", R"({"a":[1,2]})", ok, R"({"a":[1,2]})"},
    {"object_spaces_removed", R"({ "a" : { "b" : "c" } })", ok, R"({"a":{"b":"c"}})"},
    {"empty_object", "{}", ok, "{}"},
    {"object_newline_escaped", R"({"a":"x\ny"})", ok, R"({"a":"x\ny"})"},
    {"crlf_refused", R"("a\r\nb")", refused, ""},
    {"lf_refused", R"("a\nb")", refused, ""},
    {"nul_refused", R"("a\u0000b")", refused, ""},
    {"unit_separator_refused", R"("a\u001fb")", refused, ""},
    {"tab_allowed", R"("a\tb")", ok, "a\tb"},
    {"del_refused", R"("\u007f")", refused, ""},
    {"del_in_object_refused", R"({"a":"\u007f"})", refused, ""},
    {"crlf_in_array_refused", R"(["ok","b\nc"])", refused, ""},
    {"utf8_passes", R"("é漢🙂")", ok, "é漢🙂"},
    {"escaped_utf8_passes", R"("\u00e9")", ok, "é"},
    {"c1_range_passes", R"("\u0085")", ok, "\xC2\x85"},
};

} // namespace

BOOST_AUTO_TEST_SUITE(claims)

BOOST_DATA_TEST_CASE(render_claim_table, bdata::make(renders), row) {
    const json::value v = json::parse(row.json_text);
    std::string out = "stale";
    BOOST_TEST(static_cast<int>(render_claim(v, out)) == static_cast<int>(row.status));
    BOOST_TEST(out == row.out);
}

namespace {

const char* const lookup_payload = R"({
    "sub": "u1",
    "org": {"id": 7, "name": {"first": "x"}},
    "a.b": "flat",
    "a": {"b": "nested", "c": "only_nested"},
    "arr": [1, 2],
    "x": {"y": null},
    "e": {"": 1}
})";

struct find_row {
    const char* name;
    std::string_view path;
    std::string_view found; // compact JSON of the claim, "" when absent
};
std::ostream& operator<<(std::ostream& os, const find_row& r) {
    return os << r.name;
}

const find_row finds[] = {
    {"top_level", "sub", R"("u1")"},
    {"top_level_object", "org", R"({"id":7,"name":{"first":"x"}})"},
    {"dotted", "org.id", "7"},
    {"dotted_deep", "org.name.first", R"("x")"},
    {"exact_key_wins", "a.b", R"("flat")"},
    {"descent_when_no_exact_key", "a.c", R"("only_nested")"},
    {"null_value_is_found", "x.y", "null"},
    {"missing_member", "org.missing", ""},
    {"through_a_number", "org.id.x", ""},
    {"no_array_indexing", "arr.0", ""},
    {"empty_path", "", ""},
    {"leading_dot", ".sub", ""},
    {"trailing_dot", "sub.", ""},
    {"double_dot", "org..id", ""},
    {"empty_member_name", "e.", ""},
    {"absent", "nope", ""},
};

} // namespace

BOOST_DATA_TEST_CASE(find_claim_table, bdata::make(finds), row) {
    const json::object payload = json::parse(lookup_payload).as_object();
    const json::value* v = find_claim(payload, row.path);
    BOOST_TEST((v == nullptr ? std::string() : json::serialize(*v)) == row.found);
}

namespace {

struct scope_row {
    const char* name;
    std::string_view payload;
    std::vector<std::string> required;
    bool ok;
};
std::ostream& operator<<(std::ostream& os, const scope_row& r) {
    return os << r.name;
}

const scope_row scopes[] = {
    {"scope_string_one", R"({"scope":"read"})", {"read"}, true},
    {"scope_string_all", R"({"scope":"read write admin"})", {"write", "read"}, true},
    {"scope_string_extra_spaces", R"({"scope":"  read   write "})", {"read", "write"}, true},
    {"scope_string_partial", R"({"scope":"read"})", {"read", "write"}, false},
    {"scope_substring_is_not_scope", R"({"scope":"readwrite"})", {"read"}, false},
    {"scope_prefix_is_not_scope", R"({"scope":"read:all"})", {"read"}, false},
    {"scope_case_sensitive", R"({"scope":"Read"})", {"read"}, false},
    {"scope_tab_is_not_separator", "{\"scope\":\"read\\twrite\"}", {"read"}, false},
    {"scope_array_not_accepted", R"({"scope":["read"]})", {"read"}, false},
    {"scp_array", R"({"scp":["read","write"]})", {"write", "read"}, true},
    {"scp_array_partial", R"({"scp":["read"]})", {"read", "write"}, false},
    {"scp_array_non_strings_ignored", R"({"scp":[1,true,"read"]})", {"read"}, true},
    {"scp_array_item_with_space", R"({"scp":["read write"]})", {"read"}, false},
    {"scp_string", R"({"scp":"read write"})", {"write"}, true},
    {"scope_and_scp_combined", R"({"scope":"read","scp":["write"]})", {"read", "write"}, true},
    {"missing", R"({"sub":"x"})", {"read"}, false},
    {"scope_wrong_type", R"({"scope":42})", {"read"}, false},
    {"nothing_required", R"({})", {}, true},
};

} // namespace

BOOST_DATA_TEST_CASE(has_scopes_table, bdata::make(scopes), row) {
    const json::object payload = json::parse(row.payload).as_object();
    BOOST_TEST(has_scopes(payload, row.required) == row.ok);
}

namespace {

const char* const match_payload = R"({
    "role": "admin",
    "roles": ["a", "b", 3],
    "n": 5,
    "big": 18446744073709551615,
    "f": 1.0,
    "half": 0.5,
    "neg": -1,
    "org": {"tier": "gold"},
    "flag": true,
    "nothing": null,
    "nested": [[1, 2]],
    "obj": {"k": 1, "l": [1]}
})";

struct match_row {
    const char* name;
    std::string_view path;
    std::string_view expected; // JSON
    bool matches;
};
std::ostream& operator<<(std::ostream& os, const match_row& r) {
    return os << r.name;
}

const match_row claim_matches_rows[] = {
    {"string_equal", "role", R"("admin")", true},
    {"string_case", "role", R"("Admin")", false},
    {"string_not_array_member", "role", R"(["admin"])", false},
    {"array_contains", "roles", R"("b")", true},
    {"array_contains_number", "roles", "3", true},
    {"array_contains_number_as_double", "roles", "3.0", true},
    {"array_missing", "roles", R"("c")", false},
    {"array_number_not_string", "roles", R"("3")", false},
    {"array_whole", "roles", R"(["a","b",3])", true},
    {"array_whole_order_matters", "roles", R"(["b","a",3])", false},
    {"int_equal", "n", "5", true},
    {"int_vs_double", "n", "5.0", true},
    {"int_vs_fraction", "n", "5.5", false},
    {"int_vs_string", "n", R"("5")", false},
    {"uint_max", "big", "18446744073709551615", true},
    {"uint_max_vs_rounded_double", "big", "1.8446744073709552e19", false},
    {"uint_vs_int", "big", "-1", false},
    {"double_vs_int", "f", "1", true},
    {"double_equal", "half", "0.5", true},
    {"double_unequal", "half", "0.25", false},
    {"negative", "neg", "-1", true},
    {"negative_vs_uint_max", "neg", "18446744073709551615", false},
    {"dotted_path", "org.tier", R"("gold")", true},
    {"dotted_path_wrong", "org.tier", R"("silver")", false},
    {"bool", "flag", "true", true},
    {"bool_vs_string", "flag", R"("true")", false},
    {"bool_vs_number", "flag", "1", false},
    {"null_equal", "nothing", "null", true},
    {"nested_array_contains_array", "nested", "[1,2]", true},
    {"nested_array_not_flattened", "nested", "1", false},
    {"object_equal", "obj", R"({"l":[1.0],"k":1})", true},
    {"object_extra_member", "obj", R"({"k":1,"l":[1],"m":2})", false},
    {"object_missing_member", "obj", R"({"k":1})", false},
    {"absent", "missing", R"("x")", false},
    {"absent_null", "missing", "null", false},
};

} // namespace

BOOST_DATA_TEST_CASE(claim_matches_table, bdata::make(claim_matches_rows), row) {
    const json::object payload = json::parse(match_payload).as_object();
    BOOST_TEST(claim_matches(payload, row.path, json::parse(row.expected)) == row.matches);
}

BOOST_AUTO_TEST_SUITE_END()
