// Tests for one JWK -> key: every refusal reason, serves(), fingerprints (RFC 7517, 7518 6,
// 7638, 8037 2).
#include "core/jwk.hpp"

#include "key_fixtures.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <ostream>
#include <set>
#include <string>

namespace bdata = boost::unit_test::data;
namespace json = boost::json;
using jwtgate::core::jwk;
using jwtgate::core::jwk_errc;
using jwtgate::core::jws_alg;
using jwtgate::core::key_curve;
using jwtgate::core::key_type;
using jwtgate::core::parse_jwk;
using namespace jwtgate::test;

namespace {

// Base keys, all public and usable.
// RFC 7638 3.1 (the RFC 7517 A.1 RSA key); thumbprint NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
constexpr std::string_view rsa_7638 =
    R"({"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29","n":"0vx7agoebGcQSuuPiLJXZp)"
    R"(tN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiF)"
    R"(V4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY36)"
    R"(8QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQF)"
    R"(h6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"})";
constexpr std::string_view rsa_7638_thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

// RFC 7520 3.3.
constexpr std::string_view rsa_7520 =
    R"({"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"n4EPtAOCc9AlkeQ)"
    R"(HPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMR)"
    R"(BSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-O)"
    R"(fVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L)"
    R"(_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQ)"
    R"(AB"})";

// RFC 7515 A.3 (P-256).
constexpr std::string_view ec_p256 =
    R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzR)"
    R"(u9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";

// RFC 7520 3.1 (P-521).
constexpr std::string_view ec_p521 =
    R"({"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521","x":"AH)"
    R"(KZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0)"
    R"(Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9)"
    R"(cwlGfP-HqHZR1"})";

// RFC 8037 A.2; thumbprint (A.3) kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k.
constexpr std::string_view okp_ed25519 =
    R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";
constexpr std::string_view okp_thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

// RFC 7520 3.5.
constexpr std::string_view oct_7520 =
    R"({"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256",)"
    R"("k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"})";

std::string member_bytes(const json::object& o, std::string_view name) {
    auto d = jwtgate::core::base64url_decode(o.at(name).as_string());
    if (!d) {
        throw std::runtime_error("fixture member is not base64url");
    }
    return *d;
}

void set_bytes(json::object& o, std::string_view name, std::string_view bytes) {
    o[name] = b64(bytes);
}

std::string hex(std::string_view bytes) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    for (char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0F]);
    }
    return out;
}

using mutation = void (*)(json::object&);

struct bad_row {
    const char* name;
    std::string_view base;
    mutation mutate;
    bool allow_oct;
    jwk_errc expected;
};
std::ostream& operator<<(std::ostream& os, const bad_row& r) {
    return os << r.name;
}

// Replaces or adds one member with a JSON value given as text.
#define SET(member, value_json) [](json::object& o) { o[member] = json::parse(value_json); }
#define ERASE(member) [](json::object& o) { o.erase(member); }

