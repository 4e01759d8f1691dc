// Tests for JWS signature verification: RFC 7515 A.2-A.4, RFC 8037 A.4, RFC 7520 4.1-4.4,
// tampering, ECDSA range/length rules (RFC 7518 3.4), algorithm confusion, fresh keys.
#include "core/crypto.hpp"

#include "core/jwk.hpp"
#include "key_fixtures.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <atomic>
#include <map>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace bdata = boost::unit_test::data;
using jwtgate::core::jwk;
using jwtgate::core::jws_alg;
using jwtgate::core::verify_signature;
using namespace jwtgate::test;

namespace {

constexpr std::array<jws_alg, 13> all_algs{
    jws_alg::RS256, jws_alg::RS384, jws_alg::RS512, jws_alg::PS256, jws_alg::PS384,
    jws_alg::PS512, jws_alg::ES256, jws_alg::ES384, jws_alg::ES512, jws_alg::EdDSA,
    jws_alg::HS256, jws_alg::HS384, jws_alg::HS512};

std::string decode(std::string_view b64url) {
    auto d = jwtgate::core::base64url_decode(b64url);
    BOOST_REQUIRE(d.has_value());
    return *d;
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    BOOST_REQUIRE(HMAC(md, key.data(), static_cast<int>(key.size()),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                       &len) != nullptr);
    return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string flip_bit(std::string s, std::size_t bit) {
    s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
    return s;
}

// Signature test vectors: the public JWK, the signing input as sent and the
// base64url signature, transcribed from the RFCs (checked independently with PyJWT).
struct rfc_vector {
    const char* name;
    jws_alg alg;
    std::string_view jwk;
    std::string_view input;
    std::string_view signature;
};
std::ostream& operator<<(std::ostream& os, const rfc_vector& v) {
    return os << v.name;
}

const rfc_vector rfc_vectors[] = {
    {"rfc7515_a2_rs256", jws_alg::RS256,
     R"({"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-V)"
     R"(aw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9w)"
     R"(Gzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMT)"
     R"(BQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kz)"
     R"(k2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"})",
     "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtc"
     "GxlLmNvbS9pc19yb290Ijp0cnVlfQ",
     "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O"
     "8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARN"
     "PvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ"
     "1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"},
    {"rfc7515_a3_es256", jws_alg::ES256,
     R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_F)"
     R"(EzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})",
     "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtc"
     "GxlLmNvbS9pc19yb290Ijp0cnVlfQ",
     "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"},
    {"rfc7515_a4_es512", jws_alg::ES512,
     R"({"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOn)"
     R"(YG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l)"
     R"(2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"})",
     "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA",
     "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7X"
     "dtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLze"
     "O_Jn"},
    {"rfc8037_a4_eddsa", jws_alg::EdDSA,
     R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
     "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
     "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"},
    {"rfc7520_4_1_rs256", jws_alg::RS256,
     R"({"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"n4EPtAOCc9AlkeQ)"
     R"(HPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMR)"
     R"(BSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-O)"
     R"(fVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L)"
     R"(_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQ)"
     R"(AB"})",
     "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.SXTigJlzIGEgZ"
     "GFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGU"
     "gcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlc"
     "mUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4",
     "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp"
     "83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCr"
     "UCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aX"
     "ic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg"},
    {"rfc7520_4_2_ps384", jws_alg::PS384,
     R"({"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"n4EPtAOCc9AlkeQ)"
     R"(HPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMR)"
     R"(BSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-O)"
     R"(fVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L)"
     R"(_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQ)"
     R"(AB"})",
     "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.SXTigJlzIGEgZ"
     "GFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGU"
     "gcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlc"
     "mUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4",
     "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCd"
     "P6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442Z"
     "dNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1"
     "aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw"},
    {"rfc7520_4_3_es512", jws_alg::ES512,
     R"({"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521","x":"AH)"
     R"(KZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0)"
     R"(Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9)"
     R"(cwlGfP-HqHZR1"})",
     "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.SXTigJlzIGEgZ"
     "GFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGU"
     "gcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlc"
     "mUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4",
     "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1"
     "eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu"
     "9xQ2"},
    {"rfc7520_4_4_hs256", jws_alg::HS256,
     R"({"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256",)"
     R"("k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"})",
     "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9.SXTig"
     "JlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb25"
     "0byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpb"
     "mcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4",
     "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0"},
};

