// Tests for core/jwt: compact JWS parsing, every refusal reason and the check order.
#include "core/base64url.hpp"
#include "core/jwt.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <ostream>
#include <string>

namespace jwtgate::core {
// Lets BOOST_TEST print algorithms in failure messages.
static std::ostream& operator<<(std::ostream& os, jws_alg alg) {
    return os << to_string(alg);
}
} // namespace jwtgate::core

namespace bdata = boost::unit_test::data;
using jwtgate::core::auth_errc;
using jwtgate::core::base64url_encode;
using jwtgate::core::jws_alg;
using jwtgate::core::parse_jws;

namespace {

constexpr std::size_t default_max = 8192;

const std::string good_header = R"({"alg":"RS256","typ":"JWT","kid":"k1"})";
const std::string good_payload =
    R"({"iss":"https://issuer.example","sub":"alice","exp":1700000000})";
// Any non-empty valid base64url: parsing never checks the signature itself.
const std::string good_signature = base64url_encode("signature-bytes");

std::string b64(const std::string& s) {
    return base64url_encode(s);
}

// A token from raw JSON texts (encoded here) and an already encoded signature segment.
std::string token_of(const std::string& header, const std::string& payload = good_payload,
                     const std::string& signature = good_signature) {
    return b64(header) + "." + b64(payload) + "." + signature;
}

std::string nested_arrays(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

struct bad_row {
    const char* name;
    std::string token;
    auth_errc expected;
};

std::ostream& operator<<(std::ostream& os, const bad_row& row) {
    return os << row.name;
}

const std::string h = b64(good_header);
const std::string p = b64(good_payload);
const std::string s = good_signature;

const bad_row bad_rows[] = {
    // Segment structure.
    {"empty", "", auth_errc::malformed_token},
    {"one segment", h, auth_errc::malformed_token},
    {"two segments", h + "." + p, auth_errc::malformed_token},
    {"four segments", h + "." + p + "." + s + "." + s, auth_errc::malformed_token},
    {"six segments", h + "." + p + "." + s + "." + s + "." + s + "." + s,
     auth_errc::malformed_token},
    {"only dots", "..", auth_errc::malformed_token},
    {"five segments are JWE", h + ".a.b.c.d", auth_errc::encrypted_token},
    {"JWE with empty encrypted key", h + "..iv.ct.tag", auth_errc::encrypted_token},
    {"five garbage segments", "!.!.!.!.!", auth_errc::encrypted_token},
    {"empty header segment", "." + p + "." + s, auth_errc::malformed_token},
    {"empty payload segment", h + ".." + s, auth_errc::malformed_token},
    {"empty signature (unsecured JWS)", h + "." + p + ".", auth_errc::malformed_token},
    {"unsecured JWS with alg none", b64(R"({"alg":"none"})") + "." + p + ".", auth_errc::alg_none},
    {"empty signature, bad payload", h + ".!.", auth_errc::malformed_token},
    // Strict base64url.
    {"padded header", h + "==." + p + "." + s, auth_errc::bad_base64},
    {"padded signature", h + "." + p + "." + b64("ab") + "=", auth_errc::bad_base64},
    {"plus in header", "eyJ+" + h + "." + p + "." + s, auth_errc::bad_base64},
    {"slash in payload", h + "." + p + "/A" + "." + s, auth_errc::bad_base64},
    {"plus in signature", h + "." + p + ".ab+c", auth_errc::bad_base64},
    {"slash in signature", h + "." + p + ".ab/c", auth_errc::bad_base64},
    {"leading space", " " + h + "." + p + "." + s, auth_errc::bad_base64},
    {"space inside payload", h + "." + p.substr(0, 4) + " " + p.substr(4) + "." + s,
     auth_errc::bad_base64},
    {"trailing newline", h + "." + p + "." + s + "\n", auth_errc::bad_base64},
    {"tab in signature", h + "." + p + ".ab\tc", auth_errc::bad_base64},
    {"signature length 1 mod 4", h + "." + p + ".AAAAA", auth_errc::bad_base64},
    {"signature with non-zero trailing bits", h + "." + p + ".QR", auth_errc::bad_base64},
    {"NUL byte in signature", h + "." + p + "." + std::string("ab\0c", 4), auth_errc::bad_base64},
    // Header JSON.
    {"header not JSON", token_of("not json"), auth_errc::malformed_header},
    {"header array", token_of("[]"), auth_errc::malformed_header},
    {"header string", token_of(R"("RS256")"), auth_errc::malformed_header},
    {"header null", token_of("null"), auth_errc::malformed_header},
    {"header number", token_of("1"), auth_errc::malformed_header},
    {"header of one character", "A" + std::string() + "." + p + "." + s, auth_errc::bad_base64},
    {"header truncated", token_of(R"({"alg":"RS256")"), auth_errc::malformed_header},
    {"header trailing data", token_of(R"({"alg":"RS256"} x)"), auth_errc::malformed_header},
    {"header two objects", token_of(R"({"alg":"RS256"}{})"), auth_errc::malformed_header},
    {"header with comment", token_of(R"({"alg":"RS256"/*c*/})"), auth_errc::malformed_header},
    {"header trailing comma", token_of(R"({"alg":"RS256",})"), auth_errc::malformed_header},
    {"header duplicate alg", token_of(R"({"alg":"RS256","alg":"HS256"})"),
     auth_errc::malformed_header},
    {"header duplicate alg via escape", token_of(R"({"alg":"RS256","\u0061lg":"HS256"})"),
     auth_errc::malformed_header},
    {"header duplicate kid", token_of(R"({"kid":"a","alg":"RS256","kid":"b"})"),
     auth_errc::malformed_header},
    {"header nested duplicate", token_of(R"({"alg":"RS256","x":{"a":1,"a":1}})"),
     auth_errc::malformed_header},
    {"header duplicate inside array", token_of(R"({"alg":"RS256","x":[{"a":1,"a":2}]})"),
     auth_errc::malformed_header},
    {"header nesting over limit", token_of(R"({"alg":"RS256","x":)" + nested_arrays(32) + "}"),
     auth_errc::malformed_header},
    {"header invalid UTF-8", token_of("{\"alg\":\"RS256\",\"x\":\"\xff\"}"),
     auth_errc::malformed_header},
    {"header overlong UTF-8", token_of("{\"alg\":\"RS256\",\"x\":\"\xc0\xaf\"}"),
     auth_errc::malformed_header},
    // enc, alg, crit, kid, typ.
    {"enc present", token_of(R"({"alg":"RS256","enc":"A128GCM"})"), auth_errc::encrypted_token},
    {"enc before alg none", token_of(R"({"alg":"none","enc":"A128GCM"})"),
     auth_errc::encrypted_token},
    {"alg none", token_of(R"({"alg":"none"})"), auth_errc::alg_none},
    {"alg NONE", token_of(R"({"alg":"NONE"})"), auth_errc::alg_none},
    {"alg None", token_of(R"({"alg":"None"})"), auth_errc::alg_none},
    {"alg nOnE", token_of(R"({"alg":"nOnE"})"), auth_errc::alg_none},
    {"alg missing", token_of(R"({"typ":"JWT"})"), auth_errc::unknown_algorithm},
    {"alg number", token_of(R"({"alg":123})"), auth_errc::unknown_algorithm},
    {"alg null", token_of(R"({"alg":null})"), auth_errc::unknown_algorithm},
    {"alg array", token_of(R"({"alg":["RS256"]})"), auth_errc::unknown_algorithm},
    {"alg RS255", token_of(R"({"alg":"RS255"})"), auth_errc::unknown_algorithm},
    {"alg lower case", token_of(R"({"alg":"rs256"})"), auth_errc::unknown_algorithm},
    {"alg empty", token_of(R"({"alg":""})"), auth_errc::unknown_algorithm},
    {"alg trailing space", token_of(R"({"alg":"RS256 "})"), auth_errc::unknown_algorithm},
    {"alg embedded NUL", token_of(R"({"alg":"RS256\u0000"})"), auth_errc::unknown_algorithm},
    {"alg none with NUL", token_of(R"({"alg":"none\u0000"})"), auth_errc::unknown_algorithm},
    {"crit empty array", token_of(R"({"alg":"RS256","crit":[]})"), auth_errc::crit_unsupported},
    {"crit exp", token_of(R"({"alg":"RS256","crit":["exp"],"exp":1})"),
     auth_errc::crit_unsupported},
    {"crit null", token_of(R"({"alg":"RS256","crit":null})"), auth_errc::crit_unsupported},
    {"alg none before crit", token_of(R"({"alg":"none","crit":["b64"]})"), auth_errc::alg_none},
    {"crit before kid type", token_of(R"({"alg":"RS256","crit":[],"kid":5})"),
     auth_errc::crit_unsupported},
    {"kid number", token_of(R"({"alg":"RS256","kid":5})"), auth_errc::malformed_header},
    {"kid null", token_of(R"({"alg":"RS256","kid":null})"), auth_errc::malformed_header},
    {"kid object", token_of(R"({"alg":"RS256","kid":{}})"), auth_errc::malformed_header},
    {"typ number", token_of(R"({"alg":"RS256","typ":1})"), auth_errc::malformed_header},
    {"typ array", token_of(R"({"alg":"RS256","typ":["JWT"]})"), auth_errc::malformed_header},
    // Payload.
    {"payload not base64url", h + ".!!!!." + s, auth_errc::bad_base64},
    {"payload not JSON", token_of(good_header, "hello"), auth_errc::malformed_payload},
    {"payload array", token_of(good_header, "[]"), auth_errc::malformed_payload},
    {"payload string", token_of(good_header, R"("sub")"), auth_errc::malformed_payload},
    {"payload duplicate iss", token_of(good_header, R"({"iss":"a","iss":"b"})"),
     auth_errc::malformed_payload},
    {"payload duplicate exp", token_of(good_header, R"({"exp":1,"sub":"x","exp":2})"),
     auth_errc::malformed_payload},
    {"payload nested duplicate", token_of(good_header, R"({"org":{"id":"a","id":"b"}})"),
     auth_errc::malformed_payload},
    {"payload nesting over limit", token_of(good_header, R"({"x":)" + nested_arrays(32) + "}"),
     auth_errc::malformed_payload},
    {"payload invalid UTF-8", token_of(good_header, "{\"sub\":\"\xe2\x82\"}"),
     auth_errc::malformed_payload},
    {"payload trailing data", token_of(good_header, R"({"sub":"a"}])"),
     auth_errc::malformed_payload},
    // Signature segment.
    {"signature not base64url", h + "." + p + ".!!!!", auth_errc::bad_base64},
    // Check order: the first failing step wins.
    {"bad header base64 before bad payload", "!!!!.!!!!.!!!!", auth_errc::bad_base64},
    {"header JSON before signature base64", token_of("[]", good_payload, "!!!!"),
     auth_errc::malformed_header},
    {"alg none before payload JSON", token_of(R"({"alg":"none"})", "[]"), auth_errc::alg_none},
    {"kid type before payload base64", b64(R"({"alg":"RS256","kid":1})") + ".!!!!." + s,
     auth_errc::malformed_header},
    {"payload JSON before signature base64", token_of(good_header, "[]", "!!!!"),
     auth_errc::malformed_payload},
};

} // namespace

BOOST_AUTO_TEST_SUITE(jwt)

BOOST_DATA_TEST_CASE(refuses_with_exact_reason, bdata::make(bad_rows), row) {
    const auto r = parse_jws(row.token, default_max);
    BOOST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == make_error_code(row.expected));
}