const bad_row bad_rows[] = {
    // Common members.
    {"missing_kty", rsa_7520, ERASE("kty"), true, jwk_errc::missing_kty},
    {"kty_not_string", rsa_7520, SET("kty", "1"), true, jwk_errc::bad_member},
    {"kty_unknown", rsa_7520, SET("kty", R"("DSA")"), true, jwk_errc::unsupported_kty},
    {"kty_wrong_case", rsa_7520, SET("kty", R"("rsa")"), true, jwk_errc::unsupported_kty},
    {"kty_empty", rsa_7520, SET("kty", R"("")"), true, jwk_errc::unsupported_kty},
    {"kid_not_string", rsa_7520, SET("kid", "7"), true, jwk_errc::bad_member},
    {"use_enc", rsa_7520, SET("use", R"("enc")"), true, jwk_errc::not_for_signing},
    {"use_wrong_case", rsa_7520, SET("use", R"("SIG")"), true, jwk_errc::not_for_signing},
    {"use_not_string", rsa_7520, SET("use", R"(["sig"])"), true, jwk_errc::bad_member},
    {"key_ops_encrypt", rsa_7520, SET("key_ops", R"(["encrypt"])"), true,
     jwk_errc::not_for_signing},
    {"key_ops_sign_only", rsa_7520, SET("key_ops", R"(["sign"])"), true, jwk_errc::not_for_signing},
    {"key_ops_empty", rsa_7520, SET("key_ops", "[]"), true, jwk_errc::not_for_signing},
    {"key_ops_not_array", rsa_7520, SET("key_ops", R"("verify")"), true, jwk_errc::bad_member},
    {"key_ops_non_string_entry", rsa_7520, SET("key_ops", R"(["verify",1])"), true,
     jwk_errc::bad_member},
    {"alg_none", rsa_7520, SET("alg", R"("none")"), true, jwk_errc::unknown_alg},
    {"alg_unknown", rsa_7520, SET("alg", R"("RS1")"), true, jwk_errc::unknown_alg},
    {"alg_wrong_case", rsa_7520, SET("alg", R"("rs256")"), true, jwk_errc::unknown_alg},
    {"alg_encryption", rsa_7520, SET("alg", R"("RSA-OAEP")"), true, jwk_errc::unknown_alg},
    {"alg_not_string", rsa_7520, SET("alg", "256"), true, jwk_errc::bad_member},
    {"rsa_alg_hs256", rsa_7520, SET("alg", R"("HS256")"), true, jwk_errc::alg_kty_mismatch},
    {"rsa_alg_es256", rsa_7520, SET("alg", R"("ES256")"), true, jwk_errc::alg_kty_mismatch},
    {"ec_alg_rs256", ec_p256, SET("alg", R"("RS256")"), true, jwk_errc::alg_kty_mismatch},
    {"ec_p256_alg_es384", ec_p256, SET("alg", R"("ES384")"), true, jwk_errc::alg_kty_mismatch},
    {"ec_p256_alg_es512", ec_p256, SET("alg", R"("ES512")"), true, jwk_errc::alg_kty_mismatch},
    {"ec_p521_alg_es256", ec_p521, SET("alg", R"("ES256")"), true, jwk_errc::alg_kty_mismatch},
    {"ec_alg_eddsa", ec_p256, SET("alg", R"("EdDSA")"), true, jwk_errc::alg_kty_mismatch},
    {"okp_alg_es256", okp_ed25519, SET("alg", R"("ES256")"), true, jwk_errc::alg_kty_mismatch},
    {"oct_alg_rs256", oct_7520, SET("alg", R"("RS256")"), true, jwk_errc::alg_kty_mismatch},
    // Private members, whatever the key type (and even for a local key set).
    {"rsa_d", rsa_7520, SET("d", R"("AQAB")"), true, jwk_errc::private_key},
    {"rsa_p", rsa_7520, SET("p", R"("AQAB")"), true, jwk_errc::private_key},
    {"rsa_q", rsa_7520, SET("q", R"("AQAB")"), true, jwk_errc::private_key},
    {"rsa_dp", rsa_7520, SET("dp", R"("AQAB")"), true, jwk_errc::private_key},
    {"rsa_dq", rsa_7520, SET("dq", R"("AQAB")"), true, jwk_errc::private_key},
    {"rsa_qi", rsa_7520, SET("qi", R"("AQAB")"), true, jwk_errc::private_key},
    {"rsa_oth", rsa_7520, SET("oth", "[]"), true, jwk_errc::private_key},
    {"rsa_d_null", rsa_7520, SET("d", "null"), true, jwk_errc::private_key},
    {"ec_d", ec_p256, SET("d", R"("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")"), true,
     jwk_errc::private_key},
    {"okp_d", okp_ed25519, SET("d", R"("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")"), true,
     jwk_errc::private_key},
    // RSA members.
    {"rsa_missing_n", rsa_7520, ERASE("n"), true, jwk_errc::bad_member},
    {"rsa_missing_e", rsa_7520, ERASE("e"), true, jwk_errc::bad_member},
    {"rsa_n_not_string", rsa_7520, SET("n", "12345"), true, jwk_errc::bad_member},
    {"rsa_n_empty", rsa_7520, SET("n", R"("")"), true, jwk_errc::bad_member},
    {"rsa_e_padded", rsa_7520, SET("e", R"("AQAB=")"), true, jwk_errc::bad_member},
    {"rsa_e_std_alphabet", rsa_7520, SET("e", R"("AQ+B")"), true, jwk_errc::bad_member},
    {"rsa_n_all_zero", rsa_7520, SET("n", R"("AAAA")"), true, jwk_errc::bad_member},
    {"rsa_n_padded", rsa_7520,
     [](json::object& o) { o["n"] = std::string(o["n"].as_string()) + "=="; }, true,
     jwk_errc::bad_member},
    {"rsa_n_1024_bits", rsa_7520,
     [](json::object& o) {
         auto n = member_bytes(o, "n").substr(0, 128);
         n.back() = static_cast<char>(n.back() | 1);
         set_bytes(o, "n", n);
     },
     true, jwk_errc::rsa_too_small},
    {"rsa_n_2047_bits", rsa_7520,
     [](json::object& o) {
         auto n = member_bytes(o, "n");
         n[0] = static_cast<char>((static_cast<unsigned char>(n[0]) & 0x7F) | 0x40);
         set_bytes(o, "n", n);
     },
     true, jwk_errc::rsa_too_small},
    {"rsa_n_over_16384_bits", rsa_7520,
     [](json::object& o) { set_bytes(o, "n", "\x01" + std::string(2048, '\xff')); }, true,
     jwk_errc::rsa_too_large},
    {"rsa_n_even", rsa_7520,
     [](json::object& o) {
         auto n = member_bytes(o, "n");
         n.back() = static_cast<char>(n.back() & ~1);
         set_bytes(o, "n", n);
     },
     true, jwk_errc::bad_member},
    {"rsa_e_1", rsa_7520, SET("e", R"("AQ")"), true, jwk_errc::rsa_bad_exponent},
    {"rsa_e_0", rsa_7520, SET("e", R"("AA")"), true, jwk_errc::rsa_bad_exponent},
    {"rsa_e_2", rsa_7520, SET("e", R"("Ag")"), true, jwk_errc::rsa_bad_exponent},
    {"rsa_e_65536", rsa_7520, SET("e", R"("AQAA")"), true, jwk_errc::rsa_bad_exponent},
    {"rsa_e_1_with_leading_zeros", rsa_7520, SET("e", R"("AAAB")"), true,
     jwk_errc::rsa_bad_exponent},
    {"rsa_e_over_64_bits", rsa_7520, SET("e", R"("AQAAAAAAAAAAAQ")"), true,
     jwk_errc::rsa_bad_exponent},
    // EC members.
    {"ec_missing_crv", ec_p256, ERASE("crv"), true, jwk_errc::bad_member},
    {"ec_crv_not_string", ec_p256, SET("crv", "256"), true, jwk_errc::bad_member},
    {"ec_crv_secp256k1", ec_p256, SET("crv", R"("secp256k1")"), true, jwk_errc::unsupported_curve},
    {"ec_crv_p192", ec_p256, SET("crv", R"("P-192")"), true, jwk_errc::unsupported_curve},
    {"ec_crv_ed25519", ec_p256, SET("crv", R"("Ed25519")"), true, jwk_errc::unsupported_curve},
    {"ec_crv_p256_for_p521_coords", ec_p521, SET("crv", R"("P-256")"), true, jwk_errc::bad_member},
    {"ec_missing_x", ec_p256, ERASE("x"), true, jwk_errc::bad_member},
    {"ec_missing_y", ec_p256, ERASE("y"), true, jwk_errc::bad_member},
    {"ec_x_31_bytes", ec_p256,
     [](json::object& o) { set_bytes(o, "x", member_bytes(o, "x").substr(1)); }, true,
     jwk_errc::bad_member},
    {"ec_y_33_bytes", ec_p256,
     [](json::object& o) { set_bytes(o, "y", std::string(1, '\0') + member_bytes(o, "y")); }, true,
     jwk_errc::bad_member},
    {"ec_p521_x_65_bytes", ec_p521,
     [](json::object& o) { set_bytes(o, "x", member_bytes(o, "x").substr(1)); }, true,
     jwk_errc::bad_member},
    {"ec_y_modified", ec_p256,
     [](json::object& o) {
         auto y = member_bytes(o, "y");
         y.back() = static_cast<char>(y.back() ^ 1);
         set_bytes(o, "y", y);
     },
     true, jwk_errc::point_not_on_curve},
    {"ec_p521_y_modified", ec_p521,
     [](json::object& o) {
         auto y = member_bytes(o, "y");
         y[10] = static_cast<char>(y[10] ^ 0x20);
         set_bytes(o, "y", y);
     },
     true, jwk_errc::point_not_on_curve},
    {"ec_x_y_swapped", ec_p256,
     [](json::object& o) {
         const auto x = member_bytes(o, "x");
         set_bytes(o, "x", member_bytes(o, "y"));
         set_bytes(o, "y", x);
     },
     true, jwk_errc::point_not_on_curve},
    {"ec_origin", ec_p256,
     [](json::object& o) {
         set_bytes(o, "x", std::string(32, '\0'));
         set_bytes(o, "y", std::string(32, '\0'));
     },
     true, jwk_errc::point_not_on_curve},
    {"ec_coords_above_p", ec_p256,
     [](json::object& o) {
         set_bytes(o, "x", std::string(32, '\xff'));
         set_bytes(o, "y", std::string(32, '\xff'));
     },
     true, jwk_errc::point_not_on_curve},
    // OKP members.
    {"okp_missing_crv", okp_ed25519, ERASE("crv"), true, jwk_errc::bad_member},
    {"okp_ed448", okp_ed25519, SET("crv", R"("Ed448")"), true, jwk_errc::unsupported_curve},
    {"okp_x25519", okp_ed25519, SET("crv", R"("X25519")"), true, jwk_errc::unsupported_curve},
    {"okp_x448", okp_ed25519, SET("crv", R"("X448")"), true, jwk_errc::unsupported_curve},
    {"okp_p256", okp_ed25519, SET("crv", R"("P-256")"), true, jwk_errc::unsupported_curve},
    {"okp_missing_x", okp_ed25519, ERASE("x"), true, jwk_errc::bad_member},
    {"okp_x_31_bytes", okp_ed25519,
     [](json::object& o) { set_bytes(o, "x", member_bytes(o, "x").substr(1)); }, true,
     jwk_errc::bad_member},
    {"okp_x_33_bytes", okp_ed25519,
     [](json::object& o) { set_bytes(o, "x", member_bytes(o, "x") + '\0'); }, true,
     jwk_errc::bad_member},
    // oct.
    {"oct_remote", oct_7520, [](json::object&) {}, false, jwk_errc::oct_not_allowed},
    {"oct_remote_even_with_d", oct_7520, SET("d", R"("AQAB")"), false, jwk_errc::oct_not_allowed},
    {"oct_missing_k", oct_7520, ERASE("k"), true, jwk_errc::bad_member},
    {"oct_empty_k", oct_7520, SET("k", R"("")"), true, jwk_errc::bad_member},
    {"oct_k_not_base64url", oct_7520, SET("k", R"("a b")"), true, jwk_errc::bad_member},
};

