// One JWK -> usable verification key via EVP_PKEY_fromdata (RFC 7517 4, 7518 6, 8037 2).
#include "core/jwk.hpp"

#include "core/base64url.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <array>
#include <string>

namespace jwtgate::core {

void evp_pkey_deleter::operator()(EVP_PKEY* p) const noexcept {
    EVP_PKEY_free(p);
}

void evp_md_ctx_deleter::operator()(EVP_MD_CTX* p) const noexcept {
    EVP_MD_CTX_free(p);
}

bool jwk::serves(jws_alg a) const noexcept {
    if (key_type_of(a) != kty || (alg && *alg != a)) {
        return false;
    }
    switch (a) {
    case jws_alg::ES256: return curve == key_curve::p256;
    case jws_alg::ES384: return curve == key_curve::p384;
    case jws_alg::ES512: return curve == key_curve::p521;
    case jws_alg::EdDSA: return curve == key_curve::ed25519;
    default: return true;
    }
}

namespace {

class jwk_category_impl final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "jwtgate.jwk"; }
    std::string message(int ev) const override {
        switch (static_cast<jwk_errc>(ev)) {
        case jwk_errc::ok: return "ok";
        case jwk_errc::not_an_object: return "key is not a JSON object";
        case jwk_errc::missing_kty: return "missing \"kty\"";
        case jwk_errc::unsupported_kty: return "unsupported \"kty\"";
        case jwk_errc::not_for_signing: return "key is not for signature verification";
        case jwk_errc::unknown_alg: return "unknown \"alg\"";
        case jwk_errc::alg_kty_mismatch: return "\"alg\" does not fit the key type or curve";
        case jwk_errc::bad_member: return "missing or malformed key member";
        case jwk_errc::rsa_too_small: return "RSA modulus under 2048 bits";
        case jwk_errc::rsa_bad_exponent: return "RSA exponent not odd, under 3 or too large";
        case jwk_errc::rsa_too_large: return "RSA modulus over 16384 bits";
        case jwk_errc::unsupported_curve: return "unsupported curve";
        case jwk_errc::point_not_on_curve: return "public point is not on the curve";
        case jwk_errc::private_key: return "key contains private members";
        case jwk_errc::oct_not_allowed: return "symmetric keys are not allowed here";
        case jwk_errc::openssl_failure: return "OpenSSL failure";
        }
        return "unknown JWK error";
    }
};

struct bn_deleter {
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct param_bld_deleter {
    void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct param_deleter {
    void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct pkey_ctx_deleter {
    void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_deleter>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, param_bld_deleter>;
using param_ptr = std::unique_ptr<OSSL_PARAM, param_deleter>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_deleter>;

const unsigned char* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

constexpr std::size_t min_rsa_bits = 2048;
constexpr std::size_t max_rsa_bits = 16384;
constexpr std::size_t max_rsa_exponent_bytes = 8;

// Members that only a private key has (RFC 7518 6.2.2, 6.3.2; RFC 8037 2).
constexpr std::array<std::string_view, 7> private_members{"d", "p", "q", "dp", "dq", "qi", "oth"};

// A member that, when present, must be a string. nullptr when absent.
result<const boost::json::string*> optional_string(const boost::json::object& obj,
                                                   std::string_view name) {
    const auto* v = obj.if_contains(name);
    if (v == nullptr) {
        return static_cast<const boost::json::string*>(nullptr);
    }
    if (const auto* s = v->if_string()) {
        return s;
    }
    return jwk_errc::bad_member;
}

// A required, non-empty base64url member (RFC 7518 2 "Base64urlUInt" and octet strings).
result<std::string> required_bytes(const boost::json::object& obj, std::string_view name) {
    const auto s = optional_string(obj, name);
    if (!s || *s == nullptr) {
        return jwk_errc::bad_member;
    }
    auto decoded = base64url_decode(**s);
    if (!decoded || decoded->empty()) {
        return jwk_errc::bad_member;
    }
    return std::move(*decoded);
}

std::string_view strip_leading_zeros(std::string_view v) noexcept {
    while (!v.empty() && v.front() == '\0') {
        v.remove_prefix(1);
    }
    return v;
}

std::string hex_sha256(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    std::size_t md_len = 0;
    if (EVP_Q_digest(nullptr, "SHA256", nullptr, data.data(), data.size(), md.data(), &md_len) !=
        1) {
        return {};
    }
    static constexpr std::string_view hex = "0123456789abcdef";
    std::string out;
    out.reserve(md_len * 2);
    for (std::size_t i = 0; i < md_len; ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 0x0F]);
    }
    return out;
}

// Imports public key parameters into a new EVP_PKEY of `type` ("RSA", "EC", "ED25519").
result<evp_pkey_ptr> from_params(const char* type, OSSL_PARAM_BLD* bld) {
    param_ptr params(OSSL_PARAM_BLD_to_param(bld));
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
        return jwk_errc::openssl_failure;
    }
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return jwk_errc::openssl_failure;
    }
    return evp_pkey_ptr(raw);
}