std::shared_ptr<const jwk> key_of(const rfc_vector& v) {
    return load_jwk(v.jwk, true);
}

} // namespace

BOOST_AUTO_TEST_SUITE(crypto)

BOOST_DATA_TEST_CASE(rfc_vector_verifies, bdata::make(rfc_vectors), v) {
    const auto key = key_of(v);
    BOOST_TEST(verify_signature(v.alg, *key, v.input, decode(v.signature)));
}

BOOST_DATA_TEST_CASE(rfc_vector_every_signature_bit_flip_fails, bdata::make(rfc_vectors), v) {
    const auto key = key_of(v);
    const std::string sig = decode(v.signature);
    for (std::size_t bit = 0; bit < sig.size() * 8; ++bit) {
        BOOST_TEST(!verify_signature(v.alg, *key, v.input, flip_bit(sig, bit)), "bit " << bit);
    }
}

BOOST_DATA_TEST_CASE(rfc_vector_changed_signing_input_fails, bdata::make(rfc_vectors), v) {
    const auto key = key_of(v);
    const std::string sig = decode(v.signature);
    const std::string input(v.input);
    // Every bit of the first and last bytes, and of the byte after the '.'.
    const std::size_t dot = input.find('.');
    for (std::size_t byte : {std::size_t{0}, dot, dot + 1, input.size() / 2, input.size() - 1}) {
        for (std::size_t b = 0; b < 8; ++b) {
            BOOST_TEST(!verify_signature(v.alg, *key, flip_bit(input, byte * 8 + b), sig),
                       "byte " << byte << " bit " << b);
        }
    }
    BOOST_TEST(!verify_signature(v.alg, *key, input.substr(0, input.size() - 1), sig));
    BOOST_TEST(!verify_signature(v.alg, *key, input + "A", sig));
    BOOST_TEST(!verify_signature(v.alg, *key, "", sig));
}

BOOST_DATA_TEST_CASE(rfc_vector_fails_under_every_other_algorithm, bdata::make(rfc_vectors), v) {
    const auto key = key_of(v);
    const std::string sig = decode(v.signature);
    for (jws_alg other : all_algs) {
        if (other != v.alg) {
            BOOST_TEST(!verify_signature(other, *key, v.input, sig), to_string(other));
        }
    }
}

BOOST_DATA_TEST_CASE(rfc_vector_rejects_empty_and_resized_signatures, bdata::make(rfc_vectors), v) {
    const auto key = key_of(v);
    const std::string sig = decode(v.signature);
    BOOST_TEST(!verify_signature(v.alg, *key, v.input, ""));
    BOOST_TEST(!verify_signature(v.alg, *key, v.input, sig.substr(0, sig.size() - 1)));
    BOOST_TEST(!verify_signature(v.alg, *key, v.input, sig + '\0'));
    BOOST_TEST(!verify_signature(v.alg, *key, v.input, std::string(1, '\0') + sig));
    BOOST_TEST(!verify_signature(v.alg, *key, v.input, sig + sig));
}