#undef SET
#undef ERASE

} // namespace

BOOST_AUTO_TEST_SUITE(jwk_parse)

BOOST_DATA_TEST_CASE(refuses_with_exact_reason, bdata::make(bad_rows), row) {
    json::object o = parse_object(row.base);
    row.mutate(o);
    const auto k = parse_jwk(o, row.allow_oct);
    BOOST_REQUIRE(!k.has_value());
    BOOST_TEST(k.error() == make_error_code(row.expected), k.error().message());
    BOOST_TEST(&k.error().category() == &jwtgate::core::jwk_category());
}

BOOST_AUTO_TEST_CASE(generated_1024_bit_rsa_key_is_too_small) {
    auto pkey = gen_rsa(1024);
    const auto k = parse_jwk(public_jwk(pkey.get()), false);
    BOOST_REQUIRE(!k.has_value());
    BOOST_TEST(k.error() == make_error_code(jwk_errc::rsa_too_small));
}

namespace {

struct good_row {
    const char* name;
    std::string_view json;
    bool allow_oct;
    key_type kty;
    key_curve curve;
    std::optional<jws_alg> alg;
    std::string_view kid;
    std::size_t rsa_bits;
};
std::ostream& operator<<(std::ostream& os, const good_row& r) {
    return os << r.name;
}

const good_row good_rows[] = {
    {"rsa_7638", rsa_7638, false, key_type::rsa, key_curve::none, jws_alg::RS256, "2011-04-29",
     2048},
    {"rsa_7520", rsa_7520, false, key_type::rsa, key_curve::none, std::nullopt,
     "bilbo.baggins@hobbiton.example", 2048},
    {"ec_p256", ec_p256, false, key_type::ec, key_curve::p256, std::nullopt, "", 0},
    {"ec_p521", ec_p521, false, key_type::ec, key_curve::p521, std::nullopt,
     "bilbo.baggins@hobbiton.example", 0},
    {"okp_ed25519", okp_ed25519, false, key_type::okp, key_curve::ed25519, std::nullopt, "", 0},
    {"oct_local", oct_7520, true, key_type::oct, key_curve::none, jws_alg::HS256,
     "018c0ae5-4d9b-471b-bfd6-eef314bc7037", 0},
};

} // namespace