BOOST_AUTO_TEST_CASE(good_token_is_parsed) {
    const std::string token = token_of(good_header);
    const auto r = parse_jws(token, default_max);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->alg == jws_alg::RS256);
    BOOST_TEST(r->has_kid);
    BOOST_TEST(r->kid == "k1");
    BOOST_TEST(r->has_typ);
    BOOST_TEST(r->typ == "JWT");
    BOOST_TEST(r->signature == "signature-bytes");
    BOOST_TEST(boost::json::serialize(r->header) == good_header);
    BOOST_TEST(boost::json::serialize(r->payload) == good_payload);
    const std::string expected_input = h + "." + p;
    BOOST_TEST(r->signing_input == expected_input);
    // A view into the token itself, not a copy.
    BOOST_TEST(static_cast<const void*>(r->signing_input.data()) ==
               static_cast<const void*>(token.data()));
}

BOOST_AUTO_TEST_CASE(kid_and_typ_absent_or_empty) {
    const auto absent = parse_jws(token_of(R"({"alg":"ES256"})"), default_max);
    BOOST_REQUIRE(absent.has_value());
    BOOST_TEST(!absent->has_kid);
    BOOST_TEST(absent->kid.empty());
    BOOST_TEST(!absent->has_typ);
    BOOST_TEST(absent->typ.empty());

    const auto empty = parse_jws(token_of(R"({"alg":"ES256","kid":"","typ":""})"), default_max);
    BOOST_REQUIRE(empty.has_value());
    BOOST_TEST(empty->has_kid);
    BOOST_TEST(empty->kid.empty());
    BOOST_TEST(empty->has_typ);
    BOOST_TEST(empty->typ.empty());
}