// ECDSA: R||S of exactly twice the curve size, R and S in [1, n-1] (RFC 7518 3.4).
namespace {

struct ecdsa_case {
    const char* name;
    std::string (*mutate)(const std::string& sig, const std::string& n);
};
std::ostream& operator<<(std::ostream& os, const ecdsa_case& c) {
    return os << c.name;
}

std::string half(const std::string& s, bool second) {
    return second ? s.substr(s.size() / 2) : s.substr(0, s.size() / 2);
}

const ecdsa_case ecdsa_cases[] = {
    {"r_zero", [](const std::string& s,
                  const std::string&) { return std::string(s.size() / 2, '\0') + half(s, true); }},
    {"s_zero", [](const std::string& s,
                  const std::string&) { return half(s, false) + std::string(s.size() / 2, '\0'); }},
    {"both_zero",
     [](const std::string& s, const std::string&) { return std::string(s.size(), '\0'); }},
    {"r_equals_n", [](const std::string& s, const std::string& n) { return n + half(s, true); }},
    {"s_equals_n", [](const std::string& s, const std::string& n) { return half(s, false) + n; }},
    {"r_all_ones",
     [](const std::string& s, const std::string&) {
         return std::string(s.size() / 2, '\xff') + half(s, true);
     }},
    {"s_all_ones",
     [](const std::string& s, const std::string&) {
         return half(s, false) + std::string(s.size() / 2, '\xff');
     }},
    {"r_plus_n",
     [](const std::string& s, const std::string& n) {
         // R + n still fits the field size for these curves' small R values only when
         // it does not overflow; when it does, the all-ones case above covers it.
         bn_ptr r = bytes_bn(half(s, false));
         bn_ptr nn = bytes_bn(n);
         BN_add(r.get(), r.get(), nn.get());
         if (static_cast<std::size_t>(BN_num_bytes(r.get())) > n.size()) {
             return std::string(s.size() / 2, '\xff') + half(s, true);
         }
         return bn_bytes(r.get(), n.size()) + half(s, true);
     }},
    {"one_byte_short",
     [](const std::string& s, const std::string&) { return s.substr(0, s.size() - 1); }},
    {"one_byte_long", [](const std::string& s, const std::string&) { return s + '\x01'; }},
    {"leading_zero_byte",
     [](const std::string& s, const std::string&) { return std::string(1, '\0') + s; }},
    {"der_encoded", [](const std::string& s, const std::string&) { return raw_to_der(s); }},
    {"swapped_r_s",
     [](const std::string& s, const std::string&) { return half(s, true) + half(s, false); }},
};

struct ecdsa_vector {
    const char* name;
    std::size_t index; // into rfc_vectors
    std::size_t size;
};
std::ostream& operator<<(std::ostream& os, const ecdsa_vector& v) {
    return os << v.name;
}
const ecdsa_vector ecdsa_vectors[] = {
    {"rfc7515_a3_es256", 1, 32},
    {"rfc7515_a4_es512", 2, 66},
    {"rfc7520_4_3_es512", 6, 66},
};

} // namespace

BOOST_DATA_TEST_CASE(ecdsa_malformed_signatures_rejected,
                     bdata::make(ecdsa_vectors) * bdata::make(ecdsa_cases), v, c) {
    const rfc_vector& rv = rfc_vectors[v.index];
    BOOST_REQUIRE(std::string_view(rv.name) == v.name);
    const auto key = key_of(rv);
    const std::string sig = decode(rv.signature);
    const std::string n = ec_order(key->pkey.get(), v.size);
    BOOST_REQUIRE(verify_signature(rv.alg, *key, rv.input, sig));
    BOOST_TEST(!verify_signature(rv.alg, *key, rv.input, c.mutate(sig, n)));
}

BOOST_DATA_TEST_CASE(ecdsa_high_s_is_in_range_and_verifies, bdata::make(ecdsa_vectors), v) {
    // (R, n - S) is the other valid ECDSA signature of the same message. It sits near the
    // top of [1, n-1], so accepting it shows the range check is not off by one at n.
    const rfc_vector& rv = rfc_vectors[v.index];
    const auto key = key_of(rv);
    const std::string sig = decode(rv.signature);
    bn_ptr n = bytes_bn(ec_order(key->pkey.get(), v.size));
    bn_ptr s = bytes_bn(half(sig, true));
    BOOST_REQUIRE(BN_sub(s.get(), n.get(), s.get()) == 1);
    const std::string other = half(sig, false) + bn_bytes(s.get(), v.size);
    BOOST_TEST(other != sig);
    BOOST_TEST(verify_signature(rv.alg, *key, rv.input, other));
}

