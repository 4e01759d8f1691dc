// Tests for core/authorize: the whole per-request decision table and the error responses.
#include "core/authorize.hpp"
#include "core/key_source.hpp"

#include "key_fixtures.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <ostream>
#include <set>

using namespace jwtgate;
using namespace jwtgate::core;
namespace json = boost::json;
namespace bdata = boost::unit_test::data;

namespace {

constexpr std::int64_t now = 1'800'000'000;

// One RSA key for both providers (kid "k1" in main, "o1" in other).
struct world {
    test::evp_pkey_ptr key = test::gen_rsa(2048);
    std::shared_ptr<const config> cfg;
    std::vector<std::shared_ptr<const key_set>> keys;
    std::unique_ptr<authorizer> auth;

    world() {
        auto jwk = test::public_jwk(key.get());
        auto main_jwk = jwk;
        main_jwk["kid"] = "k1";
        auto other_jwk = jwk;
        other_jwk["kid"] = "o1";
        json::object main_set{{"keys", json::array{main_jwk}}};
        json::object other_set{{"keys", json::array{other_jwk}}};
        std::string text = R"(upstream:
  url: http://127.0.0.1:3000
providers:
  - name: main
    issuer: https://iss.test
    jwks: ')" + json::serialize(main_set) +
                           R"('
    audiences: [api]
    claims_to_headers:
      sub: X-User-Id
      email: X-User-Email
      org.id: X-Org-Id
    payload_header: X-Jwt-Payload
  - name: other
    issuer: https://other.test
    jwks: ')" + json::serialize(other_set) +
                           R"('
    token_sources:
      - cookie: session
      - query: access_token
    forward_token: false
strip_request_headers: [X-Internal-Auth]
rules:
  - prefix: /public
    auth: none
  - prefix: /opt
    auth: optional
  - prefix: /deny
    auth: deny
  - prefix: /admin
    auth: required
    require:
      scopes: [admin, write]
  - prefix: /staff
    auth: required
    require:
      claims: {role: staff}
  - prefix: /shadow
    auth: required
    mode: shadow
  - prefix: /other
    auth: required
    providers: [other]
  - prefix: /main
    auth: required
    providers: [main]
  - prefix: /posts
    auth: none
    methods: [POST]
default_auth: required
)";
        auto loaded = load_config_text(
            text, "test.yaml", [](const std::string&) { return std::optional<std::string>{}; });
        if (!loaded.cfg) {
            std::string all;
            for (const auto& d : loaded.diagnostics) {
                all += format_diagnostic("test.yaml", d) + "\n";
            }
            throw std::runtime_error("fixture config invalid:\n" + all);
        }
        cfg = std::make_shared<const config>(std::move(*loaded.cfg));
        for (const auto& p : cfg->providers) {
            auto ks = load_local_jwks(p);
            if (!ks) {
                throw std::runtime_error(ks.error().message);
            }
            keys.push_back(ks->keys);
        }
        auth = std::make_unique<authorizer>(cfg, std::make_shared<token_cache>(100));
    }

    std::string token(const json::object& payload, std::string_view kid = "k1",
                      std::string_view alg = "RS256") const {
        json::object header{{"alg", alg}, {"typ", "JWT"}};
        if (!kid.empty()) {
            header["kid"] = kid;
        }
        std::string input =
            test::b64(json::serialize(header)) + "." + test::b64(json::serialize(payload));
        return input + "." + test::b64(test::sign(key.get(), EVP_sha256(), input));
    }

    json::object claims(json::object extra = {}) const {
        json::object c{{"iss", "https://iss.test"},
                       {"aud", "api"},
                       {"sub", "user-1"},
                       {"iat", now},
                       {"exp", now + 600}};
        for (auto& [k, v] : extra) {
            c[k] = v;
        }
        return c;
    }

    json::object other_claims() const {
        return {{"iss", "https://other.test"}, {"sub", "o-user"}, {"exp", now + 600}};
    }
};

const world& w() {
    static const world instance;
    return instance;
}

struct row {
    const char* name;
    const char* method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    outcome expected;
    int status; // when not forwarded
    bool forward;
    auth_errc reason = auth_errc::ok;
};
std::ostream& operator<<(std::ostream& os, const row& r) {
    return os << r.name;
}

decision run(const row& r, bool final_attempt = true) {
    std::vector<header_field> fields;
    for (const auto& [n, v] : r.headers) {
        fields.push_back({n, v});
    }
    request_view req{r.method, r.target, fields};
    return w().auth->decide(req, w().keys, now, final_attempt);
}