// RFC 7518 6.3.1: "n" and "e" as big-endian unsigned integers.
jwk_errc parse_rsa(const boost::json::object& obj, jwk& key) {
    auto n_raw = required_bytes(obj, "n");
    auto e_raw = required_bytes(obj, "e");
    if (!n_raw || !e_raw) {
        return jwk_errc::bad_member;
    }
    // RFC 7518 forbids leading zeros, but some issuers emit them: tolerate, then count
    // the modulus size from its first significant bit.
    const std::string_view n = strip_leading_zeros(*n_raw);
    const std::string_view e = strip_leading_zeros(*e_raw);
    if (n.empty()) {
        return jwk_errc::bad_member;
    }
    if (n.size() > max_rsa_bits / 8) {
        return jwk_errc::rsa_too_large;
    }
    std::size_t bits = n.size() * 8;
    for (unsigned top = static_cast<unsigned char>(n.front()); (top & 0x80U) == 0; top <<= 1) {
        --bits;
    }
    key.rsa_bits = bits;
    if (bits < min_rsa_bits) {
        return jwk_errc::rsa_too_small;
    }
    if ((static_cast<unsigned char>(n.back()) & 1) == 0) {
        return jwk_errc::bad_member; // an even modulus is not an RSA modulus
    }
    const bool e_odd = !e.empty() && (static_cast<unsigned char>(e.back()) & 1) != 0;
    const bool e_is_one = e.size() == 1 && e.front() == '\x01';
    if (!e_odd || e_is_one || e.size() > max_rsa_exponent_bytes) {
        return jwk_errc::rsa_bad_exponent;
    }

    bn_ptr bn_n(BN_bin2bn(bytes(n), static_cast<int>(n.size()), nullptr));
    bn_ptr bn_e(BN_bin2bn(bytes(e), static_cast<int>(e.size()), nullptr));
    param_bld_ptr bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        return jwk_errc::openssl_failure;
    }
    auto pkey = from_params("RSA", bld.get());
    if (!pkey) {
        return jwk_errc::openssl_failure;
    }
    key.pkey = std::move(*pkey);
    // RFC 7638 3.2: required members in lexicographic order, no whitespace.
    key.fingerprint = hex_sha256(R"({"e":")" + base64url_encode(e) + R"(","kty":"RSA","n":")" +
                                 base64url_encode(n) + R"("})");
    return jwk_errc::ok;
}

struct curve_row {
    std::string_view crv;
    key_curve curve;
    const char* group; // OpenSSL group name
    std::size_t size;  // coordinate bytes
};
constexpr std::array<curve_row, 3> ec_curves{{
    {"P-256", key_curve::p256, "prime256v1", 32},
    {"P-384", key_curve::p384, "secp384r1", 48},
    {"P-521", key_curve::p521, "secp521r1", 66},
}};