// Algorithm confusion: a key never serves an algorithm of another family or curve.
BOOST_AUTO_TEST_CASE(rsa_public_key_bytes_as_hmac_secret_fail) {
    const auto rsa = key_of(rfc_vectors[0]);
    const std::string input = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhdHRhY2tlciJ9";
    unsigned char* der = nullptr;
    const int der_len = i2d_PUBKEY(rsa->pkey.get(), &der);
    BOOST_REQUIRE(der_len > 0);
    const std::string spki(reinterpret_cast<const char*>(der), static_cast<std::size_t>(der_len));
    OPENSSL_free(der);
    const std::string modulus = bn_param(rsa->pkey.get(), OSSL_PKEY_PARAM_RSA_N);
    const std::string secrets[] = {spki, modulus, std::string(rfc_vectors[0].jwk)};
    for (const auto& secret : secrets) {
        const std::string mac = hmac(EVP_sha256(), secret, input);
        // The forged MAC is genuine under an oct key with those bytes...
        BOOST_TEST(verify_signature(jws_alg::HS256, *oct_key(secret), input, mac));
        // ...and worthless against the RSA key, whatever the algorithm.
        for (jws_alg a : all_algs) {
            BOOST_TEST(!verify_signature(a, *rsa, input, mac), to_string(a));
        }
    }
}

BOOST_AUTO_TEST_CASE(ec_p256_key_never_serves_es384_or_es512) {
    auto pkey = gen_ec("P-256");
    const auto key = load_jwk(public_jwk(pkey.get()));
    const std::string input = "eyJhbGciOiJFUzM4NCJ9.e30";
    // A genuine P-256 signature over a SHA-384 digest: only the alg/curve rule refuses it.
    const std::string sig384 = der_to_raw(sign(pkey.get(), EVP_sha384(), input), 32);
    BOOST_TEST(!verify_signature(jws_alg::ES384, *key, input, sig384));
    const std::string sig512 = der_to_raw(sign(pkey.get(), EVP_sha512(), input), 32);
    BOOST_TEST(!verify_signature(jws_alg::ES512, *key, input, sig512));
    const std::string sig256 = der_to_raw(sign(pkey.get(), EVP_sha256(), input), 32);
    BOOST_TEST(verify_signature(jws_alg::ES256, *key, input, sig256));
}

BOOST_AUTO_TEST_CASE(ec_p384_key_never_serves_es256) {
    auto pkey = gen_ec("P-384");
    const auto key = load_jwk(public_jwk(pkey.get()));
    const std::string input = "eyJhbGciOiJFUzI1NiJ9.e30";
    const std::string sig = der_to_raw(sign(pkey.get(), EVP_sha256(), input), 48);
    BOOST_TEST(!verify_signature(jws_alg::ES256, *key, input, sig));
    BOOST_TEST(!verify_signature(jws_alg::ES384, *key, input, sig)); // wrong digest
}

BOOST_AUTO_TEST_CASE(oct_key_never_serves_rsa_algorithms) {
    auto pkey = gen_rsa(2048);
    const std::string input = "eyJhbGciOiJSUzI1NiJ9.e30";
    const std::string sig = sign(pkey.get(), EVP_sha256(), input);
    BOOST_TEST(verify_signature(jws_alg::RS256, *load_jwk(public_jwk(pkey.get())), input, sig));
    // An oct key whose bytes are the RSA modulus, and one that is the signature itself.
    const std::string modulus = bn_param(pkey.get(), OSSL_PKEY_PARAM_RSA_N);
    for (const auto& secret : {modulus, sig}) {
        const auto oct = oct_key(secret);
        for (jws_alg a : {jws_alg::RS256, jws_alg::PS256, jws_alg::ES256, jws_alg::EdDSA}) {
            BOOST_TEST(!verify_signature(a, *oct, input, sig), to_string(a));
        }
    }
}

