// Tests of the request framing checks: smuggling defences, Host, Expect, Upgrade.
#include "proxy/framing.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <vector>

using namespace jwtgate;
using proxy::framing_errc;

namespace {

struct row {
    const char* name;
    const char* method;
    unsigned version;
    std::vector<core::header_field> headers;
    framing_errc expected;
    bool chunked = false;
    std::optional<std::uint64_t> length = std::nullopt;
    bool expect_continue = false;
    bool websocket = false;
};

std::ostream& operator<<(std::ostream& os, const row& r) {
    return os << r.name;
}

const core::header_field host{"Host", "example.test"};

const std::vector<row> rows = {
    {"plain GET", "GET", 11, {host}, framing_errc::ok},
    {"content length", "POST", 11, {host, {"Content-Length", "5"}}, framing_errc::ok, false, 5},
    {"same length twice",
     "POST",
     11,
     {host, {"Content-Length", "5"}, {"content-length", "5"}},
     framing_errc::ok,
     false,
     5},
    {"length list of equal values",
     "POST",
     11,
     {host, {"Content-Length", "7, 7"}},
     framing_errc::ok,
     false,
     7},
    {"chunked", "POST", 11, {host, {"Transfer-Encoding", "chunked"}}, framing_errc::ok, true},
    {"chunked any case",
     "POST",
     11,
     {host, {"transfer-encoding", "ChUnKeD"}},
     framing_errc::ok,
     true},
    {"chunked with parameter spacing",
     "POST",
     11,
     {host, {"Transfer-Encoding", " chunked "}},
     framing_errc::ok,
     true},
    {"length and chunked",
     "POST",
     11,
     {host, {"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}},
     framing_errc::length_and_chunked},
    {"chunked and length",
     "POST",
     11,
     {host, {"Transfer-Encoding", "chunked"}, {"Content-Length", "0"}},
     framing_errc::length_and_chunked},
    {"differing lengths",
     "POST",
     11,
     {host, {"Content-Length", "5"}, {"Content-Length", "6"}},
     framing_errc::bad_content_length},
    {"differing length list",
     "POST",
     11,
     {host, {"Content-Length", "5, 6"}},
     framing_errc::bad_content_length},
    {"signed length",
     "POST",
     11,
     {host, {"Content-Length", "+5"}},
     framing_errc::bad_content_length},
    {"hex length", "POST", 11, {host, {"Content-Length", "0x5"}}, framing_errc::bad_content_length},
    {"empty length", "POST", 11, {host, {"Content-Length", ""}}, framing_errc::bad_content_length},
    {"length overflow",
     "POST",
     11,
     {host, {"Content-Length", "99999999999999999999999"}},
     framing_errc::bad_content_length},
    {"chunked not final",
     "POST",
     11,
     {host, {"Transfer-Encoding", "chunked, gzip"}},
     framing_errc::chunked_not_final},
    {"gzip only",
     "POST",
     11,
     {host, {"Transfer-Encoding", "gzip"}},
     framing_errc::chunked_not_final},
    {"empty coding",
     "POST",
     11,
     {host, {"Transfer-Encoding", ""}},
     framing_errc::chunked_not_final},
    {"chunked twice in one field",
     "POST",
     11,
     {host, {"Transfer-Encoding", "chunked, chunked"}},
     framing_errc::chunked_repeated},
    {"chunked in two fields",
     "POST",
     11,
     {host, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
     framing_errc::chunked_repeated},
    {"gzip then chunked",
     "POST",
     11,
     {host, {"Transfer-Encoding", "gzip, chunked"}},
     framing_errc::unsupported_coding},
    {"gzip field then chunked field",
     "POST",
     11,
     {host, {"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}},
     framing_errc::unsupported_coding},
    {"coding in HTTP/1.0",
     "POST",
     10,
     {{"Transfer-Encoding", "chunked"}},
     framing_errc::coding_in_http10},
    {"no Host in 1.1", "GET", 11, {}, framing_errc::missing_host},
    {"no Host in 1.0", "GET", 10, {}, framing_errc::ok},
    {"two Host", "GET", 11, {host, {"host", "other.test"}}, framing_errc::multiple_host},
    {"HTTP/2.0", "GET", 20, {host}, framing_errc::unsupported_version},
    {"HTTP/0.9", "GET", 9, {host}, framing_errc::unsupported_version},
    {"expect continue",
     "POST",
     11,
     {host, {"Content-Length", "5"}, {"Expect", "100-Continue"}},
     framing_errc::ok,
     false,
     5,
     true},
    {"expect in HTTP/1.0 ignored",
     "POST",
     10,
     {{"Content-Length", "5"}, {"Expect", "100-continue"}},
     framing_errc::ok,
     false,
     5,
     false},
    {"other expectation",
     "GET",
     11,
     {host, {"Expect", "something"}},
     framing_errc::expectation_failed},
    {"websocket",
     "GET",
     11,
     {host, {"Connection", "keep-alive, Upgrade"}, {"Upgrade", "WebSocket"}},
     framing_errc::ok,
     false,
     std::nullopt,
     false,
     true},
    {"websocket needs Connection upgrade",
     "GET",
     11,
     {host, {"Upgrade", "websocket"}},
     framing_errc::ok,
     false,
     std::nullopt,
     false,
     false},
    {"websocket needs GET",
     "POST",
     11,
     {host, {"Connection", "upgrade"}, {"Upgrade", "websocket"}},
     framing_errc::ok},
    {"h2c is no websocket",
     "GET",
     11,
     {host, {"Connection", "upgrade"}, {"Upgrade", "h2c"}},
     framing_errc::ok},
};

} // namespace

BOOST_AUTO_TEST_SUITE(framing)

BOOST_DATA_TEST_CASE(check_request_framing, boost::unit_test::data::make(rows), r) {
    proxy::request_framing out;
    const auto e = proxy::check_request_framing(r.method, r.version, r.headers, out);
    BOOST_TEST(static_cast<int>(e) == static_cast<int>(r.expected));
    if (e == framing_errc::ok) {
        BOOST_TEST(out.chunked == r.chunked);
        BOOST_TEST((out.content_length == r.length));
        BOOST_TEST(out.expect_continue == r.expect_continue);
        BOOST_TEST(out.websocket == r.websocket);
    }
}

BOOST_AUTO_TEST_CASE(statuses) {
    BOOST_TEST(proxy::status_of(framing_errc::length_and_chunked) == 400);
    BOOST_TEST(proxy::status_of(framing_errc::unsupported_coding) == 501);
    BOOST_TEST(proxy::status_of(framing_errc::unsupported_version) == 505);
    BOOST_TEST(proxy::status_of(framing_errc::expectation_failed) == 417);
    BOOST_TEST(proxy::status_of(framing_errc::missing_host) == 400);
}

BOOST_AUTO_TEST_CASE(list_tokens) {
    std::vector<std::string> got;
    proxy::for_each_list_token(" a ,, b,\tc ,", [&](std::string_view t) { got.emplace_back(t); });
    BOOST_TEST((got == std::vector<std::string>{"a", "b", "c"}));
}

BOOST_AUTO_TEST_SUITE_END()