BOOST_AUTO_TEST_CASE(every_algorithm_name_is_recognised) {
    for (std::size_t i = 0; i < jwtgate::core::jws_alg_count; ++i) {
        const auto alg = static_cast<jws_alg>(i);
        const std::string name(jwtgate::core::to_string(alg));
        const auto r = parse_jws(token_of(R"({"alg":")" + name + R"("})"), default_max);
        BOOST_REQUIRE_MESSAGE(r.has_value(), name);
        BOOST_TEST((r->alg == alg), name);
    }
}

BOOST_AUTO_TEST_CASE(size_limit_is_inclusive_and_checked_first) {
    const std::string token = token_of(good_header);
    BOOST_TEST(parse_jws(token, token.size()).has_value());
    const auto over = parse_jws(token, token.size() - 1);
    BOOST_REQUIRE(over.has_error());
    BOOST_TEST(over.error() == make_error_code(auth_errc::token_too_large));

    // Size comes before any structural check.
    const std::string garbage(100, '.');
    const auto big_garbage = parse_jws(garbage, 99);
    BOOST_REQUIRE(big_garbage.has_error());
    BOOST_TEST(big_garbage.error() == make_error_code(auth_errc::token_too_large));
    const auto empty = parse_jws("", 0);
    BOOST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error() == make_error_code(auth_errc::malformed_token));
}