BOOST_AUTO_TEST_CASE(ed25519_key_never_serves_ecdsa) {
    const auto key = key_of(rfc_vectors[3]);
    const std::string sig = decode(rfc_vectors[3].signature);
    for (jws_alg a : {jws_alg::ES256, jws_alg::ES512, jws_alg::RS256, jws_alg::HS256}) {
        BOOST_TEST(!verify_signature(a, *key, rfc_vectors[3].input, sig), to_string(a));
    }
    // A 64-byte P-256 signature is also refused under EdDSA with a P-256 key.
    auto ec = gen_ec("P-256");
    const auto ec_key = load_jwk(public_jwk(ec.get()));
    const std::string input = "eyJhbGciOiJFZERTQSJ9.e30";
    const std::string ec_sig = der_to_raw(sign(ec.get(), EVP_sha256(), input), 32);
    BOOST_TEST(ec_sig.size() == 64u);
    BOOST_TEST(!verify_signature(jws_alg::EdDSA, *ec_key, input, ec_sig));
}

BOOST_AUTO_TEST_CASE(jwk_alg_restricts_the_key_to_that_algorithm) {
    auto pkey = gen_rsa(2048);
    auto obj = public_jwk(pkey.get());
    obj["alg"] = "RS256";
    const auto restricted = load_jwk(obj);
    const auto open = load_jwk(public_jwk(pkey.get()));
    const std::string input = "eyJhbGciOiJQUzI1NiJ9.e30";
    const std::string pss = sign(pkey.get(), EVP_sha256(), input, RSA_PSS_SALTLEN_DIGEST);
    const std::string pkcs1 = sign(pkey.get(), EVP_sha256(), input);
    BOOST_TEST(verify_signature(jws_alg::PS256, *open, input, pss));
    BOOST_TEST(!verify_signature(jws_alg::PS256, *restricted, input, pss));
    BOOST_TEST(verify_signature(jws_alg::RS256, *restricted, input, pkcs1));
}

// RFC 7518 3.5: PSS with MGF1 over the same hash and a salt as long as the hash.
BOOST_AUTO_TEST_CASE(pss_salt_length_must_equal_hash_length) {
    auto pkey = gen_rsa(2048);
    const auto key = load_jwk(public_jwk(pkey.get()));
    const std::string input = "eyJhbGciOiJQUzI1NiJ9.e30";
    BOOST_TEST(
        verify_signature(jws_alg::PS256, *key, input, sign(pkey.get(), EVP_sha256(), input, 32)));
    BOOST_TEST(
        !verify_signature(jws_alg::PS256, *key, input, sign(pkey.get(), EVP_sha256(), input, 0)));
    BOOST_TEST(
        !verify_signature(jws_alg::PS256, *key, input, sign(pkey.get(), EVP_sha256(), input, 20)));
    BOOST_TEST(!verify_signature(jws_alg::PS256, *key, input,
                                 sign(pkey.get(), EVP_sha256(), input, RSA_PSS_SALTLEN_MAX)));
    // PKCS#1 v1.5 and PSS never stand in for each other.
    BOOST_TEST(
        !verify_signature(jws_alg::RS256, *key, input, sign(pkey.get(), EVP_sha256(), input, 32)));
    BOOST_TEST(
        !verify_signature(jws_alg::PS256, *key, input, sign(pkey.get(), EVP_sha256(), input)));
}

