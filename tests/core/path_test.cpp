// Tests for request-target normalisation (RFC 9112 3.2, RFC 3986 5.2.4) and query helpers.
#include "core/path.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace bdata = boost::unit_test::data;
using namespace std::literals;
using jwtgate::core::find_query_param;
using jwtgate::core::normalise_path;
using jwtgate::core::normalise_target;
using jwtgate::core::path_errc;
using jwtgate::core::remove_query_param;

namespace {

struct target_row {
    const char* name;
    std::string_view target;
    std::string_view method;
    path_errc error; // ok: expect success with the fields below
    std::string_view path = {};
    std::string_view query = {};
    bool has_query = false;
    std::string_view authority = {}; // non-empty: absolute-form expected
};
std::ostream& operator<<(std::ostream& os, const target_row& r) {
    return os << r.name;
}

constexpr auto ok = path_errc::ok;

// clang-format off
const target_row targets[] = {
    // Plain origin-form and SPEC examples.
    {"root", "/", "GET", ok, "/"},
    {"simple", "/protected", "GET", ok, "/protected"},
    {"nested", "/protected/a/b", "GET", ok, "/protected/a/b"},
    {"trailing_slash_kept", "/a/b/", "GET", ok, "/a/b/"},
    // Runs of '/'.
    {"double_slashes", "//a//b", "GET", ok, "/a/b"},
    {"only_slashes", "//", "GET", ok, "/"},
    {"trailing_double_slash", "/a/b//", "GET", ok, "/a/b/"},
    {"slashes_before_dotdot", "/a//../b", "GET", ok, "/b"},
    // Dot segments (RFC 3986 5.2.4), never clamped at the root.
    {"dot", "/a/./b", "GET", ok, "/a/b"},
    {"dotdot", "/a/../b", "GET", ok, "/b"},
    {"dotdot_twice", "/a/b/../../c", "GET", ok, "/c"},
    {"trailing_dot", "/a/b/.", "GET", ok, "/a/b/"},
    {"trailing_dotdot", "/a/b/..", "GET", ok, "/a/"},
    {"trailing_dotdot_to_root", "/a/b/../..", "GET", ok, "/"},
    {"root_dot", "/.", "GET", ok, "/"},
    {"leading_dot_segment", "/./a", "GET", ok, "/a"},
    {"root_dotdot", "/..", "GET", path_errc::above_root},
    {"dotdot_with_params", "/public/..;/admin", "GET", path_errc::dot_segment_parameters},
    {"dot_with_params", "/a/.;x/b", "GET", path_errc::dot_segment_parameters},
    {"encoded_dotdot_with_params", "/a/%2e%2E;jsessionid=1/b", "GET",
     path_errc::dot_segment_parameters},
    {"dotdot_params_last", "/a/..;", "GET", path_errc::dot_segment_parameters},
    {"dotdot_first", "/../a", "GET", path_errc::above_root},
    {"dot_then_dotdot", "/./../", "GET", path_errc::above_root},
    {"climbs_after_descending", "/a/../../b", "GET", path_errc::above_root},
    {"three_dots_last", "/a/...", "GET", ok, "/a/..."},
    {"three_dots_middle", "/a/.../b", "GET", ok, "/a/.../b"},
    {"dot_prefix_name", "/a/.hidden/..b", "GET", ok, "/a/.hidden/..b"},
    // Encoded dots are decoded (unreserved) before dot removal.
    {"encoded_dotdot", "/a/%2e%2e/b", "GET", ok, "/b"},
    {"encoded_dotdot_upper", "/a/%2E%2E", "GET", ok, "/"},
    {"encoded_dotdot_above_root", "/a/%2e%2e/%2E%2e/x", "GET", path_errc::above_root},
    {"encoded_dotdot_only", "/%2e%2e", "GET", path_errc::above_root},
    {"encoded_dotdot_first", "/%2e%2e/x", "GET", path_errc::above_root},
    {"mixed_dotdot", "/.%2e/x", "GET", path_errc::above_root},
    {"mixed_dotdot_trailing", "/a/.%2E", "GET", ok, "/"},
    {"encoded_dot", "/%2e/a", "GET", ok, "/a"},
    {"encoded_three_dots", "/a/%2e%2e%2e", "GET", ok, "/a/..."},
    // Encoded separators and NUL.
    {"encoded_slash_lower", "/a%2fb", "GET", path_errc::encoded_slash},
    {"encoded_slash_upper", "/a%2Fb", "GET", path_errc::encoded_slash},
    {"encoded_backslash_lower", "/a%5cb", "GET", path_errc::encoded_slash},
    {"encoded_backslash_upper", "/a%5Cb", "GET", path_errc::encoded_slash},
    {"encoded_nul", "/a%00", "GET", path_errc::encoded_nul},
    {"raw_nul", "/a\0b"sv, "GET", path_errc::encoded_nul},
    // Percent-encoding: unreserved decoded, the rest kept with upper-case hex.
    {"unreserved_tilde", "/%7euser", "GET", ok, "/~user"},
    {"unreserved_alpha", "/%41", "GET", ok, "/A"},
    {"unreserved_all", "/%61%5A%30%2D%5F%7E", "GET", ok, "/aZ0-_~"},
    {"utf8_escapes_kept", "/%C3%A9", "GET", ok, "/%C3%A9"},
    {"utf8_escapes_uppercased", "/%c3%a9", "GET", ok, "/%C3%A9"},
    {"space_escape_kept", "/a%20b", "GET", ok, "/a%20b"},
    {"question_escape_kept", "/a%3fb", "GET", ok, "/a%3Fb"},
    {"percent_escape_kept", "/a%25", "GET", ok, "/a%25"},
    {"double_encoding_kept", "/a%252F", "GET", ok, "/a%252F"},
    {"escaped_control_lf", "/a%0a", "GET", path_errc::bad_character},
    {"escaped_crlf", "/a%0D%0A", "GET", path_errc::bad_character},
    {"escaped_del", "/a%7F", "GET", path_errc::bad_character},
    {"bad_hex", "/a%zz", "GET", path_errc::bad_percent},
    {"bad_second_hex", "/a%g1", "GET", path_errc::bad_percent},
    {"truncated_escape_one", "/a%4", "GET", path_errc::bad_percent},
    {"truncated_escape_none", "/a%", "GET", path_errc::bad_percent},
    // Raw bytes.
    {"raw_space", "/a b", "GET", path_errc::bad_character},
    {"raw_tab", "/a\tb", "GET", path_errc::bad_character},
    {"raw_crlf_injection", "/a\r\nX-Injected: 1", "GET", path_errc::bad_character},
    {"raw_del", "/a\x7f", "GET", path_errc::bad_character},
    {"raw_utf8", "/\xC3\xA9", "GET", path_errc::bad_character},
    {"raw_backslash", "/a\\b", "GET", path_errc::bad_character},
    {"raw_quote", "/a\"b", "GET", path_errc::bad_character},
    {"raw_lt", "/a<b", "GET", path_errc::bad_character},
    {"raw_gt", "/a>b", "GET", path_errc::bad_character},
    {"raw_caret", "/a^b", "GET", path_errc::bad_character},
    {"raw_backtick", "/a`b", "GET", path_errc::bad_character},
    {"raw_brace_open", "/a{b", "GET", path_errc::bad_character},
    {"raw_pipe", "/a|b", "GET", path_errc::bad_character},
    {"raw_brace_close", "/a}b", "GET", path_errc::bad_character},
    {"raw_bracket", "/a[b", "GET", path_errc::bad_character},
    {"semicolon_allowed", "/a;b", "GET", ok, "/a;b"},
    {"colon_allowed", "/a:b", "GET", ok, "/a:b"},
    {"at_allowed", "/a@b", "GET", ok, "/a@b"},
    {"sub_delims_allowed", "/a!$&'()*+,;=", "GET", ok, "/a!$&'()*+,;="},
    // Fragments.
    {"fragment", "/a#frag", "GET", path_errc::fragment},
    {"fragment_after_query", "/a?b#c", "GET", path_errc::fragment},
    // Query: kept raw, but no raw space, control or non-ASCII.
    {"query_kept_raw", "/a?x=%20", "GET", ok, "/a", "x=%20", true},
    {"query_not_normalised", "/a/./b?x=/../y&%2e", "GET", ok, "/a/b", "x=/../y&%2e", true},
    {"empty_query", "/a?", "GET", ok, "/a", "", true},
    {"second_question_mark", "/a??b", "GET", ok, "/a", "?b", true},
    {"query_space", "/a?x y", "GET", path_errc::bad_character},
    {"query_non_ascii", "/a?x=\xC3\xA9", "GET", path_errc::bad_character},
    {"query_control", "/a?x=\x01", "GET", path_errc::bad_character},
    {"query_nul", "/a?x\0"sv, "GET", path_errc::encoded_nul},
    {"query_path_still_checked", "/a%2f?x=1", "GET", path_errc::encoded_slash},
    // Absolute form (RFC 9112 3.2.2).
    {"absolute", "http://h/x/../y", "GET", ok, "/y", "", false, "h"},
    {"absolute_upper_scheme_port", "HTTP://h:8080", "GET", ok, "/", "", false, "h:8080"},
    {"absolute_https_no_path", "https://h", "GET", ok, "/", "", false, "h"},
    {"absolute_mixed_case_kept", "HtTpS://Example.COM/X", "GET", ok, "/X", "", false, "Example.COM"},
    {"absolute_query", "https://h:443/a?b=1", "GET", ok, "/a", "b=1", true, "h:443"},
    {"absolute_query_no_path", "http://h?x=1", "GET", ok, "/", "x=1", true, "h"},
    {"absolute_ipv6", "http://[::1]:8080/a", "GET", ok, "/a", "", false, "[::1]:8080"},
    {"absolute_userinfo", "http://u@h/", "GET", path_errc::not_origin_form},
    {"absolute_empty_authority", "http:///a", "GET", path_errc::not_origin_form},
    {"absolute_bad_port", "http://h:99x/", "GET", path_errc::not_origin_form},
    {"absolute_empty_port", "http://h:/", "GET", path_errc::not_origin_form},
    {"absolute_comma_host", "http://a,b/", "GET", path_errc::not_origin_form},
    {"absolute_space_host", "http://h h/", "GET", path_errc::bad_character},
    {"absolute_other_scheme", "ftp://h/a", "GET", path_errc::not_origin_form},
    {"absolute_one_slash", "http:/a", "GET", path_errc::not_origin_form},
    {"absolute_encoded_slash", "http://h/a%2fb", "GET", path_errc::encoded_slash},
    {"absolute_above_root", "http://h/../a", "GET", path_errc::above_root},
    // Asterisk form and the rest.
    {"asterisk_options", "*", "OPTIONS", ok, "*"},
    {"asterisk_get", "*", "GET", path_errc::asterisk_not_options},
    {"asterisk_with_query", "*?x", "OPTIONS", path_errc::not_origin_form},
    {"relative", "a/b", "GET", path_errc::not_origin_form},
    {"empty", "", "GET", path_errc::empty},
};
// clang-format on

} // namespace