BOOST_DATA_TEST_CASE(accepts_public_keys, bdata::make(good_rows), row) {
    const auto k = parse_jwk(parse_object(row.json), row.allow_oct);
    BOOST_REQUIRE_MESSAGE(k.has_value(), k.error().message());
    const jwk& key = **k;
    BOOST_TEST((key.kty == row.kty));
    BOOST_TEST((key.curve == row.curve));
    BOOST_TEST((key.alg == row.alg));
    BOOST_TEST(key.kid == row.kid);
    BOOST_TEST(key.rsa_bits == row.rsa_bits);
    BOOST_TEST(key.fingerprint.size() == 64u);
    if (row.kty == key_type::oct) {
        BOOST_TEST(!key.pkey);
        BOOST_TEST(key.secret.size() == 32u);
    } else {
        BOOST_TEST(static_cast<bool>(key.pkey));
        BOOST_TEST(key.secret.empty());
    }
}

namespace {

struct accept_row {
    const char* name;
    std::string_view base;
    void (*mutate)(json::object&);
};
std::ostream& operator<<(std::ostream& os, const accept_row& r) {
    return os << r.name;
}

const accept_row accepted_variants[] = {
    {"use_sig", rsa_7520, [](json::object& o) { o["use"] = "sig"; }},
    {"key_ops_verify", rsa_7520,
     [](json::object& o) { o["key_ops"] = json::parse(R"(["verify"])"); }},
    {"key_ops_sign_and_verify", ec_p256,
     [](json::object& o) { o["key_ops"] = json::parse(R"(["sign","verify"])"); }},
    {"e_3", rsa_7520, [](json::object& o) { o["e"] = "Aw"; }},
    {"unknown_members_ignored", okp_ed25519,
     [](json::object& o) {
         o["x5t"] = "whatever";
         o["ext"] = true;
     }},
    {"n_with_leading_zeros", rsa_7520,
     [](json::object& o) { set_bytes(o, "n", std::string(2, '\0') + member_bytes(o, "n")); }},
    {"e_with_leading_zero", rsa_7520, [](json::object& o) { o["e"] = "AAEAAQ"; }},
    {"oct_short_secret", oct_7520, [](json::object& o) { o["k"] = "AA"; }},
};

} // namespace