BOOST_AUTO_TEST_CASE(hmac_rules) {
    const std::string secret(32, 'k');
    const auto key = oct_key(secret);
    const std::string input = "eyJhbGciOiJIUzI1NiJ9.e30";
    const std::string mac256 = hmac(EVP_sha256(), secret, input);
    BOOST_TEST(verify_signature(jws_alg::HS256, *key, input, mac256));
    BOOST_TEST(!verify_signature(jws_alg::HS256, *key, input, mac256.substr(0, 16))); // truncated
    BOOST_TEST(!verify_signature(jws_alg::HS256, *key, input, ""));
    BOOST_TEST(!verify_signature(jws_alg::HS384, *key, input, mac256));
    BOOST_TEST(!verify_signature(jws_alg::HS256, *oct_key(std::string(32, 'K')), input, mac256));
    BOOST_TEST(!verify_signature(jws_alg::HS256, *oct_key(secret + 'k'), input, mac256));
    const std::string mac512 = hmac(EVP_sha512(), secret, input);
    BOOST_TEST(!verify_signature(jws_alg::HS256, *key, input, mac512.substr(0, 32)));
    BOOST_TEST(verify_signature(jws_alg::HS512, *key, input, mac512));
}

// Fresh keys at every size, signed by OpenSSL, verified by jwtgate.
namespace {

enum class kind { rsa, pss, ec, ed25519, hmac };

struct generated_case {
    const char* name;
    jws_alg alg;
    kind k;
    unsigned bits; // RSA modulus, EC/hash size
};
std::ostream& operator<<(std::ostream& os, const generated_case& c) {
    return os << c.name;
}

const generated_case generated_cases[] = {
    {"rs256_2048", jws_alg::RS256, kind::rsa, 2048},
    {"rs384_3072", jws_alg::RS384, kind::rsa, 3072},
    {"rs512_2048", jws_alg::RS512, kind::rsa, 2048},
    {"ps256_2048", jws_alg::PS256, kind::pss, 2048},
    {"ps384_2048", jws_alg::PS384, kind::pss, 2048},
    {"ps512_3072", jws_alg::PS512, kind::pss, 3072},
    {"es256", jws_alg::ES256, kind::ec, 256},
    {"es384", jws_alg::ES384, kind::ec, 384},
    {"es512", jws_alg::ES512, kind::ec, 521},
    {"eddsa", jws_alg::EdDSA, kind::ed25519, 0},
    {"hs256", jws_alg::HS256, kind::hmac, 256},
    {"hs384", jws_alg::HS384, kind::hmac, 384},
    {"hs512", jws_alg::HS512, kind::hmac, 512},
};

int hash_bits(jws_alg a) {
    switch (a) {
    case jws_alg::RS384:
    case jws_alg::PS384:
    case jws_alg::ES384:
    case jws_alg::HS384: return 384;
    case jws_alg::RS512:
    case jws_alg::PS512:
    case jws_alg::ES512:
    case jws_alg::HS512: return 512;
    default: return 256;
    }
}

struct signer {
    evp_pkey_ptr pkey;
    std::string secret;
    std::shared_ptr<const jwk> key;

