// Token verification after provider selection: algorithm allowlist, "typ", key by
// "kid", signature, then exp/nbf/iat/aud/lifetime (RFC 7515 5.2, RFC 7519 4.1, 7.2).
#pragma once

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/jwks.hpp"
#include "core/jwt.hpp"

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jwtgate::core {

// What one provider demands of a token (built from the provider's config).
struct verify_policy {
    std::string issuer;                    // exact match on "iss"
    std::vector<std::string> audiences;    // empty: "aud" not checked
    std::bitset<jws_alg_count> algorithms; // allowlist, indexed by jws_alg
    std::int64_t clock_skew = 30;          // seconds
    bool require_exp = true;
    std::optional<std::int64_t> max_token_lifetime; // seconds
    std::vector<std::string> token_types;           // lower-case, "application/" stripped

    bool allows(jws_alg a) const noexcept { return algorithms.test(static_cast<std::size_t>(a)); }
};

// The default allowlist: every asymmetric algorithm (never HS*).
inline std::bitset<jws_alg_count> asymmetric_algorithms() noexcept {
    std::bitset<jws_alg_count> all;
    for (std::size_t i = 0; i < jws_alg_count; ++i) {
        all.set(i, !is_symmetric(static_cast<jws_alg>(i)));
    }
    return all;
}

// Normalises a "typ" value for comparison: ASCII lower-case, a leading "application/"
// removed (RFC 7515 4.1.9).
inline std::string normalise_typ(std::string_view typ) {
    std::string out(typ);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    constexpr std::string_view app = "application/";
    if (out.size() > app.size() && out.compare(0, app.size(), app) == 0) {
        out.erase(0, app.size());
    }
    return out;
}

struct verified_token {
    std::string key_fingerprint; // which key verified it
    std::optional<double> exp;   // the "exp" claim, when present
};

// Verifies a parsed token for a provider already chosen by its "iss". Checks, in order:
// "iss" again, as defence in depth (absent or not a string: missing_issuer; not exactly
// policy.issuer: unknown_issuer); alg in policy (algorithm_not_allowed); typ when
// token_types set (missing_type, type_not_allowed); key: with a kid, the keys with that
// kid (none: unknown_key; none of them serves the alg: key_type_mismatch, with no
// fallback to other keys; a present empty kid names the keys without one), without a
// kid every key that serves the alg (none: unknown_key); signature over every candidate
// (none verifies: bad_signature); then check_claims. `now` is Unix seconds.
// RFC 7515 5.2, RFC 7517 4.4/4.5, RFC 7519 7.2.
result<verified_token> verify_jws(const jws& token, const verify_policy& policy,
                                  const key_set& keys, std::int64_t now);

// Only the time/audience/lifetime checks (the last step of verify_jws), exposed for
// tests and for re-checking (RFC 7519 4.1.3-4.1.6). In order:
// exp (absent with require_exp: missing_exp; not a finite number: malformed_claim;
// now >= exp + clock_skew: expired), nbf (malformed_claim; nbf - clock_skew > now:
// not_yet_valid), iat (malformed_claim; iat - clock_skew > now: issued_in_future),
// aud when audiences are configured (absent, or a string / array of strings holding
// none of them: wrong_audience; any other type or a non-string element:
// malformed_claim), max_token_lifetime (exp - iat, or exp - now without iat, above it:
// lifetime_too_long; nothing to measure without exp). Numbers may be integers or
// fractional; 1e400 (parsed as infinity) is malformed_claim.
result<void> check_claims(const boost::json::object& payload, const verify_policy& policy,
                          std::int64_t now);

} // namespace jwtgate::core
