// Tests for JWKS documents: bad keys skipped with reasons, whole-document refusals, the
// size cap, kid lookup and fingerprints (RFC 7517 section 5).
#include "core/jwks.hpp"

#include "key_fixtures.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace bdata = boost::unit_test::data;
namespace json = boost::json;
using jwtgate::core::jwk_errc;
using jwtgate::core::jwks_errc;
using jwtgate::core::key_set;
using jwtgate::core::max_jwks_bytes;
using jwtgate::core::parse_jwks;
using namespace jwtgate::test;

namespace {

// RFC 7515 A.3 (P-256), RFC 8037 A.2 (Ed25519), RFC 7520 3.3 (RSA) and 3.5 (oct).
constexpr std::string_view ec_key =
    R"({"kty":"EC","kid":"ec-1","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
    R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";
constexpr std::string_view ed_key =
    R"({"kty":"OKP","kid":"ed-1","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";
constexpr std::string_view rsa_key =
    R"({"kty":"RSA","kid":"rsa-1","use":"sig","n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuK)"
    R"(PEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2l)"
    R"(bzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI)"
    R"(9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7)"
    R"(h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQAB"})";
constexpr std::string_view oct_key_json =
    R"({"kty":"oct","kid":"hmac-1","k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"})";

std::string with(std::string_view base, std::string_view member, std::string_view value_json) {
    json::object o = parse_object(base);
    o[member] = json::parse(value_json);
    return json::serialize(o);
}

std::string jwks_of(const std::vector<std::string>& keys) {
    std::string out = R"({"keys":[)";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        out += (i == 0 ? "" : ",") + keys[i];
    }
    return out + "]}";
}

struct skip {
    std::size_t index;
    std::string kid;
    jwk_errc reason;
};

struct set_row {
    const char* name;
    std::vector<std::string> keys;
    bool allow_oct;
    std::vector<std::string> kept_kids;
    std::vector<skip> skipped;
};
std::ostream& operator<<(std::ostream& os, const set_row& r) {
    return os << r.name;
}

const set_row set_rows[] = {
    {"all_good",
     {std::string(ec_key), std::string(ed_key), std::string(rsa_key)},
     false,
     {"ec-1", "ed-1", "rsa-1"},
     {}},
    {"one_bad_among_good",
     {std::string(ec_key), with(ed_key, "use", R"("enc")"), std::string(rsa_key)},
     false,
     {"ec-1", "rsa-1"},
     {{1, "ed-1", jwk_errc::not_for_signing}}},
    {"several_bad_reasons",
     {with(rsa_key, "e", R"("AQ")"), std::string(ec_key), with(ec_key, "crv", R"("P-192")"),
      with(rsa_key, "d", R"("AQAB")"), with(ed_key, "kty", R"("XYZ")")},
     false,
     {"ec-1"},
     {{0, "rsa-1", jwk_errc::rsa_bad_exponent},
      {2, "ec-1", jwk_errc::unsupported_curve},
      {3, "rsa-1", jwk_errc::private_key},
      {4, "ed-1", jwk_errc::unsupported_kty}}},
    {"non_object_entries",
     {R"("a string")", "42", "null", "[]", std::string(ed_key)},
     false,
     {"ed-1"},
     {{0, "", jwk_errc::not_an_object},
      {1, "", jwk_errc::not_an_object},
      {2, "", jwk_errc::not_an_object},
      {3, "", jwk_errc::not_an_object}}},
    {"bad_key_with_non_string_kid",
     {with(ec_key, "kid", "17"), std::string(rsa_key)},
     false,
     {"rsa-1"},
     {{0, "", jwk_errc::bad_member}}},
    {"oct_in_remote_set_skipped",
     {std::string(oct_key_json), std::string(ec_key)},
     false,
     {"ec-1"},
     {{0, "hmac-1", jwk_errc::oct_not_allowed}}},
    {"oct_in_local_set_kept",
     {std::string(oct_key_json), std::string(ec_key)},
     true,
     {"hmac-1", "ec-1"},
     {}},
    {"duplicate_kids_both_kept",
     {std::string(ec_key), with(ed_key, "kid", R"("ec-1")")},
     false,
     {"ec-1", "ec-1"},
     {}},
    {"key_without_kid",
     {R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})"},
     false,
     {""},
     {}},
};

} // namespace