BOOST_DATA_TEST_CASE(accepts_variants, bdata::make(accepted_variants), row) {
    json::object o = parse_object(row.base);
    row.mutate(o);
    const auto k = parse_jwk(o, true);
    BOOST_TEST(k.has_value(), (k ? "" : k.error().message()));
}

// serves(): key type, curve, and the JWK's own "alg".
namespace {

struct serves_row {
    const char* name;
    std::string_view json;
    std::set<jws_alg> serves;
};
std::ostream& operator<<(std::ostream& os, const serves_row& r) {
    return os << r.name;
}

const std::array<jws_alg, 13> all_algs{
    jws_alg::RS256, jws_alg::RS384, jws_alg::RS512, jws_alg::PS256, jws_alg::PS384,
    jws_alg::PS512, jws_alg::ES256, jws_alg::ES384, jws_alg::ES512, jws_alg::EdDSA,
    jws_alg::HS256, jws_alg::HS384, jws_alg::HS512};

const serves_row serves_rows[] = {
    {"rsa_without_alg",
     rsa_7520,
     {jws_alg::RS256, jws_alg::RS384, jws_alg::RS512, jws_alg::PS256, jws_alg::PS384,
      jws_alg::PS512}},
    {"rsa_with_alg_rs256", rsa_7638, {jws_alg::RS256}},
    {"ec_p256", ec_p256, {jws_alg::ES256}},
    {"ec_p521", ec_p521, {jws_alg::ES512}},
    {"okp_ed25519", okp_ed25519, {jws_alg::EdDSA}},
    {"oct_with_alg_hs256", oct_7520, {jws_alg::HS256}},
    {"oct_without_alg",
     R"({"kty":"oct","k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"})",
     {jws_alg::HS256, jws_alg::HS384, jws_alg::HS512}},
};

} // namespace

BOOST_DATA_TEST_CASE(serves_exactly, bdata::make(serves_rows), row) {
    const auto key = load_jwk(row.json, true);
    for (jws_alg a : all_algs) {
        BOOST_TEST(key->serves(a) == (row.serves.count(a) == 1), to_string(a));
    }
}

