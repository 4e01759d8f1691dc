// A JSON Web Key Set: an immutable collection of usable keys (RFC 7517 section 5).
#pragma once

#include "core/jwk.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace jwtgate::core {

// Immutable after construction; shared between threads as shared_ptr<const key_set>.
class key_set {
  public:
    key_set() = default;
    explicit key_set(std::vector<std::shared_ptr<const jwk>> keys);

    const std::vector<std::shared_ptr<const jwk>>& keys() const noexcept { return keys_; }
    bool empty() const noexcept { return keys_.empty(); }
    std::size_t size() const noexcept { return keys_.size(); }

    // All keys whose "kid" equals `kid` (normally zero or one).
    std::vector<const jwk*> find_kid(std::string_view kid) const;

    // True when a key with this fingerprint is in the set.
    bool contains_fingerprint(std::string_view fingerprint) const noexcept;

  private:
    std::vector<std::shared_ptr<const jwk>> keys_;
    std::vector<std::string_view> fingerprints_; // sorted, views into keys_
};

struct skipped_key {
    std::size_t index; // position in "keys"
    std::string kid;   // "" when absent or not a string
    jwk_errc reason;
};

struct parsed_jwks {
    std::shared_ptr<const key_set> keys;
    std::vector<skipped_key> skipped; // unusable keys, each with its reason (to be logged)
};

// Why a whole JWKS document was refused (then the previous set stays in force).
enum class jwks_errc {
    ok = 0,
    not_json = 1,   // not parseable JSON
    not_an_object,  // top level is not an object
    no_keys_member, // "keys" missing or not an array
    no_usable_key,  // every key was skipped (or the array is empty)
    too_large,      // document larger than the 1 MiB cap
};

const boost::system::error_category& jwks_category() noexcept;
boost::system::error_code make_error_code(jwks_errc e) noexcept;

// The cap on a JWKS document (SPEC "JWKS cache").
inline constexpr std::size_t max_jwks_bytes = 1024 * 1024;

// Parses a JWKS JSON document. Unusable keys are skipped and reported, never fatal
// to the others. `allow_oct` as for parse_jwk. Errors: jwks_errc.
result<parsed_jwks> parse_jwks(std::string_view json, bool allow_oct);
result<parsed_jwks> parse_jwks(const boost::json::value& doc, bool allow_oct);

} // namespace jwtgate::core

template <> struct boost::system::is_error_code_enum<jwtgate::core::jwks_errc> : std::true_type {};