BOOST_AUTO_TEST_SUITE(jwks)

BOOST_DATA_TEST_CASE(keeps_good_keys_and_reports_bad_ones, bdata::make(set_rows), row) {
    const auto parsed = parse_jwks(jwks_of(row.keys), row.allow_oct);
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), parsed.error().message());
    BOOST_REQUIRE(parsed->keys != nullptr);
    const key_set& set = *parsed->keys;
    BOOST_REQUIRE_EQUAL(set.size(), row.kept_kids.size());
    for (std::size_t i = 0; i < row.kept_kids.size(); ++i) {
        BOOST_TEST(set.keys()[i]->kid == row.kept_kids[i]);
    }
    BOOST_REQUIRE_EQUAL(parsed->skipped.size(), row.skipped.size());
    for (std::size_t i = 0; i < row.skipped.size(); ++i) {
        BOOST_TEST(parsed->skipped[i].index == row.skipped[i].index);
        BOOST_TEST(parsed->skipped[i].kid == row.skipped[i].kid);
        BOOST_TEST((parsed->skipped[i].reason == row.skipped[i].reason),
                   "skipped[" << i << "] reason "
                              << make_error_code(parsed->skipped[i].reason).message());
    }
}

namespace {

struct doc_row {
    const char* name;
    std::string doc;
    jwks_errc expected;
};
std::ostream& operator<<(std::ostream& os, const doc_row& r) {
    return os << r.name;
}

const doc_row doc_rows[] = {
    {"empty_input", "", jwks_errc::not_json},
    {"not_json", "keys: []", jwks_errc::not_json},
    {"truncated", R"({"keys":[)", jwks_errc::not_json},
    {"trailing_garbage", R"({"keys":[]} x)", jwks_errc::not_json},
    {"two_documents", R"({"keys":[]}{"keys":[]})", jwks_errc::not_json},
    {"top_level_array", "[" + std::string(ec_key) + "]", jwks_errc::not_an_object},
    {"top_level_string", R"("keys")", jwks_errc::not_an_object},
    {"top_level_null", "null", jwks_errc::not_an_object},
    {"no_keys_member", "{}", jwks_errc::no_keys_member},
    {"keys_misspelled", R"({"Keys":[)" + std::string(ec_key) + "]}", jwks_errc::no_keys_member},
    {"keys_is_object", R"({"keys":)" + std::string(ec_key) + "}", jwks_errc::no_keys_member},
    {"keys_is_null", R"({"keys":null})", jwks_errc::no_keys_member},
    {"keys_empty", R"({"keys":[]})", jwks_errc::no_usable_key},
    {"all_keys_bad",
     jwks_of({with(ec_key, "use", R"("enc")"), with(rsa_key, "alg", R"("none")"), "1"}),
     jwks_errc::no_usable_key},
    {"only_oct_in_remote_set", jwks_of({std::string(oct_key_json)}), jwks_errc::no_usable_key},
};

} // namespace

BOOST_DATA_TEST_CASE(refuses_document_with_exact_reason, bdata::make(doc_rows), row) {
    const auto parsed = parse_jwks(row.doc, false);
    BOOST_REQUIRE(!parsed.has_value());
    BOOST_TEST(parsed.error() == make_error_code(row.expected), parsed.error().message());
    BOOST_TEST(&parsed.error().category() == &jwtgate::core::jwks_category());
}

BOOST_AUTO_TEST_CASE(size_cap_applies_to_an_otherwise_valid_document) {
    const std::string doc = jwks_of({std::string(ec_key)});
    // Trailing whitespace keeps the document valid JSON at any length.
    const std::string at_cap = doc + std::string(max_jwks_bytes - doc.size(), ' ');
    BOOST_REQUIRE_EQUAL(at_cap.size(), max_jwks_bytes);
    BOOST_TEST(parse_jwks(at_cap, false).has_value());
    const auto over = parse_jwks(at_cap + ' ', false);
    BOOST_REQUIRE(!over.has_value());
    BOOST_TEST(over.error() == make_error_code(jwks_errc::too_large));
    // The cap is checked before parsing: invalid JSON over the cap is "too large".
    const auto junk = parse_jwks(std::string(max_jwks_bytes + 1, '{'), false);
    BOOST_REQUIRE(!junk.has_value());
    BOOST_TEST(junk.error() == make_error_code(jwks_errc::too_large));
}

