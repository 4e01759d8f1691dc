// Categories and fixed reason texts for auth_errc and path_errc.
#include "core/error.hpp"

#include <string>

namespace jwtgate::core {

std::string_view details(auth_errc e) noexcept {
    switch (e) {
    case auth_errc::ok: return "ok";
    case auth_errc::token_too_large: return "token too large";
    case auth_errc::malformed_token: return "malformed token";
    case auth_errc::bad_base64: return "malformed token encoding";
    case auth_errc::malformed_header: return "malformed token header";
    case auth_errc::encrypted_token: return "encrypted tokens are not accepted";
    case auth_errc::malformed_payload: return "malformed token payload";
    case auth_errc::alg_none: return "unsigned tokens are not accepted";
    case auth_errc::unknown_algorithm: return "unknown algorithm";
    case auth_errc::crit_unsupported: return "unsupported critical header";
    case auth_errc::missing_issuer: return "missing issuer";
    case auth_errc::unknown_issuer: return "unknown issuer";
    case auth_errc::provider_not_allowed: return "issuer not allowed for this route";
    case auth_errc::algorithm_not_allowed: return "algorithm not allowed";
    case auth_errc::missing_type: return "missing token type";
    case auth_errc::type_not_allowed: return "token type not allowed";
    case auth_errc::unknown_key: return "unknown key";
    case auth_errc::key_type_mismatch: return "key does not match algorithm";
    case auth_errc::bad_signature: return "bad signature";
    case auth_errc::expired: return "token has expired";
    case auth_errc::missing_exp: return "missing expiry";
    case auth_errc::malformed_claim: return "malformed claim";
    case auth_errc::not_yet_valid: return "token not yet valid";
    case auth_errc::issued_in_future: return "token issued in the future";
    case auth_errc::wrong_audience: return "wrong audience";
    case auth_errc::lifetime_too_long: return "token lifetime too long";
    case auth_errc::key_set_unavailable: return "key set unavailable";
    }
    return "invalid token";
}

namespace {

class auth_category_impl final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "jwtgate.auth"; }
    std::string message(int ev) const override {
        return std::string(details(static_cast<auth_errc>(ev)));
    }
};

class path_category_impl final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "jwtgate.path"; }
    std::string message(int ev) const override {
        switch (static_cast<path_errc>(ev)) {
        case path_errc::ok: return "ok";
        case path_errc::empty: return "empty request target";
        case path_errc::not_origin_form: return "request target is not a path";
        case path_errc::above_root: return "path climbs above the root";
        case path_errc::encoded_slash: return "encoded slash or backslash in path";
        case path_errc::encoded_nul: return "NUL in path";
        case path_errc::bad_percent: return "bad percent-encoding in path";
        case path_errc::bad_character: return "invalid character in path";
        case path_errc::fragment: return "fragment in request target";
        case path_errc::asterisk_not_options: return "'*' target is only allowed for OPTIONS";
        case path_errc::dot_segment_parameters: return "dot segment with parameters in path";
        case path_errc::ambiguous_parameters: return "path parameters change which rule applies";
        }
        return "invalid path";
    }
};

} // namespace

const boost::system::error_category& auth_category() noexcept {
    static const auth_category_impl cat;
    return cat;
}

boost::system::error_code make_error_code(auth_errc e) noexcept {
    return {static_cast<int>(e), auth_category()};
}

const boost::system::error_category& path_category() noexcept {
    static const path_category_impl cat;
    return cat;
}

boost::system::error_code make_error_code(path_errc e) noexcept {
    return {static_cast<int>(e), path_category()};
}

} // namespace jwtgate::core