// RFC 7518 6.2.1: "crv", and "x", "y" each exactly the field size.
jwk_errc parse_ec(const boost::json::object& obj, jwk& key) {
    const auto crv = optional_string(obj, "crv");
    if (!crv || *crv == nullptr) {
        return jwk_errc::bad_member;
    }
    const curve_row* row = nullptr;
    for (const auto& r : ec_curves) {
        if (r.crv == std::string_view(**crv)) {
            row = &r;
        }
    }
    if (row == nullptr) {
        return jwk_errc::unsupported_curve;
    }
    key.curve = row->curve;
    auto x = required_bytes(obj, "x");
    auto y = required_bytes(obj, "y");
    if (!x || !y || x->size() != row->size || y->size() != row->size) {
        return jwk_errc::bad_member;
    }
    std::string point;
    point.reserve(1 + 2 * row->size);
    point.push_back('\x04'); // SEC 1 2.3.3 uncompressed point
    point += *x;
    point += *y;

    param_bld_ptr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, row->group, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        return jwk_errc::openssl_failure;
    }
    // With the group and sizes checked, an import failure means the point was refused.
    auto pkey = from_params("EC", bld.get());
    if (!pkey) {
        return jwk_errc::point_not_on_curve;
    }
    // Full public-key validation (SP 800-56A 5.6.2.3.3): coordinates in range, on the
    // curve, not the point at infinity, in the prime-order subgroup.
    pkey_ctx_ptr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr));
    if (!check) {
        return jwk_errc::openssl_failure;
    }
    if (EVP_PKEY_public_check(check.get()) != 1) {
        return jwk_errc::point_not_on_curve;
    }
    key.pkey = std::move(*pkey);
    key.fingerprint =
        hex_sha256(R"({"crv":")" + std::string(row->crv) + R"(","kty":"EC","x":")" +
                   base64url_encode(*x) + R"(","y":")" + base64url_encode(*y) + R"("})");
    return jwk_errc::ok;
}

// RFC 8037 2: "crv" and "x"; only Ed25519 signs among the supported curves here.
jwk_errc parse_okp(const boost::json::object& obj, jwk& key) {
    const auto crv = optional_string(obj, "crv");
    if (!crv || *crv == nullptr) {
        return jwk_errc::bad_member;
    }
    if (std::string_view(**crv) != "Ed25519") {
        return jwk_errc::unsupported_curve; // Ed448, X25519, X448, anything else
    }
    key.curve = key_curve::ed25519;
    auto x = required_bytes(obj, "x");
    if (!x || x->size() != 32) {
        return jwk_errc::bad_member;
    }
    param_bld_ptr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(),
                                                 x->size()) != 1) {
        return jwk_errc::openssl_failure;
    }
    auto pkey = from_params("ED25519", bld.get());
    if (!pkey) {
        return jwk_errc::openssl_failure;
    }
    key.pkey = std::move(*pkey);
    key.fingerprint =
        hex_sha256(R"({"crv":"Ed25519","kty":"OKP","x":")" + base64url_encode(*x) + R"("})");
    return jwk_errc::ok;
}

// RFC 7518 6.4.1: "k", the raw secret. The fingerprint is domain-separated so it cannot
// be confused with a public key's thumbprint.
jwk_errc parse_oct(const boost::json::object& obj, jwk& key) {
    auto k = required_bytes(obj, "k");
    if (!k) {
        return jwk_errc::bad_member;
    }
    key.secret = std::move(*k);
    key.fingerprint = hex_sha256(std::string("jwtgate oct key\n") + key.secret);
    return jwk_errc::ok;
}

std::optional<key_type> parse_kty(std::string_view s) noexcept {
    for (key_type t : {key_type::rsa, key_type::ec, key_type::okp, key_type::oct}) {
        if (to_string(t) == s) {
            return t;
        }
    }
    return std::nullopt;
}