BOOST_AUTO_TEST_CASE(p384_key_serves_only_es384) {
    auto pkey = gen_ec("P-384");
    const auto key = load_jwk(public_jwk(pkey.get()));
    BOOST_TEST((key->curve == key_curve::p384));
    for (jws_alg a : all_algs) {
        BOOST_TEST(key->serves(a) == (a == jws_alg::ES384), to_string(a));
    }
}

// Fingerprints: the RFC 7638 thumbprint for public keys, stable and distinct.
BOOST_AUTO_TEST_CASE(fingerprint_is_rfc7638_thumbprint) {
    BOOST_TEST(load_jwk(rsa_7638)->fingerprint ==
               hex(*jwtgate::core::base64url_decode(rsa_7638_thumbprint)));
    BOOST_TEST(load_jwk(okp_ed25519)->fingerprint ==
               hex(*jwtgate::core::base64url_decode(okp_thumbprint)));
}

BOOST_AUTO_TEST_CASE(fingerprint_ignores_metadata_order_and_leading_zeros) {
    const std::string base = load_jwk(rsa_7638)->fingerprint;
    json::object o = parse_object(rsa_7638);
    o.erase("alg");
    o["kid"] = "another-kid";
    o["use"] = "sig";
    set_bytes(o, "n", std::string(1, '\0') + member_bytes(o, "n"));
    o["e"] = "AAEAAQ";
    BOOST_TEST(load_jwk(o)->fingerprint == base);
    // Same members, different order in the document.
    json::object reordered;
    const json::object orig = parse_object(rsa_7638);
    for (auto it = orig.end(); it != orig.begin();) {
        --it;
        reordered[it->key()] = it->value();
    }
    BOOST_TEST(load_jwk(reordered)->fingerprint == base);
    // And a refetch of the same document.
    BOOST_TEST(load_jwk(rsa_7638)->fingerprint == base);
}

BOOST_AUTO_TEST_CASE(fingerprints_are_distinct) {
    std::set<std::string> seen;
    for (auto json_text : {rsa_7638, rsa_7520, ec_p256, ec_p521, okp_ed25519, oct_7520}) {
        BOOST_TEST(seen.insert(load_jwk(json_text, true)->fingerprint).second, json_text);
    }
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(seen.insert(load_jwk(public_jwk(gen_ec("P-256").get()))->fingerprint).second);
        BOOST_TEST(seen.insert(load_jwk(public_jwk(gen_ed25519().get()))->fingerprint).second);
        BOOST_TEST(
            seen.insert(oct_key(std::string(32, static_cast<char>('a' + i)))->fingerprint).second);
    }
    // Same exponent, modulus differing in one bit.
    json::object o = parse_object(rsa_7520);
    auto n = member_bytes(o, "n");
    n[100] = static_cast<char>(n[100] ^ 4);
    set_bytes(o, "n", n);
    BOOST_TEST(seen.insert(load_jwk(o)->fingerprint).second);
}

BOOST_AUTO_TEST_CASE(oct_fingerprint_is_not_a_bare_hash_of_the_secret) {
    // A log line carrying the fingerprint must not be a plain SHA-256 of the secret.
    const auto key = load_jwk(oct_7520, true);
    std::array<unsigned char, 32> md{};
    unsigned int len = 0;
    BOOST_REQUIRE(EVP_Digest(key->secret.data(), key->secret.size(), md.data(), &len, EVP_sha256(),
                             nullptr) == 1);
    BOOST_TEST(key->fingerprint !=
               hex(std::string_view(reinterpret_cast<const char*>(md.data()), len)));
    // The oct key's public-style thumbprint would be over {"k":..,"kty":"oct"}: not used.
    BOOST_TEST(key->fingerprint.size() == 64u);
}

BOOST_AUTO_TEST_CASE(error_category_messages) {
    const auto& cat = jwtgate::core::jwk_category();
    BOOST_TEST(std::string(cat.name()) == "jwtgate.jwk");
    std::set<std::string> messages;
    for (int e = static_cast<int>(jwk_errc::not_an_object);
         e <= static_cast<int>(jwk_errc::openssl_failure); ++e) {
        const std::string m = cat.message(e);
        BOOST_TEST(!m.empty());
        BOOST_TEST(messages.insert(m).second, m);
    }
}

BOOST_AUTO_TEST_SUITE_END()