BOOST_AUTO_TEST_SUITE(path)

BOOST_DATA_TEST_CASE(normalise_target_table, bdata::make(targets), row) {
    const auto r = normalise_target(row.target, row.method);
    if (row.error != ok) {
        BOOST_REQUIRE(r.has_error());
        BOOST_TEST(r.error() == make_error_code(row.error));
        return;
    }
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->path == row.path);
    BOOST_TEST(r->query == row.query);
    BOOST_TEST(r->has_query == row.has_query);
    BOOST_TEST(r->authority == row.authority);
    BOOST_TEST(r->absolute_form == !row.authority.empty());
    BOOST_TEST(r->asterisk == (row.target == "*"));
}

// A normalised path is a fixed point: normalising it again changes nothing.
BOOST_DATA_TEST_CASE(normalised_paths_are_stable, bdata::make(targets), row) {
    const auto r = normalise_target(row.target, row.method);
    if (!r || r->asterisk)
        return;
    const auto again = normalise_path(r->path);
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(*again == r->path);
}

namespace {

struct path_row {
    const char* name;
    std::string_view input;
    path_errc error;
    std::string_view path = {};
};
std::ostream& operator<<(std::ostream& os, const path_row& r) {
    return os << r.name;
}

const path_row paths[] = {
    {"root", "/", ok, "/"},
    {"prefix", "/api/", ok, "/api/"},
    {"normalised", "//api/./v1/../v2", ok, "/api/v2"},
    {"empty", "", path_errc::empty},
    {"relative", "api", path_errc::not_origin_form},
    {"absolute_url_is_not_a_path", "http://h/a", path_errc::not_origin_form},
    {"question_mark", "/a?b", path_errc::bad_character},
    {"fragment", "/a#b", path_errc::fragment},
    {"above_root", "/..", path_errc::above_root},
    {"encoded_slash", "/a%2F", path_errc::encoded_slash},
};

} // namespace