// RFC 7517 4.2 / 4.3: the key must be meant for verifying signatures.
jwk_errc check_usage(const boost::json::object& obj) {
    const auto use = optional_string(obj, "use");
    if (!use) {
        return jwk_errc::bad_member;
    }
    if (*use != nullptr && std::string_view(**use) != "sig") {
        return jwk_errc::not_for_signing;
    }
    const auto* ops = obj.if_contains("key_ops");
    if (ops == nullptr) {
        return jwk_errc::ok;
    }
    const auto* arr = ops->if_array();
    if (arr == nullptr) {
        return jwk_errc::bad_member;
    }
    bool verify = false;
    for (const auto& op : *arr) {
        const auto* s = op.if_string();
        if (s == nullptr) {
            return jwk_errc::bad_member;
        }
        verify = verify || *s == "verify";
    }
    return verify ? jwk_errc::ok : jwk_errc::not_for_signing;
}

// RFC 7517 4.4: "alg" restricts the key to one algorithm, which must fit the key.
jwk_errc parse_alg(const boost::json::object& obj, jwk& key) {
    const auto alg = optional_string(obj, "alg");
    if (!alg) {
        return jwk_errc::bad_member;
    }
    if (*alg == nullptr) {
        return jwk_errc::ok;
    }
    const auto a = parse_jws_alg(**alg);
    if (!a) {
        return jwk_errc::unknown_alg;
    }
    if (key_type_of(*a) != key.kty) {
        return jwk_errc::alg_kty_mismatch;
    }
    key.alg = *a;
    return jwk_errc::ok;
}

// Members common to every key type, checked before any key material is touched.
jwk_errc parse_common(const boost::json::object& obj, bool allow_oct, jwk& key) {
    const auto* kty_v = obj.if_contains("kty");
    if (kty_v == nullptr) {
        return jwk_errc::missing_kty;
    }
    const auto* kty_s = kty_v->if_string();
    if (kty_s == nullptr) {
        return jwk_errc::bad_member;
    }
    const auto kty = parse_kty(*kty_s);
    if (!kty) {
        return jwk_errc::unsupported_kty;
    }
    key.kty = *kty;
    if (key.kty == key_type::oct && !allow_oct) {
        return jwk_errc::oct_not_allowed;
    }
    for (auto m : private_members) {
        if (obj.contains(m)) {
            return jwk_errc::private_key;
        }
    }
    const auto kid = optional_string(obj, "kid");
    if (!kid) {
        return jwk_errc::bad_member;
    }
    if (*kid != nullptr) {
        key.kid = std::string(**kid);
    }
    if (const auto usage = check_usage(obj); usage != jwk_errc::ok) {
        return usage;
    }
    return parse_alg(obj, key);
}

jwk_errc parse_material(const boost::json::object& obj, jwk& key) {
    switch (key.kty) {
    case key_type::rsa: return parse_rsa(obj, key);
    case key_type::ec: return parse_ec(obj, key);
    case key_type::okp: return parse_okp(obj, key);
    case key_type::oct: return parse_oct(obj, key);
    }
    return jwk_errc::unsupported_kty;
}

} // namespace

const boost::system::error_category& jwk_category() noexcept {
    static const jwk_category_impl cat;
    return cat;
}

boost::system::error_code make_error_code(jwk_errc e) noexcept {
    return {static_cast<int>(e), jwk_category()};
}

result<std::shared_ptr<const jwk>> parse_jwk(const boost::json::object& obj, bool allow_oct) {
    auto key = std::make_shared<jwk>();
    if (const auto e = parse_common(obj, allow_oct, *key); e != jwk_errc::ok) {
        return e;
    }
    if (const auto e = parse_material(obj, *key); e != jwk_errc::ok) {
        return e;
    }
    // An EC key's own "alg" must also name its curve (ES256 on P-384 can never verify).
    if (key->alg && !key->serves(*key->alg)) {
        return jwk_errc::alg_kty_mismatch;
    }
    if (key->fingerprint.empty()) {
        return jwk_errc::openssl_failure;
    }
    prepare_verification(*key);
    return std::shared_ptr<const jwk>(std::move(key));
}

} // namespace jwtgate::core