std::string bearer(const std::string& t) {
    return "Bearer " + t;
}

std::vector<row> rows() {
    const auto& x = w();
    const auto good = x.token(x.claims());
    const auto expired = x.token(x.claims({{"exp", now - 100}}));
    const auto scoped = x.token(x.claims({{"scope", "read admin write"}}));
    const auto half_scoped = x.token(x.claims({{"scope", "admin"}}));
    const auto staff = x.token(x.claims({{"role", json::array{"x", "staff"}}}));
    const auto other = x.token(x.other_claims(), "o1");
    const auto unknown_kid = x.token(x.claims(), "k9");
    return {
        {"public_no_token", "GET", "/public/x", {}, outcome::public_route, 0, true},
        {"public_bad_token_ignored",
         "GET",
         "/public",
         {{"Authorization", "Bearer x.y"}},
         outcome::public_route,
         0,
         true},
        {"required_no_token", "GET", "/private", {}, outcome::no_token, 401, false},
        {"required_good",
         "GET",
         "/private",
         {{"Authorization", bearer(good)}},
         outcome::allowed,
         0,
         true},
        {"scheme_case_insensitive",
         "GET",
         "/private",
         {{"authorization", "bEaReR " + good}},
         outcome::allowed,
         0,
         true},
        {"basic_counts_as_absent",
         "GET",
         "/private",
         {{"Authorization", "Basic dXNlcjpwdw=="}},
         outcome::no_token,
         401,
         false},
        {"bearer_empty_is_invalid",
         "GET",
         "/private",
         {{"Authorization", "Bearer"}},
         outcome::invalid,
         401,
         false,
         auth_errc::malformed_token},
        {"bearer_spaces_is_invalid",
         "GET",
         "/private",
         {{"Authorization", "Bearer    "}},
         outcome::invalid,
         401,
         false,
         auth_errc::malformed_token},
        {"bearer_two_words_invalid",
         "GET",
         "/private",
         {{"Authorization", "Bearer a b"}},
         outcome::invalid,
         401,
         false,
         auth_errc::malformed_token},
        {"bare_jwt_invalid",
         "GET",
         "/private",
         {{"Authorization", good}},
         outcome::invalid,
         401,
         false,
         auth_errc::malformed_token},
        {"two_authorization_headers",
         "GET",
         "/private",
         {{"Authorization", bearer(good)}, {"Authorization", bearer(good)}},
         outcome::invalid,
         401,
         false,
         auth_errc::malformed_token},
        {"expired",
         "GET",
         "/private",
         {{"Authorization", bearer(expired)}},
         outcome::expired,
         401,
         false,
         auth_errc::expired},
        {"garbage_token",
         "GET",
         "/private",
         {{"Authorization", "Bearer abc"}},
         outcome::invalid,
         401,
         false,
         auth_errc::malformed_token},
        {"optional_anonymous", "GET", "/opt", {}, outcome::anonymous, 0, true},
        {"optional_valid",
         "GET",
         "/opt/a",
         {{"Authorization", bearer(good)}},
         outcome::allowed,
         0,
         true},
        {"optional_invalid_is_401",
         "GET",
         "/opt",
         {{"Authorization", bearer(expired)}},
         outcome::expired,
         401,
         false,
         auth_errc::expired},
        {"deny", "GET", "/deny", {{"Authorization", bearer(good)}}, outcome::denied, 403, false},
        {"scopes_met",
         "GET",
         "/admin",
         {{"Authorization", bearer(scoped)}},
         outcome::allowed,
         0,
         true},
        {"scopes_partial",
         "GET",
         "/admin",
         {{"Authorization", bearer(half_scoped)}},
         outcome::insufficient_scope,
         403,
         false},
        {"scopes_no_token", "GET", "/admin", {}, outcome::no_token, 401, false},
        {"claims_met",
         "GET",
         "/staff",
         {{"Authorization", bearer(staff)}},
         outcome::allowed,
         0,
         true},
        {"claims_unmet",
         "GET",
         "/staff",
         {{"Authorization", bearer(good)}},
         outcome::forbidden,
         403,
         false},
        {"shadow_no_token_forwards", "GET", "/shadow", {}, outcome::no_token, 0, true},
        {"shadow_expired_forwards",
         "GET",
         "/shadow",
         {{"Authorization", bearer(expired)}},
         outcome::expired,
         0,
         true,
         auth_errc::expired},
        {"shadow_valid",
         "GET",
         "/shadow",
         {{"Authorization", bearer(good)}},
         outcome::allowed,
         0,
         true},
        {"other_provider_by_cookie",
         "GET",
         "/other",
         {{"Cookie", "a=b; session=" + other}},
         outcome::allowed,
         0,
         true},
        {"other_provider_by_query",
         "GET",
         "/other?x=1&access_token=" + other,
         {},
         outcome::allowed,
         0,
         true},
        {"main_token_on_other_route",
         "GET",
         "/other",
         {{"Cookie", "session=" + good}},
         outcome::invalid,
         401,
         false,
         auth_errc::provider_not_allowed},
        {"header_source_not_consulted_for_other",
         "GET",
         "/other",
         {{"Authorization", bearer(other)}},
         outcome::no_token,
         401,
         false},
        {"other_token_on_main_route",
         "GET",
         "/main",
         {{"Authorization", bearer(other)}},
         outcome::invalid,
         401,
         false,
         auth_errc::provider_not_allowed},
        {"any_provider_default_route",
         "GET",
         "/x",
         {{"Cookie", "session=" + other}},
         outcome::allowed,
         0,
         true},
        {"unknown_kid_final",
         "GET",
         "/x",
         {{"Authorization", bearer(unknown_kid)}},
         outcome::invalid,
         401,
         false,
         auth_errc::unknown_key},
        {"methods_rule_matches_post", "POST", "/posts", {}, outcome::public_route, 0, true},
        {"methods_rule_skipped_for_get", "GET", "/posts", {}, outcome::no_token, 401, false},
        {"cors_preflight_bypass",
         "OPTIONS",
         "/private",
         {{"Origin", "https://a.test"}, {"Access-Control-Request-Method", "POST"}},
         outcome::preflight,
         0,
         true},
        {"options_without_acrm_needs_token",
         "OPTIONS",
         "/private",
         {{"Origin", "https://a.test"}},
         outcome::no_token,
         401,
         false},
        {"preflight_on_deny_rule_denied",
         "OPTIONS",
         "/deny",
         {{"Origin", "https://a.test"}, {"Access-Control-Request-Method", "POST"}},
         outcome::denied,
         403,
         false},
        {"asterisk_options", "OPTIONS", "*", {}, outcome::preflight, 0, true},
        {"asterisk_get", "GET", "*", {}, outcome::bad_request, 400, false},
        {"dot_segments_bypass", "GET", "/public/../private", {}, outcome::no_token, 401, false},
        {"encoded_dots_bypass", "GET", "/public/%2e%2e/private", {}, outcome::no_token, 401, false},
        {"double_slash_bypass", "GET", "//deny", {}, outcome::denied, 403, false},
        {"encoded_slash", "GET", "/public%2f..%2fprivate", {}, outcome::bad_request, 400, false},
        {"above_root", "GET", "/../x", {}, outcome::bad_request, 400, false},
        {"prefix_not_segment", "GET", "/publicity", {}, outcome::no_token, 401, false},
        {"case_sensitive_prefix", "GET", "/PUBLIC", {}, outcome::no_token, 401, false},
        {"servlet_params_change_rule", "GET", "/public;x=1", {}, outcome::bad_request, 400, false},
        {"servlet_params_same_rule",
         "GET",
         "/private;jsessionid=1",
         {},
         outcome::no_token,
         401,
         false},
        {"params_inside_public", "GET", "/public/a;b", {}, outcome::public_route, 0, true},
        {"tomcat_dotdot_params",
         "GET",
         "/public/..;/private",
         {},
         outcome::bad_request,
         400,
         false},
        {"params_reaching_deny", "GET", "/deny;x/a", {}, outcome::bad_request, 400, false},
        {"absolute_form",
         "GET",
         "http://example.test/public/a",
         {},
         outcome::public_route,
         0,
         true},
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(authorize_tests)

BOOST_DATA_TEST_CASE(decision_table, bdata::make(rows()), r) {
    auto d = run(r);
    BOOST_TEST(to_string(d.result) == to_string(r.expected));
    BOOST_TEST(d.forward == r.forward);
    if (!r.forward) {
        BOOST_TEST(d.status == r.status);
    }
    if (r.reason != auth_errc::ok) {
        BOOST_TEST(details(d.reason) == details(r.reason));
    }
}

BOOST_AUTO_TEST_CASE(unknown_kid_first_attempt_waits_for_keys) {
    const auto& x = w();
    auto t = x.token(x.claims(), "k9");
    auto d =
        run({"", "GET", "/x", {{"Authorization", bearer(t)}}, outcome::invalid, 401, false}, false);
    BOOST_TEST(to_string(d.result) == "wait_for_keys");
    BOOST_TEST(d.wait_provider == 0u);
}

BOOST_AUTO_TEST_CASE(keys_never_loaded_waits_then_503) {
    const auto& x = w();
    std::vector<std::shared_ptr<const key_set>> none(2);
    auto t = x.token(x.claims());
    std::vector<header_field> h{{"Authorization", "Bearer " + t}};
    std::string auth_value = "Bearer " + t;
    h[0].value = auth_value;
    request_view req{"GET", "/x", h};
    auto first = x.auth->decide(req, none, now, false);
    BOOST_TEST(to_string(first.result) == "wait_for_keys");
    auto last = x.auth->decide(req, none, now, true);
    BOOST_TEST(to_string(last.result) == "key_set_unavailable");
    BOOST_TEST(last.status == 503);
    auto resp = render_error(last, 7);
    BOOST_TEST(resp.body == R"({"error":"Key set unavailable"})");
    BOOST_TEST(resp.retry_after == 7);
    // Public routes and anonymous optional requests do not need keys.
    request_view pub{"GET", "/public", {}};
    BOOST_TEST(to_string(x.auth->decide(pub, none, now, true).result) == "public");
    request_view opt{"GET", "/opt", {}};
    BOOST_TEST(to_string(x.auth->decide(opt, none, now, true).result) == "anonymous");
}

BOOST_AUTO_TEST_CASE(claim_headers_and_payload_header) {
    const auto& x = w();
    auto t = x.token(x.claims({{"email", "a@b.test"}, {"org", json::object{{"id", 42}}}}));
    auto d = run({"", "GET", "/x", {{"Authorization", bearer(t)}}, outcome::allowed, 0, true});
    BOOST_REQUIRE(to_string(d.result) == "allowed");
    std::map<std::string, std::string> h(d.add_headers.begin(), d.add_headers.end());
    BOOST_TEST(h["X-User-Id"] == "user-1");
    BOOST_TEST(h["X-User-Email"] == "a@b.test");
    BOOST_TEST(h["X-Org-Id"] == "42");
    BOOST_TEST(h["X-Jwt-Payload"] == t.substr(t.find('.') + 1, t.rfind('.') - t.find('.') - 1));
    BOOST_TEST(d.sub == "user-1");
    BOOST_TEST(!d.strip_token.has_value());
    BOOST_TEST(d.provider->name == "main");
}

BOOST_AUTO_TEST_CASE(control_characters_refuse_the_header) {
    const auto& x = w();
    auto t = x.token(x.claims({{"sub", "evil\r\nX-Admin: 1"}}));
    auto d = run({"", "GET", "/x", {{"Authorization", bearer(t)}}, outcome::allowed, 0, true});
    BOOST_REQUIRE(to_string(d.result) == "allowed");
    for (const auto& [n, v] : d.add_headers) {
        BOOST_TEST(n != "X-User-Id");
    }
    BOOST_TEST(d.claim_headers_refused == 1u);
}

BOOST_AUTO_TEST_CASE(shadow_refusal_adds_no_claim_headers) {
    const auto& x = w();
    auto t = x.token(x.claims({{"exp", now - 100}}));
    auto d = run({"", "GET", "/shadow", {{"Authorization", bearer(t)}}, outcome::expired, 0, true});
    BOOST_TEST(d.forward);
    BOOST_TEST(d.shadow);
    BOOST_TEST(d.add_headers.empty());
}

BOOST_AUTO_TEST_CASE(query_token_removed_and_forward_token_false) {
    const auto& x = w();
    auto t = x.token(x.other_claims(), "o1");
    auto d =
        run({"", "GET", "/other/a?x=1&access_token=" + t + "&y=2", {}, outcome::allowed, 0, true});
    BOOST_REQUIRE(to_string(d.result) == "allowed");
    BOOST_TEST(d.forward_target == "/other/a?x=1&y=2");
    BOOST_REQUIRE(d.strip_token.has_value());
    BOOST_TEST((d.strip_token->kind == token_source_kind::query));
    auto only = run({"", "GET", "/other?access_token=" + t, {}, outcome::allowed, 0, true});
    BOOST_TEST(only.forward_target == "/other");
    // A consulted query parameter is removed even when the token came from elsewhere.
    auto cookie = run({"",
                       "GET",
                       "/other?access_token=zzz",
                       {{"Cookie", "session=" + t}},
                       outcome::allowed,
                       0,
                       true});
    BOOST_TEST(to_string(cookie.result) == "allowed");
    BOOST_TEST(cookie.forward_target == "/other");
    BOOST_REQUIRE(cookie.strip_token.has_value());
    BOOST_TEST((cookie.strip_token->kind == token_source_kind::cookie));
    BOOST_TEST(cookie.strip_token->name == "session");
}

BOOST_AUTO_TEST_CASE(normalised_path_is_forwarded) {
    auto d = run({"", "GET", "/public/a/./b/../c//d?q=%20", {}, outcome::public_route, 0, true});
    BOOST_TEST(d.forward_target == "/public/a/c/d?q=%20");
    BOOST_TEST(d.path == "/public/a/c/d");
    auto abs =
        run({"", "GET", "http://example.test:81/public/x", {}, outcome::public_route, 0, true});
    BOOST_TEST(abs.authority == "example.test:81");
    BOOST_TEST(abs.forward_target == "/public/x");
}

BOOST_AUTO_TEST_CASE(identity_headers_are_lower_case_and_complete) {
    const auto& ids = w().auth->identity_headers();
    std::set<std::string> s(ids.begin(), ids.end());
    BOOST_TEST(s == (std::set<std::string>{"x-user-id", "x-user-email", "x-org-id", "x-jwt-payload",
                                           "x-internal-auth"}));
}

BOOST_AUTO_TEST_CASE(cache_hit_skips_verification_until_expiry) {
    const auto& x = w();
    auto cache = std::make_shared<token_cache>(10);
    authorizer a(x.cfg, cache);
    auto t = x.token(x.claims({{"exp", now + 60}}));
    auto first = a.check_token(t, nullptr, x.keys, now);
    BOOST_TEST(details(first.error) == "ok");
    auto second = a.check_token(t, nullptr, x.keys, now + 1);
    BOOST_TEST(details(second.error) == "ok");
    BOOST_TEST(cache->hits() == 1u);
    // exp + clock_skew (30 s): still a hit at exp + 29, then re-verified and expired.
    BOOST_TEST(details(a.check_token(t, nullptr, x.keys, now + 89).error) == "ok");
    BOOST_TEST(details(a.check_token(t, nullptr, x.keys, now + 90).error) ==
               details(auth_errc::expired));
    // A key set without the verifying key drops the entry.
    std::vector<std::shared_ptr<const key_set>> empty{std::make_shared<key_set>(), x.keys[1]};
    auto t2 = x.token(x.claims());
    BOOST_TEST(details(a.check_token(t2, nullptr, x.keys, now).error) == "ok");
    BOOST_TEST(details(a.check_token(t2, nullptr, empty, now).error) ==
               details(auth_errc::unknown_key));
}

BOOST_AUTO_TEST_CASE(error_bodies_are_exact) {
    decision d;
    d.result = outcome::no_token;
    d.status = 401;
    auto r = render_error(d);
    BOOST_TEST(r.body == R"({"error":"No token provided"})");
    BOOST_TEST(r.www_authenticate == R"(Bearer realm="jwtgate")");
    d.result = outcome::expired;
    r = render_error(d);
    BOOST_TEST(r.body == R"({"error":"Token has expired"})");
    BOOST_TEST(r.www_authenticate ==
               R"(Bearer error="invalid_token", error_description="Token has expired")");
    d.result = outcome::invalid;
    d.reason = auth_errc::bad_signature;
    r = render_error(d);
    BOOST_TEST(r.body == R"({"error":"Invalid token","details":"bad signature"})");
    BOOST_TEST(r.www_authenticate ==
               R"(Bearer error="invalid_token", error_description="bad signature")");
    d.result = outcome::insufficient_scope;
    d.required_scopes = "a b";
    r = render_error(d);
    BOOST_TEST(r.body == R"({"error":"Insufficient scope"})");
    BOOST_TEST(r.www_authenticate == R"(Bearer error="insufficient_scope", scope="a b")");
    d.result = outcome::forbidden;
    r = render_error(d);
    BOOST_TEST(r.body == R"({"error":"Forbidden"})");
    BOOST_TEST(r.www_authenticate.empty());
    d.result = outcome::denied;
    BOOST_TEST(render_error(d).body == R"({"error":"Forbidden"})");
}

BOOST_AUTO_TEST_SUITE_END()
