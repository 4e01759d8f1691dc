// Tests of the header rewriting between client and upstream.
#include "proxy/forward_headers.hpp"
#include "proxy/framing.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <set>
#include <string>
#include <vector>

using namespace jwtgate;
namespace http = boost::beast::http;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

http::fields make(const pairs& in) {
    http::fields f;
    for (const auto& [k, v] : in) {
        f.insert(k, v);
    }
    return f;
}

std::vector<std::string> values(const http::fields& f, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& x : f) {
        if (proxy::iequals(x.name_string(), name)) {
            out.emplace_back(x.value());
        }
    }
    return out;
}

struct fixture {
    std::vector<std::string> identity{"x-user-id", "x-jwt-payload", "x-internal"};
    core::decision d;
    proxy::upstream_head_params p;
    fixture() {
        p.identity = &identity;
        p.decision = &d;
        p.client_ip = "10.1.2.3";
        p.request_id = "rid-1";
        p.upstream_authority = "127.0.0.1:3000";
    }
    http::fields run(const pairs& in) {
        http::fields out;
        proxy::build_upstream_fields(make(in), p, out);
        return out;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(upstream_fields)

BOOST_FIXTURE_TEST_CASE(hop_by_hop_removed, fixture) {
    auto out = run({{"Host", "a.test"},
                    {"Connection", "keep-alive, X-Hop"},
                    {"X-Hop", "1"},
                    {"x-hop", "2"},
                    {"Keep-Alive", "timeout=5"},
                    {"Proxy-Authorization", "Basic x"},
                    {"Proxy-Connection", "keep-alive"},
                    {"TE", "gzip"},
                    {"Trailer", "X-Sum"},
                    {"Upgrade", "h2c"},
                    {"Transfer-Encoding", "chunked"},
                    {"Content-Length", "3"},
                    {"X-End", "e"}});
    for (const char* h :
         {"Connection", "X-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "TE",
          "Trailer", "Upgrade", "Transfer-Encoding", "Content-Length"}) {
        BOOST_TEST_INFO(h);
        BOOST_TEST(values(out, h).empty());
    }
    BOOST_TEST((values(out, "X-End") == std::vector<std::string>{"e"}));
}

BOOST_FIXTURE_TEST_CASE(te_trailers_kept, fixture) {
    auto out = run({{"Host", "a"}, {"TE", " Trailers "}});
    BOOST_TEST(values(out, "TE").size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(identity_headers_removed_any_case_every_duplicate, fixture) {
    auto out = run({{"Host", "a"},
                    {"X-User-Id", "spoof"},
                    {"x-user-id", "spoof"},
                    {"X-USER-ID", "spoof"},
                    {"X-Jwt-Payload", "spoof"},
                    {"x-internal", "spoof"}});
    d.add_headers = {{"X-User-Id", "real"}};
    auto out2 = run({{"Host", "a"}, {"X-uSeR-iD", "spoof"}});
    BOOST_TEST(values(out, "X-User-Id").empty());
    BOOST_TEST(values(out, "X-Jwt-Payload").empty());
    BOOST_TEST(values(out, "X-Internal").empty());
    BOOST_TEST((values(out2, "X-User-Id") == std::vector<std::string>{"real"}));
}

BOOST_FIXTURE_TEST_CASE(identity_headers_removed_with_underscores, fixture) {
    auto out = run({{"Host", "a"},
                    {"X_User_Id", "spoof"},
                    {"x_user-id", "spoof"},
                    {"X_JWT_PAYLOAD", "spoof"},
                    {"X-Userid", "kept"},
                    {"X__User_Id", "kept"}});
    BOOST_TEST(values(out, "X_User_Id").empty());
    BOOST_TEST(values(out, "x_user-id").empty());
    BOOST_TEST(values(out, "X_JWT_PAYLOAD").empty());
    BOOST_TEST(values(out, "X-Userid").size() == 1u);
    BOOST_TEST(values(out, "X__User_Id").size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(header_token_stripped, fixture) {
    d.strip_token = core::token_origin{core::token_source_kind::header, "Authorization"};
    auto out = run({{"Host", "a"}, {"authorization", "Bearer x.y.z"}, {"X-Keep", "1"}});
    BOOST_TEST(values(out, "Authorization").empty());
    BOOST_TEST(values(out, "X-Keep").size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(cookie_token_stripped, fixture) {
    d.strip_token = core::token_origin{core::token_source_kind::cookie, "at"};
    auto out = run({{"Host", "a"}, {"Cookie", "a=1; at=x.y.z; b=2"}, {"Cookie", "at=q"}});
    BOOST_TEST((values(out, "Cookie") == std::vector<std::string>{"a=1; b=2"}));
}

BOOST_FIXTURE_TEST_CASE(forwarded_headers, fixture) {
    auto out = run({{"Host", "app.test"},
                    {"X-Forwarded-For", "1.1.1.1, 2.2.2.2"},
                    {"x-forwarded-for", "3.3.3.3"},
                    {"X-Forwarded-Proto", "https"},
                    {"X-Forwarded-Host", "evil"},
                    {"X-Request-Id", "client"}});
    BOOST_TEST((values(out, "X-Forwarded-For") ==
                std::vector<std::string>{"1.1.1.1, 2.2.2.2, 3.3.3.3, 10.1.2.3"}));
    BOOST_TEST((values(out, "X-Forwarded-Proto") == std::vector<std::string>{"http"}));
    BOOST_TEST((values(out, "X-Forwarded-Host") == std::vector<std::string>{"app.test"}));
    BOOST_TEST((values(out, "X-Request-Id") == std::vector<std::string>{"rid-1"}));
    p.client_tls = true;
    auto tls = run({{"Host", "app.test"}});
    BOOST_TEST((values(tls, "X-Forwarded-Proto") == std::vector<std::string>{"https"}));
}

BOOST_FIXTURE_TEST_CASE(host_rules, fixture) {
    auto kept = run({{"host", "client.test"}});
    BOOST_TEST((values(kept, "Host") == std::vector<std::string>{"client.test"}));
    BOOST_TEST(kept.begin()->name() == http::field::host);
    d.authority = "abs.test:8443";
    auto absolute = run({{"Host", "client.test"}});
    BOOST_TEST((values(absolute, "Host") == std::vector<std::string>{"abs.test:8443"}));
    BOOST_TEST((values(absolute, "X-Forwarded-Host") == std::vector<std::string>{"abs.test:8443"}));
    d.authority.clear();
    auto none = run({});
    BOOST_TEST((values(none, "Host") == std::vector<std::string>{"127.0.0.1:3000"}));
    BOOST_TEST(values(none, "X-Forwarded-Host").empty());
}

BOOST_FIXTURE_TEST_CASE(websocket_upgrade_kept, fixture) {
    p.websocket = true;
    auto out = run({{"Host", "a"},
                    {"Connection", "Upgrade"},
                    {"Upgrade", "websocket"},
                    {"Sec-WebSocket-Key", "k"}});
    BOOST_TEST((values(out, "Upgrade") == std::vector<std::string>{"websocket"}));
    BOOST_TEST((values(out, "Connection") == std::vector<std::string>{"Upgrade"}));
    BOOST_TEST(values(out, "Sec-WebSocket-Key").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(client_fields)

BOOST_AUTO_TEST_CASE(response_hop_by_hop_removed) {
    http::fields out;
    proxy::build_client_fields(make({{"Connection", "close, X-Hop"},
                                     {"X-Hop", "1"},
                                     {"Keep-Alive", "timeout=5"},
                                     {"Proxy-Connection", "x"},
                                     {"Trailer", "X-Sum"},
                                     {"Upgrade", "h2c"},
                                     {"Transfer-Encoding", "chunked"},
                                     {"Content-Length", "10"},
                                     {"X-Request-Id", "upstream"},
                                     {"Set-Cookie", "a=1"},
                                     {"Set-Cookie", "b=2"}}),
                               false, false, "rid", out);
    for (const char* h : {"Connection", "X-Hop", "Keep-Alive", "Proxy-Connection", "Trailer",
                          "Upgrade", "Transfer-Encoding", "Content-Length"}) {
        BOOST_TEST_INFO(h);
        BOOST_TEST(values(out, h).empty());
    }
    BOOST_TEST((values(out, "X-Request-Id") == std::vector<std::string>{"rid"}));
    BOOST_TEST(values(out, "Set-Cookie").size() == 2u);
}

BOOST_AUTO_TEST_CASE(length_kept_without_body) {
    http::fields out;
    proxy::build_client_fields(make({{"Content-Length", "1234"}}), false, true, "rid", out);
    BOOST_TEST((values(out, "Content-Length") == std::vector<std::string>{"1234"}));
}

BOOST_AUTO_TEST_CASE(switching_protocols_keeps_upgrade) {
    http::fields out;
    proxy::build_client_fields(make({{"Connection", "Upgrade"}, {"Upgrade", "websocket"}}), true,
                               false, "rid", out);
    BOOST_TEST(values(out, "Upgrade").size() == 1u);
    BOOST_TEST(values(out, "Connection").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(request_ids)

struct id_row {
    const char* name;
    std::string id;
    bool valid;
};
std::ostream& operator<<(std::ostream& os, const id_row& r) {
    return os << r.name;
}

const id_row id_rows[] = {
    {"simple", "abc-123", true},
    {"one char", "a", true},
    {"128 chars", std::string(128, 'x'), true},
    {"empty", "", false},
    {"129 chars", std::string(129, 'x'), false},
    {"space", "a b", false},
    {"tab", "a\tb", false},
    {"DEL", "a\x7f", false},
    {"non-ASCII", "caf\xc3\xa9", false},
    {"CR LF", "a\r\nX-Evil: 1", false},
};

BOOST_DATA_TEST_CASE(validity, boost::unit_test::data::make(id_rows), r) {
    BOOST_TEST(proxy::valid_request_id(r.id) == r.valid);
}

BOOST_AUTO_TEST_CASE(generated_ids_are_valid_and_distinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = proxy::generate_request_id();
        BOOST_TEST(id.size() == 32u);
        BOOST_TEST(proxy::valid_request_id(id));
        BOOST_TEST(id.find_first_not_of("0123456789abcdef") == std::string::npos);
        seen.insert(id);
    }
    BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cookies)

struct cookie_row {
    const char* name;
    const char* header;
    const char* cookie;
    const char* expected;
};
std::ostream& operator<<(std::ostream& os, const cookie_row& r) {
    return os << r.name;
}

const cookie_row cookie_rows[] = {
    {"middle", "a=1; tok=x; b=2", "tok", "a=1; b=2"},
    {"first", "tok=x; b=2", "tok", "b=2"},
    {"last", "a=1; tok=x", "tok", "a=1"},
    {"only", "tok=x", "tok", ""},
    {"twice", "tok=1; a=1; tok=2", "tok", "a=1"},
    {"prefix name kept", "tokx=1; tok=2", "tok", "tokx=1"},
    {"case-sensitive", "TOK=1; tok=2", "tok", "TOK=1"},
    {"spacing normalised", " a=1 ;tok=2;  b=3 ", "tok", "a=1; b=3"},
    {"absent", "a=1; b=2", "tok", "a=1; b=2"},
};

BOOST_DATA_TEST_CASE(remove_cookie, boost::unit_test::data::make(cookie_rows), r) {
    BOOST_TEST(proxy::remove_cookie(r.header, r.cookie) == std::string(r.expected));
}

BOOST_AUTO_TEST_SUITE_END()
