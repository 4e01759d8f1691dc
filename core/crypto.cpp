// JWS signature verification with OpenSSL 3 EVP (RFC 7515 5.2, RFC 7518 3, RFC 8037 3.1).
#include "core/crypto.hpp"

#include "core/jwk.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <array>
#include <climits>
#include <cstring>
#include <memory>

namespace jwtgate::core {

namespace {

using md_ctx_ptr = evp_md_ctx_ptr;

const unsigned char* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// The digests are fetched once (explicit fetch avoids OpenSSL 3's per-call implicit
// lookup); they live for the process.
struct digests {
    const EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    const EVP_MD* sha384 = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
    const EVP_MD* sha512 = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
};

const EVP_MD* digest_of(jws_alg alg) noexcept {
    static const digests d;
    switch (alg) {
    case jws_alg::RS256:
    case jws_alg::PS256:
    case jws_alg::ES256:
    case jws_alg::HS256: return d.sha256;
    case jws_alg::RS384:
    case jws_alg::PS384:
    case jws_alg::ES384:
    case jws_alg::HS384: return d.sha384;
    case jws_alg::RS512:
    case jws_alg::PS512:
    case jws_alg::ES512:
    case jws_alg::HS512: return d.sha512;
    case jws_alg::EdDSA: return nullptr;
    }
    return nullptr;
}

bool is_pss(jws_alg alg) noexcept {
    return alg == jws_alg::PS256 || alg == jws_alg::PS384 || alg == jws_alg::PS512;
}

// EVP_DigestVerifyInit for `alg` (`md` null: EdDSA, no prehash). PSS uses MGF1 over the
// same hash and a salt as long as the hash (RFC 7518 3.5); OpenSSL then checks that salt
// length exactly.
md_ctx_ptr init_verify(EVP_PKEY* pkey, const EVP_MD* md, bool pss) noexcept {
    md_ctx_ptr ctx(EVP_MD_CTX_new());
    if (!ctx) {
        return nullptr;
    }
    EVP_PKEY_CTX* pctx = nullptr; // owned by ctx
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) {
        return nullptr;
    }
    if (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
        return nullptr;
    }
    return ctx;
}

// One-shot EVP_DigestVerify on a copy of the key's prepared context for `alg` (the
// template is only read: EVP_MD_CTX_copy_ex takes it const, so concurrent verifications
// may share it), or on a fresh one. FINALISE: the context is used once, so
// EVP_DigestVerifyFinal need not duplicate it first.
bool digest_verify(const jwk& key, jws_alg alg, std::string_view input, const unsigned char* sig,
                   std::size_t sig_len) noexcept {
    md_ctx_ptr ctx;
    if (const auto& tmpl = key.prepared[static_cast<std::size_t>(alg)]) {
        ctx.reset(EVP_MD_CTX_new());
        if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), tmpl.get()) != 1) {
            return false;
        }
    } else {
        ctx = init_verify(key.pkey.get(), digest_of(alg), is_pss(alg));
        if (!ctx) {
            return false;
        }
    }
    EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
    return EVP_DigestVerify(ctx.get(), sig, sig_len, bytes(input), input.size()) == 1;
}

bool verify_rsa(jws_alg alg, const jwk& key, std::string_view input,
                std::string_view sig) noexcept {
    if (EVP_PKEY_get_base_id(key.pkey.get()) != EVP_PKEY_RSA) {
        return false;
    }
    // RFC 8017 8.2.2 / 8.1.2: the signature is exactly as long as the modulus.
    const int size = EVP_PKEY_get_size(key.pkey.get());
    if (size <= 0 || sig.size() != static_cast<std::size_t>(size)) {
        return false;
    }
    return digest_verify(key, alg, input, bytes(sig), sig.size());
}

