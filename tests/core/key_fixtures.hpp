// Test helpers for key tests: fresh OpenSSL keys, signing, and public JWK export.
#pragma once

#include "core/base64url.hpp"
#include "core/jwk.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace jwtgate::test {

using core::evp_pkey_ptr;

struct bn_free_deleter {
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_free_deleter>;

inline void require(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(std::string("test fixture failed: ") + what);
    }
}

inline evp_pkey_ptr gen_rsa(unsigned bits) {
    evp_pkey_ptr k(EVP_RSA_gen(bits));
    require(k != nullptr, "EVP_RSA_gen");
    return k;
}

// curve: "P-256", "P-384", "P-521"
inline evp_pkey_ptr gen_ec(const char* curve) {
    evp_pkey_ptr k(EVP_EC_gen(curve));
    require(k != nullptr, "EVP_EC_gen");
    return k;
}

inline evp_pkey_ptr gen_ed25519() {
    evp_pkey_ptr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    require(k != nullptr, "keygen ED25519");
    return k;
}

inline const EVP_MD* md_by_bits(int bits) {
    switch (bits) {
    case 256: return EVP_sha256();
    case 384: return EVP_sha384();
    default: return EVP_sha512();
    }
}

// Signs with EVP_DigestSign. `pss_salt` selects RSA-PSS with that salt length (MGF1 with
// the same hash). ECDSA output is DER, as OpenSSL produces it.
inline std::string sign(EVP_PKEY* key, const EVP_MD* md, std::string_view input,
                        std::optional<int> pss_salt = std::nullopt) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    require(EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) == 1, "DigestSignInit");
    if (pss_salt) {
        require(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1, "pss padding");
        require(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1, "mgf1");
        require(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, *pss_salt) == 1, "saltlen");
    }
    std::size_t len = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(input.data());
    require(EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) == 1, "sign size");
    std::string out(len, '\0');
    require(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, in,
                           input.size()) == 1,
            "sign");
    out.resize(len);
    return out;
}

inline std::string bn_bytes(const BIGNUM* bn, std::size_t pad = 0) {
    const std::size_t len = pad != 0 ? pad : static_cast<std::size_t>(BN_num_bytes(bn));
    std::string out(len, '\0');
    require(BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(len)) ==
                static_cast<int>(len),
            "bn2binpad");
    return out;
}

inline bn_ptr bytes_bn(std::string_view s) {
    bn_ptr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(s.data()),
                        static_cast<int>(s.size()), nullptr));
    require(bn != nullptr, "bin2bn");
    return bn;
}

// DER ECDSA-Sig-Value -> JWS R||S with each half `size` bytes (RFC 7518 3.4).
inline std::string der_to_raw(std::string_view der, std::size_t size) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), &ECDSA_SIG_free);
    require(sig != nullptr, "d2i_ECDSA_SIG");
    return bn_bytes(ECDSA_SIG_get0_r(sig.get()), size) +
           bn_bytes(ECDSA_SIG_get0_s(sig.get()), size);
}

// JWS R||S -> DER ECDSA-Sig-Value (what a confused signer might send).
inline std::string raw_to_der(std::string_view raw) {
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), &ECDSA_SIG_free);
    const std::size_t half = raw.size() / 2;
    bn_ptr r = bytes_bn(raw.substr(0, half));
    bn_ptr s = bytes_bn(raw.substr(half));
    require(ECDSA_SIG_set0(sig.get(), r.release(), s.release()) == 1, "ECDSA_SIG_set0");
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(sig.get(), &der);
    require(len > 0, "i2d_ECDSA_SIG");
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

inline std::string b64(std::string_view s) {
    return core::base64url_encode(s);
}

inline std::string bn_param(EVP_PKEY* key, const char* name, std::size_t pad = 0) {
    BIGNUM* raw = nullptr;
    require(EVP_PKEY_get_bn_param(key, name, &raw) == 1, name);
    bn_ptr bn(raw);
    return bn_bytes(bn.get(), pad);
}

// The curve order n of an EC key, big-endian at the field size.
inline std::string ec_order(EVP_PKEY* key, std::size_t size) {
    return bn_param(key, OSSL_PKEY_PARAM_EC_ORDER, size);
}

// The public JWK members of `key` as a JSON object (RFC 7517 / 7518 6 / 8037 2).
inline boost::json::object public_jwk(EVP_PKEY* key) {
    boost::json::object o;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        o["kty"] = "RSA";
        o["n"] = b64(bn_param(key, OSSL_PKEY_PARAM_RSA_N));
        o["e"] = b64(bn_param(key, OSSL_PKEY_PARAM_RSA_E));
        break;
    case EVP_PKEY_EC: {
        const int bits = EVP_PKEY_get_bits(key);
        const auto size = static_cast<std::size_t>((bits + 7) / 8);
        o["kty"] = "EC";
        o["crv"] = bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521";
        o["x"] = b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, size));
        o["y"] = b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, size));
        break;
    }
    case EVP_PKEY_ED25519: {
        std::string x(32, '\0');
        std::size_t len = x.size();
        require(
            EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(x.data()), &len) == 1,
            "raw public key");
        o["kty"] = "OKP";
        o["crv"] = "Ed25519";
        o["x"] = b64(x);
        break;
    }
    default: require(false, "unsupported key type");
    }
    return o;
}

inline boost::json::object parse_object(std::string_view json) {
    return boost::json::parse(json).as_object();
}

// Parses a JWK that the test expects to be usable.
inline std::shared_ptr<const core::jwk> load_jwk(const boost::json::object& o,
                                                 bool allow_oct = true) {
    auto k = core::parse_jwk(o, allow_oct);
    if (!k) {
        throw std::runtime_error("parse_jwk failed: " + k.error().message() + " for " +
                                 boost::json::serialize(o));
    }
    return *k;
}

inline std::shared_ptr<const core::jwk> load_jwk(std::string_view json, bool allow_oct = true) {
    return load_jwk(parse_object(json), allow_oct);
}

inline std::shared_ptr<const core::jwk> oct_key(std::string_view secret) {
    boost::json::object o;
    o["kty"] = "oct";
    o["k"] = b64(secret);
    return load_jwk(o, true);
}

} // namespace jwtgate::test