    std::string sign_input(const generated_case& c, std::string_view input) const {
        const EVP_MD* md = md_by_bits(hash_bits(c.alg));
        switch (c.k) {
        case kind::rsa: return sign(pkey.get(), md, input);
        case kind::pss: return sign(pkey.get(), md, input, EVP_MD_get_size(md));
        case kind::ec: return der_to_raw(sign(pkey.get(), md, input), (c.bits + 7) / 8);
        case kind::ed25519: return sign(pkey.get(), nullptr, input);
        case kind::hmac: return hmac(md, secret, input);
        }
        return {};
    }
};

// RSA key generation dominates the run time: each (size, slot) pair is made once.
evp_pkey_ptr shared_rsa(unsigned bits, int slot) {
    static std::map<std::pair<unsigned, int>, evp_pkey_ptr> cache;
    auto& k = cache[{bits, slot}];
    if (!k) {
        k = gen_rsa(bits);
    }
    BOOST_REQUIRE(EVP_PKEY_up_ref(k.get()) == 1);
    return evp_pkey_ptr(k.get());
}

signer make_signer(const generated_case& c, int slot) {
    signer s;
    switch (c.k) {
    case kind::rsa:
    case kind::pss: s.pkey = shared_rsa(c.bits, slot); break;
    case kind::ec:
        s.pkey = gen_ec(c.bits == 256 ? "P-256" : c.bits == 384 ? "P-384" : "P-521");
        break;
    case kind::ed25519: s.pkey = gen_ed25519(); break;
    case kind::hmac:
        s.secret.resize(c.bits / 8);
        BOOST_REQUIRE(RAND_bytes(reinterpret_cast<unsigned char*>(s.secret.data()),
                                 static_cast<int>(s.secret.size())) == 1);
        s.key = oct_key(s.secret);
        return s;
    }
    s.key = load_jwk(public_jwk(s.pkey.get()));
    return s;
}

} // namespace