// Group orders n, big-endian, at the field size (FIPS 186-4 D.1.2.3-5).
constexpr std::array<unsigned char, 32> p256_order{
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
constexpr std::array<unsigned char, 48> p384_order{
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC7, 0x63, 0x4D, 0x81, 0xF4, 0x37, 0x2D, 0xDF,
    0x58, 0x1A, 0x0D, 0xB2, 0x48, 0xB0, 0xA7, 0x7A, 0xEC, 0xEC, 0x19, 0x6A, 0xCC, 0xC5, 0x29, 0x73};
constexpr std::array<unsigned char, 66> p521_order{
    0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFA, 0x51, 0x86, 0x87, 0x83, 0xBF, 0x2F, 0x96, 0x6B,
    0x7F, 0xCC, 0x01, 0x48, 0xF7, 0x09, 0xA5, 0xD0, 0x3B, 0xB5, 0xC9, 0xB8, 0x89, 0x9C,
    0x47, 0xAE, 0xBB, 0x6F, 0xB7, 0x1E, 0x91, 0x38, 0x64, 0x09};

struct ec_params {
    key_curve curve;
    int bits;
    const unsigned char* order;
    std::size_t size; // bytes of R and of S
};

ec_params ec_params_of(jws_alg alg) noexcept {
    switch (alg) {
    case jws_alg::ES384: return {key_curve::p384, 384, p384_order.data(), p384_order.size()};
    case jws_alg::ES512: return {key_curve::p521, 521, p521_order.data(), p521_order.size()};
    default: return {key_curve::p256, 256, p256_order.data(), p256_order.size()};
    }
}

// 1 <= v <= n-1 for equal-length big-endian integers.
bool in_scalar_range(const unsigned char* v, const unsigned char* n, std::size_t len) noexcept {
    bool nonzero = false;
    for (std::size_t i = 0; i < len; ++i) {
        nonzero = nonzero || v[i] != 0;
    }
    return nonzero && std::memcmp(v, n, len) < 0;
}

// Appends a DER INTEGER holding the unsigned big-endian `v` (minimal encoding) to `out`.
// At most 66 content bytes + a sign byte, so the short length form always fits.
unsigned char* put_der_integer(unsigned char* out, const unsigned char* v,
                               std::size_t len) noexcept {
    while (len > 1 && *v == 0) {
        ++v;
        --len;
    }
    const bool pad = (*v & 0x80) != 0;
    *out++ = 0x02;
    *out++ = static_cast<unsigned char>(len + (pad ? 1 : 0));
    if (pad) {
        *out++ = 0x00;
    }
    std::memcpy(out, v, len);
    return out + len;
}

// RFC 7518 3.4: the JWS signature is R||S, each exactly the curve size; EVP wants the
// DER ECDSA-Sig-Value, built here on the stack.
bool verify_ecdsa(jws_alg alg, const jwk& key, std::string_view input,
                  std::string_view sig) noexcept {
    const ec_params p = ec_params_of(alg);
    if (key.curve != p.curve || EVP_PKEY_get_base_id(key.pkey.get()) != EVP_PKEY_EC ||
        EVP_PKEY_get_bits(key.pkey.get()) != p.bits || sig.size() != 2 * p.size) {
        return false;
    }
    const unsigned char* r = bytes(sig);
    const unsigned char* s = r + p.size;
    if (!in_scalar_range(r, p.order, p.size) || !in_scalar_range(s, p.order, p.size)) {
        return false;
    }
    std::array<unsigned char, 3 + 2 * (2 + 1 + 66)> der{};
    unsigned char* body = der.data() + 3; // room for a long-form SEQUENCE header
    unsigned char* end = put_der_integer(body, r, p.size);
    end = put_der_integer(end, s, p.size);
    const auto body_len = static_cast<std::size_t>(end - body);
    unsigned char* start = nullptr;
    if (body_len < 0x80) {
        start = body - 2;
        start[1] = static_cast<unsigned char>(body_len);
    } else {
        start = body - 3;
        start[1] = 0x81;
        start[2] = static_cast<unsigned char>(body_len);
    }
    start[0] = 0x30;
    return digest_verify(key, alg, input, start, static_cast<std::size_t>(end - start));
}

// RFC 8037 3.1: Ed25519 signs the message itself (no prehash), 64-byte signatures.
bool verify_eddsa(const jwk& key, std::string_view input, std::string_view sig) noexcept {
    if (key.curve != key_curve::ed25519 ||
        EVP_PKEY_get_base_id(key.pkey.get()) != EVP_PKEY_ED25519 || sig.size() != 64) {
        return false;
    }
    return digest_verify(key, jws_alg::EdDSA, input, bytes(sig), sig.size());
}

// RFC 7518 3.2: recompute the MAC and compare in constant time.
bool verify_hmac(jws_alg alg, const jwk& key, std::string_view input,
                 std::string_view sig) noexcept {
    const EVP_MD* md = digest_of(alg);
    const int mac_size = EVP_MD_get_size(md);
    if (key.secret.empty() || mac_size <= 0 || sig.size() != static_cast<std::size_t>(mac_size) ||
        key.secret.size() > static_cast<std::size_t>(INT_MAX)) {
        return false;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_len = 0;
    if (HMAC(md, key.secret.data(), static_cast<int>(key.secret.size()), bytes(input), input.size(),
             mac.data(), &mac_len) == nullptr ||
        mac_len != sig.size()) {
        return false;
    }
    return CRYPTO_memcmp(mac.data(), sig.data(), mac_len) == 0;
}

} // namespace

void prepare_verification(jwk& key) noexcept {
    if (!key.pkey || key.kty == key_type::oct || key.kty == key_type::okp) {
        return; // EdDSA and HMAC keep their own paths
    }
    for (std::size_t i = 0; i < jws_alg_count; ++i) {
        const auto alg = static_cast<jws_alg>(i);
        if (!key.serves(alg) || digest_of(alg) == nullptr) {
            continue;
        }
        key.prepared[i] = init_verify(key.pkey.get(), digest_of(alg), is_pss(alg));
    }
}

bool verify_signature(jws_alg alg, const jwk& key, std::string_view signing_input,
                      std::string_view signature) noexcept {
    if (!key.serves(alg)) {
        return false;
    }
    if (key_type_of(alg) != key_type::oct && !key.pkey) {
        return false;
    }
    if (digest_of(alg) == nullptr && alg != jws_alg::EdDSA) {
        return false; // the digest could not be fetched
    }
    switch (alg) {
    case jws_alg::RS256:
    case jws_alg::RS384:
    case jws_alg::RS512:
    case jws_alg::PS256:
    case jws_alg::PS384:
    case jws_alg::PS512: return verify_rsa(alg, key, signing_input, signature);
    case jws_alg::ES256:
    case jws_alg::ES384:
    case jws_alg::ES512: return verify_ecdsa(alg, key, signing_input, signature);
    case jws_alg::EdDSA: return verify_eddsa(key, signing_input, signature);
    case jws_alg::HS256:
    case jws_alg::HS384:
    case jws_alg::HS512: return verify_hmac(alg, key, signing_input, signature);
    }
    return false;
}

} // namespace jwtgate::core