BOOST_AUTO_TEST_CASE(parses_a_json_value_directly) {
    const json::value doc = json::parse(jwks_of({std::string(ec_key), std::string(oct_key_json)}));
    const auto remote = parse_jwks(doc, false);
    BOOST_REQUIRE(remote.has_value());
    BOOST_TEST(remote->keys->size() == 1u);
    BOOST_TEST(remote->skipped.size() == 1u);
    const auto local = parse_jwks(doc, true);
    BOOST_REQUIRE(local.has_value());
    BOOST_TEST(local->keys->size() == 2u);
    const auto not_object = parse_jwks(json::value(json::array{}), false);
    BOOST_REQUIRE(!not_object.has_value());
    BOOST_TEST(not_object.error() == make_error_code(jwks_errc::not_an_object));
}

BOOST_AUTO_TEST_CASE(find_kid_returns_every_match) {
    const auto parsed = parse_jwks(
        jwks_of(
            {std::string(ec_key), std::string(rsa_key), with(ed_key, "kid", R"("ec-1")"),
             R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})"}),
        false);
    BOOST_REQUIRE(parsed.has_value());
    const key_set& set = *parsed->keys;
    const auto ec = set.find_kid("ec-1");
    BOOST_REQUIRE_EQUAL(ec.size(), 2u);
    BOOST_TEST((ec[0]->kty == jwtgate::core::key_type::ec));
    BOOST_TEST((ec[1]->kty == jwtgate::core::key_type::okp));
    const auto rsa = set.find_kid("rsa-1");
    BOOST_REQUIRE_EQUAL(rsa.size(), 1u);
    BOOST_TEST(rsa[0] == set.keys()[1].get());
    BOOST_TEST(set.find_kid("unknown").empty());
    BOOST_TEST(set.find_kid("EC-1").empty()); // case-sensitive
    BOOST_TEST(set.find_kid("ec-").empty());  // no prefix match
    // A key without "kid" has an empty kid: only an empty lookup finds it.
    BOOST_TEST(set.find_kid("").size() == 1u);
}

BOOST_AUTO_TEST_CASE(contains_fingerprint_of_every_kept_key_only) {
    const auto parsed = parse_jwks(
        jwks_of({std::string(rsa_key), std::string(ec_key), std::string(ed_key)}), false);
    BOOST_REQUIRE(parsed.has_value());
    const key_set& set = *parsed->keys;
    for (const auto& k : set.keys()) {
        BOOST_TEST(set.contains_fingerprint(k->fingerprint));
    }
    BOOST_TEST(!set.contains_fingerprint(""));
    BOOST_TEST(!set.contains_fingerprint(load_jwk(oct_key_json, true)->fingerprint));
    BOOST_TEST(!set.contains_fingerprint(load_jwk(public_jwk(gen_ec("P-256").get()))->fingerprint));
    // A refetch of the same document yields the same fingerprints.
    const auto again = parse_jwks(
        jwks_of({std::string(ed_key), std::string(ec_key), std::string(rsa_key)}), false);
    BOOST_REQUIRE(again.has_value());
    for (const auto& k : again->keys->keys()) {
        BOOST_TEST(set.contains_fingerprint(k->fingerprint));
    }
    // Copies of the set share the keys, so their fingerprint views stay valid.
    const key_set copy = set;
    BOOST_TEST(copy.contains_fingerprint(set.keys()[0]->fingerprint));
}

BOOST_AUTO_TEST_CASE(empty_key_set) {
    const key_set empty;
    BOOST_TEST(empty.empty());
    BOOST_TEST(empty.size() == 0u);
    BOOST_TEST(empty.find_kid("x").empty());
    BOOST_TEST(!empty.contains_fingerprint("00"));
}

BOOST_AUTO_TEST_CASE(error_category_messages) {
    const auto& cat = jwtgate::core::jwks_category();
    BOOST_TEST(std::string(cat.name()) == "jwtgate.jwks");
    std::set<std::string> messages;
    for (int e = static_cast<int>(jwks_errc::not_json); e <= static_cast<int>(jwks_errc::too_large);
         ++e) {
        BOOST_TEST(messages.insert(cat.message(e)).second);
    }
}

BOOST_AUTO_TEST_SUITE_END()
