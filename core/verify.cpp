// Token verification for a chosen provider: issuer, algorithm, typ, key, signature, claims.
#include "core/verify.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>

namespace jwtgate::core {

namespace {

namespace json = boost::json;

std::string_view view_of(const json::string& s) noexcept {
    return {s.data(), s.size()};
}

// A NumericDate (RFC 7519 2) as seconds. Boost.JSON yields int64, uint64 or double
// depending on the literal; all are accepted. Conversion to double is exact for every
// time within 2^53 seconds of the epoch, far beyond any real date, and only coarsens
// absurd values (which then still compare on the correct side). A literal too large for
// a double (1e400) parses as infinity: that is no date, so it is refused.
std::optional<double> numeric_date(const json::value& v) noexcept {
    switch (v.kind()) {
    case json::kind::int64: return static_cast<double>(v.get_int64());
    case json::kind::uint64: return static_cast<double>(v.get_uint64());
    case json::kind::double_:
        if (!std::isfinite(v.get_double())) {
            return std::nullopt;
        }
        return v.get_double();
    default: return std::nullopt;
    }
}

// An optional NumericDate claim: absent -> an empty optional, present but not a number
// -> malformed_claim.
result<std::optional<double>> date_claim(const json::object& payload, std::string_view name) {
    const json::value* v = payload.if_contains(name);
    if (v == nullptr) {
        return std::optional<double>();
    }
    auto seconds = numeric_date(*v);
    if (!seconds) {
        return auth_errc::malformed_claim;
    }
    return seconds;
}

bool is_configured(std::string_view aud, const std::vector<std::string>& audiences) noexcept {
    return std::find(audiences.begin(), audiences.end(), aud) != audiences.end();
}

// "aud" is a string or an array of strings (RFC 7519 4.1.3). Any other JSON type, or an
// array holding a non-string, is malformed_claim; a well-formed value without a
// configured audience (or no "aud" at all) is wrong_audience.
result<void> check_audience(const json::object& payload,
                            const std::vector<std::string>& audiences) {
    const json::value* aud = payload.if_contains("aud");
    if (aud == nullptr) {
        return auth_errc::wrong_audience;
    }
    if (const json::string* one = aud->if_string()) {
        if (is_configured(view_of(*one), audiences)) {
            return {};
        }
        return auth_errc::wrong_audience;
    }
    const json::array* many = aud->if_array();
    if (many == nullptr) {
        return auth_errc::malformed_claim;
    }
    bool found = false;
    for (const json::value& element : *many) {
        const json::string* s = element.if_string();
        if (s == nullptr) {
            return auth_errc::malformed_claim;
        }
        found = found || is_configured(view_of(*s), audiences);
    }
    if (!found) {
        return auth_errc::wrong_audience;
    }
    return {};
}

// The issuer was already used to pick the provider; checking it again here means a
// caller bug can never verify a token against another issuer's policy (RFC 7519 4.1.1).
result<void> check_issuer(const json::object& payload, std::string_view issuer) {
    const json::value* iss = payload.if_contains("iss");
    const json::string* s = iss == nullptr ? nullptr : iss->if_string();
    if (s == nullptr) {
        return auth_errc::missing_issuer;
    }
    if (view_of(*s) != issuer) {
        return auth_errc::unknown_issuer;
    }
    return {};
}

result<void> check_type(const jws& token, const std::vector<std::string>& token_types) {
    if (token_types.empty()) {
        return {};
    }
    if (!token.has_typ) {
        return auth_errc::missing_type;
    }
    const std::string typ = normalise_typ(token.typ);
    if (std::find(token_types.begin(), token_types.end(), typ) == token_types.end()) {
        return auth_errc::type_not_allowed;
    }
    return {};
}

bool signature_ok(const jws& token, const jwk& key) noexcept {
    return verify_signature(token.alg, key, token.signing_input, token.signature);
}

// Picks the key(s) allowed to verify the token and returns the one whose signature
// matches (RFC 7515 4.1.4, 5.2; RFC 7517 4.4, 4.5). A "kid" restricts the search to the
// keys carrying it: when none of those serves the algorithm the token is refused with
// key_type_mismatch, never retried with other keys (that fallback is how algorithm
// confusion slips in). A present but empty "kid" names the keys that have none.
result<const jwk*> find_verifying_key(const jws& token, const key_set& keys) {
    bool any_candidate = false;
    if (token.has_kid) {
        const std::vector<const jwk*> named = keys.find_kid(token.kid);
        if (named.empty()) {
            return auth_errc::unknown_key;
        }
        for (const jwk* key : named) {
            if (!key->serves(token.alg)) {
                continue;
            }
            any_candidate = true;
            if (signature_ok(token, *key)) {
                return key;
            }
        }
        if (!any_candidate) {
            return auth_errc::key_type_mismatch;
        }
        return auth_errc::bad_signature;
    }
    for (const auto& key : keys.keys()) {
        if (!key->serves(token.alg)) {
            continue;
        }
        any_candidate = true;
        if (signature_ok(token, *key)) {
            return key.get();
        }
    }
    if (!any_candidate) {
        return auth_errc::unknown_key;
    }
    return auth_errc::bad_signature;
}

} // namespace

result<void> check_claims(const json::object& payload, const verify_policy& policy,
                          std::int64_t now) {
    const double t = static_cast<double>(now);
    const double skew = static_cast<double>(policy.clock_skew);

    auto exp = date_claim(payload, "exp");
    if (!exp) {
        return exp.error();
    }
    if (!*exp) {
        if (policy.require_exp) {
            return auth_errc::missing_exp;
        }
    } else if (t >= **exp + skew) {
        return auth_errc::expired;
    }

    auto nbf = date_claim(payload, "nbf");
    if (!nbf) {
        return nbf.error();
    }
    if (*nbf && **nbf - skew > t) {
        return auth_errc::not_yet_valid;
    }

    auto iat = date_claim(payload, "iat");
    if (!iat) {
        return iat.error();
    }
    if (*iat && **iat - skew > t) {
        return auth_errc::issued_in_future;
    }

    if (!policy.audiences.empty()) {
        if (auto aud = check_audience(payload, policy.audiences); !aud) {
            return aud;
        }
    }

    // Without "exp" the token's lifetime is unbounded by the token itself; require_exp
    // is what rejects that, so there is nothing to measure here.
    if (policy.max_token_lifetime && *exp) {
        const double start = *iat ? **iat : t;
        if (**exp - start > static_cast<double>(*policy.max_token_lifetime)) {
            return auth_errc::lifetime_too_long;
        }
    }
    return {};
}

result<verified_token> verify_jws(const jws& token, const verify_policy& policy,
                                  const key_set& keys, std::int64_t now) {
    if (auto iss = check_issuer(token.payload, policy.issuer); !iss) {
        return iss.error();
    }
    if (!policy.allows(token.alg)) {
        return auth_errc::algorithm_not_allowed;
    }
    if (auto typ = check_type(token, policy.token_types); !typ) {
        return typ.error();
    }
    auto key = find_verifying_key(token, keys);
    if (!key) {
        return key.error();
    }
    if (auto claims = check_claims(token.payload, policy, now); !claims) {
        return claims.error();
    }

    verified_token out;
    out.key_fingerprint = (*key)->fingerprint;
    if (const json::value* exp = token.payload.if_contains("exp")) {
        out.exp = numeric_date(*exp);
    }
    return out;
}

} // namespace jwtgate::core