BOOST_AUTO_TEST_CASE(nesting_up_to_the_limit_is_accepted) {
    // The object itself is one level: 31 nested arrays inside reach the limit of 32.
    const auto header =
        parse_jws(token_of(R"({"alg":"RS256","x":)" + nested_arrays(31) + "}"), default_max);
    BOOST_TEST(header.has_value());
    const auto payload =
        parse_jws(token_of(good_header, R"({"x":)" + nested_arrays(31) + "}"), default_max);
    BOOST_TEST(payload.has_value());
}

BOOST_AUTO_TEST_CASE(same_name_in_different_objects_is_not_a_duplicate) {
    const auto r =
        parse_jws(token_of(R"({"alg":"RS256","a":{"alg":1,"a":[{"a":1},{"a":2}]}})",
                           R"({"iss":"x","org":{"iss":"y","id":1},"list":[{"id":1},{"id":2}]})"),
                  default_max);
    BOOST_TEST(r.has_value());
}

BOOST_AUTO_TEST_CASE(utf8_and_json_whitespace_are_accepted) {
    const auto r = parse_jws(token_of(" {\n\t\"alg\" : \"EdDSA\" } ",
                                      "{\"name\":\"J\xc3\xbcrgen \xe2\x82\xac\",\"n\":1.5e3}"),
                             default_max);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->alg == jws_alg::EdDSA);
    BOOST_TEST(r->payload.at("name").as_string() == "J\xc3\xbcrgen \xe2\x82\xac");
}

BOOST_AUTO_TEST_CASE(key_carrying_header_members_are_ignored) {
    // jwk/jku/x5u/x5c are parsed as ordinary members and never influence the result;
    // verify_test shows such a token cannot verify against a set lacking that key.
    const auto r = parse_jws(
        token_of(
            R"({"alg":"RS256","jwk":{"kty":"oct","k":"AAAA"},"jku":"https://evil.example/jwks",)"
            R"("x5u":"https://evil.example/cert","x5c":["MIIB"]})"),
        default_max);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->alg == jws_alg::RS256);
    BOOST_TEST(!r->has_kid);
}

BOOST_AUTO_TEST_SUITE_END()