BOOST_DATA_TEST_CASE(generated_key_round_trip, bdata::make(generated_cases), c) {
    const signer s = make_signer(c, 0);
    const signer other = make_signer(c, 1);
    for (std::string input : {"e30.e30", "eyJhbGciOiJub25lIn0.", "x"}) {
        const std::string sig = s.sign_input(c, input);
        BOOST_TEST(verify_signature(c.alg, *s.key, input, sig), input);
        BOOST_TEST(!verify_signature(c.alg, *other.key, input, sig), input);
        BOOST_TEST(!verify_signature(c.alg, *s.key, input + ".", sig), input);
        for (std::size_t bit : {std::size_t{0}, sig.size() * 4 + 3, sig.size() * 8 - 1}) {
            BOOST_TEST(!verify_signature(c.alg, *s.key, input, flip_bit(sig, bit)), bit);
        }
        for (jws_alg a : all_algs) {
            if (a != c.alg) {
                BOOST_TEST(!verify_signature(a, *s.key, input, sig), to_string(a));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(many_ecdsa_signatures_verify) {
    // ECDSA R and S vary in length: some have leading zero bytes, some a high bit set.
    // Signing until both occurred exercises both branches of the DER re-encoding.
    for (const char* curve : {"P-256", "P-384", "P-521"}) {
        auto pkey = gen_ec(curve);
        const auto key = load_jwk(public_jwk(pkey.get()));
        const int bits = EVP_PKEY_get_bits(pkey.get());
        const jws_alg alg = bits == 256   ? jws_alg::ES256
                            : bits == 384 ? jws_alg::ES384
                                          : jws_alg::ES512;
        const auto size = static_cast<std::size_t>((bits + 7) / 8);
        bool saw_leading_zero = false;
        bool saw_high_bit = false;
        // A zero top byte has probability 1/256 per half: 5000 rounds miss it with
        // probability under 1e-17.
        for (int i = 0; i < 5000 && (i < 50 || !saw_leading_zero || !saw_high_bit); ++i) {
            const std::string input = "e30." + std::to_string(i);
            const std::string sig =
                der_to_raw(sign(pkey.get(), md_by_bits(hash_bits(alg)), input), size);
            saw_leading_zero = saw_leading_zero || sig[0] == '\0' || sig[size] == '\0';
            saw_high_bit =
                saw_high_bit || bits == 521 || (static_cast<unsigned char>(sig[0]) & 0x80) != 0;
            BOOST_TEST(verify_signature(alg, *key, input, sig), curve << " #" << i);
        }
        BOOST_TEST(saw_leading_zero, curve);
        BOOST_TEST(saw_high_bit, curve); // (P-521's top byte is 0 or 1: not applicable)
    }
}

namespace {

// A copy of `k` without prepared contexts: verification initialises its own each time.
std::shared_ptr<const jwk> unprepared(const jwk& k) {
    auto bare = std::make_shared<jwk>();
    bare->kid = k.kid;
    bare->kty = k.kty;
    bare->curve = k.curve;
    bare->alg = k.alg;
    BOOST_REQUIRE(EVP_PKEY_up_ref(k.pkey.get()) == 1);
    bare->pkey = evp_pkey_ptr(k.pkey.get());
    bare->fingerprint = k.fingerprint;
    bare->rsa_bits = k.rsa_bits;
    return bare;
}

std::vector<jws_alg> prepared_algs(const jwk& k) {
    std::vector<jws_alg> out;
    for (jws_alg a : all_algs) {
        if (k.prepared[static_cast<std::size_t>(a)]) {
            out.push_back(a);
        }
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(prepared_contexts_cover_exactly_the_served_algorithms) {
    auto rsa = shared_rsa(2048, 0);
    const auto any_rsa = load_jwk(public_jwk(rsa.get()));
    const std::vector<jws_alg> rsa_algs{jws_alg::RS256, jws_alg::RS384, jws_alg::RS512,
                                        jws_alg::PS256, jws_alg::PS384, jws_alg::PS512};
    BOOST_TEST((prepared_algs(*any_rsa) == rsa_algs));

    auto o = public_jwk(rsa.get());
    o["alg"] = "PS384";
    const auto ps384_only = load_jwk(o);
    BOOST_TEST((prepared_algs(*ps384_only) == std::vector<jws_alg>{jws_alg::PS384}));

    auto p384 = gen_ec("P-384");
    BOOST_TEST(
        (prepared_algs(*load_jwk(public_jwk(p384.get()))) == std::vector<jws_alg>{jws_alg::ES384}));
    auto ed = gen_ed25519();
    BOOST_TEST(prepared_algs(*load_jwk(public_jwk(ed.get()))).empty());
    BOOST_TEST(prepared_algs(*oct_key(std::string(32, 'k'))).empty());
}

BOOST_DATA_TEST_CASE(prepared_and_fresh_contexts_agree, bdata::make(generated_cases), c) {
    if (c.k == kind::hmac || c.k == kind::ed25519) {
        return; // no prepared contexts for these
    }
    const signer s = make_signer(c, 0);
    const auto bare = unprepared(*s.key);
    BOOST_TEST(!prepared_algs(*s.key).empty());
    for (std::string input : {"e30.e30", "x"}) {
        const std::string sig = s.sign_input(c, input);
        for (jws_alg a : all_algs) {
            for (const std::string& candidate : {sig, flip_bit(sig, 5)}) {
                BOOST_TEST(verify_signature(a, *s.key, input, candidate) ==
                               verify_signature(a, *bare, input, candidate),
                           to_string(a));
            }
        }
        BOOST_TEST(verify_signature(c.alg, *s.key, input, sig));
        BOOST_TEST(verify_signature(c.alg, *bare, input, sig));
    }
}

BOOST_AUTO_TEST_CASE(concurrent_verifications_share_prepared_contexts) {
    // Every worker thread verifies with the same key object, so its prepared contexts are
    // copied concurrently: each result must still be exact.
    const generated_case c{"ps256_2048", jws_alg::PS256, kind::pss, 2048};
    const signer s = make_signer(c, 0);
    std::vector<std::string> inputs, sigs;
    for (int i = 0; i < 16; ++i) {
        inputs.push_back("e30." + std::to_string(i));
        sigs.push_back(s.sign_input(c, inputs.back()));
    }
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 50; ++round) {
                for (std::size_t i = 0; i < inputs.size(); ++i) {
                    const auto& other = sigs[(i + 1 + static_cast<std::size_t>(t)) % sigs.size()];
                    if (!verify_signature(c.alg, *s.key, inputs[i], sigs[i]) ||
                        verify_signature(c.alg, *s.key, inputs[i], other)) {
                        ++wrong;
                    }
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