BOOST_DATA_TEST_CASE(normalise_path_table, bdata::make(paths), row) {
    const auto r = normalise_path(row.input);
    if (row.error != ok) {
        BOOST_REQUIRE(r.has_error());
        BOOST_TEST(r.error() == make_error_code(row.error));
        return;
    }
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(*r == row.path);
}

namespace {

bool is_unreserved(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

bool allowed_raw(int c) {
    return is_unreserved(c) ||
           std::string_view("!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos;
}

} // namespace

// Every raw byte between two path characters: pchar passes unchanged, the rest is refused
// with its exact reason.
BOOST_AUTO_TEST_CASE(every_raw_byte) {
    for (int c = 0; c < 256; ++c) {
        if (c == '/' || c == '%' || c == '?')
            continue; // structural, covered by the tables
        std::string target = "/a";
        target.push_back(static_cast<char>(c));
        target += "b";
        BOOST_TEST_CONTEXT("byte " << c) {
            const auto r = normalise_target(target, "GET");
            if (allowed_raw(c)) {
                BOOST_REQUIRE(r.has_value());
                BOOST_TEST(r->path == target);
            } else {
                const auto expected = c == 0     ? path_errc::encoded_nul
                                      : c == '#' ? path_errc::fragment
                                                 : path_errc::bad_character;
                BOOST_REQUIRE(r.has_error());
                BOOST_TEST(r.error() == make_error_code(expected));
            }
        }
    }
}

// Every escape, in both hex cases: the documented decision for each of the 256 values.
BOOST_AUTO_TEST_CASE(every_escape) {
    constexpr std::string_view upper = "0123456789ABCDEF";
    constexpr std::string_view lower = "0123456789abcdef";
    for (int v = 0; v < 256; ++v) {
        const std::string escape_upper{'%', upper[v >> 4], upper[v & 15]};
        for (const auto digits : {upper, lower}) {
            const std::string escape{'%', digits[v >> 4], digits[v & 15]};
            BOOST_TEST_CONTEXT("escape " << escape) {
                const auto r = normalise_target("/a" + escape + "b", "GET");
                if (v == 0) {
                    BOOST_TEST(r.error() == make_error_code(path_errc::encoded_nul));
                } else if (v == '/' || v == '\\') {
                    BOOST_TEST(r.error() == make_error_code(path_errc::encoded_slash));
                } else if (v < 0x20 || v == 0x7F) {
                    BOOST_TEST(r.error() == make_error_code(path_errc::bad_character));
                } else if (is_unreserved(v)) {
                    BOOST_REQUIRE(r.has_value());
                    BOOST_TEST(r->path == "/a" + std::string(1, static_cast<char>(v)) + "b");
                } else {
                    BOOST_REQUIRE(r.has_value());
                    BOOST_TEST(r->path == "/a" + escape_upper + "b");
                }
            }
        }
    }
}

namespace {

struct find_row {
    const char* name;
    std::string_view query;
    std::string_view param;
    std::optional<std::string_view> value;
};
std::ostream& operator<<(std::ostream& os, const find_row& r) {
    return os << r.name;
}

const find_row finds[] = {
    {"only", "access_token=abc", "access_token", "abc"},
    {"middle", "a=1&access_token=abc&b=2", "access_token", "abc"},
    {"last", "a=1&t=xyz", "t", "xyz"},
    {"first_of_duplicates", "t=1&t=2", "t", "1"},
    {"first_is_valueless", "t&t=2", "t", ""},
    {"encoded_name", "access%5Ftoken=x", "access_token", "x"},
    {"encoded_name_lower_hex", "%61=1", "a", "1"},
    {"value_decoded_plus_kept", "t=a%2Bb+c", "t", "a+b+c"},
    {"malformed_escape_kept", "t=a%zz%4", "t", "a%zz%4"},
    {"empty_value", "t=", "t", ""},
    {"equals_missing", "t", "t", ""},
    {"value_with_equals", "t=a=b", "t", "a=b"},
    {"empty_pieces_skipped", "&&t=1&", "t", "1"},
    {"absent", "x=1", "t", std::nullopt},
    {"empty_query", "", "t", std::nullopt},
    {"longer_name", "tt=1", "t", std::nullopt},
    {"shorter_name", "t=1", "tt", std::nullopt},
    {"case_sensitive", "T=1", "t", std::nullopt},
    {"semicolon_not_separator", "a=1;t=2", "t", std::nullopt},
    {"encoded_equals_in_name", "t%3D1=2", "t", std::nullopt},
    {"encoded_ampersand_in_value", "t=a%26b", "t", "a&b"},
};

} // namespace

BOOST_DATA_TEST_CASE(find_query_param_table, bdata::make(finds), row) {
    const auto v = find_query_param(row.query, row.param);
    BOOST_TEST(v.has_value() == row.value.has_value());
    if (v && row.value)
        BOOST_TEST(*v == *row.value);
}

namespace {

struct remove_row {
    const char* name;
    std::string_view query;
    std::string_view param;
    std::string_view expected;
};
std::ostream& operator<<(std::ostream& os, const remove_row& r) {
    return os << r.name;
}

const remove_row removes[] = {
    {"only", "t=1", "t", ""},
    {"first", "t=1&a=2", "t", "a=2"},
    {"last", "a=2&t=1", "t", "a=2"},
    {"middle", "a=1&t=2&b=3", "t", "a=1&b=3"},
    {"all_duplicates", "t=1&a=2&t=3&b&t", "t", "a=2&b"},
    {"encoded_name", "%74=1&a=1", "t", "a=1"},
    {"valueless", "tt=1&t", "t", "tt=1"},
    {"absent_kept_byte_for_byte", "a=%41&b=+x&c", "t", "a=%41&b=+x&c"},
    {"empty_pieces_kept_when_absent", "a&&b", "t", "a&&b"},
    {"semicolon_not_separator", "a=1;t=2", "t", "a=1;t=2"},
    {"empty_query", "", "t", ""},
};

} // namespace

BOOST_DATA_TEST_CASE(remove_query_param_table, bdata::make(removes), row) {
    BOOST_TEST(remove_query_param(row.query, row.param) == row.expected);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(strip_path_parameters_table) {
    using jwtgate::core::strip_path_parameters;
    BOOST_TEST(strip_path_parameters("/a;x=1/b;y") == "/a/b");
    BOOST_TEST(strip_path_parameters("/a/b") == "/a/b");
    BOOST_TEST(strip_path_parameters("/;x") == "/");
    BOOST_TEST(strip_path_parameters("/a;b;c/") == "/a/");
    BOOST_TEST(strip_path_parameters("/") == "/");
}
