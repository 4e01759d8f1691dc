// JWKS document -> immutable key set; unusable keys skipped with a reason (RFC 7517 5).
#include "core/jwks.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace jwtgate::core {

key_set::key_set(std::vector<std::shared_ptr<const jwk>> keys) : keys_(std::move(keys)) {
    fingerprints_.reserve(keys_.size());
    for (const auto& k : keys_) {
        fingerprints_.emplace_back(k->fingerprint);
    }
    std::sort(fingerprints_.begin(), fingerprints_.end());
}

std::vector<const jwk*> key_set::find_kid(std::string_view kid) const {
    std::vector<const jwk*> out;
    for (const auto& k : keys_) {
        if (k->kid == kid) {
            out.push_back(k.get());
        }
    }
    return out;
}

bool key_set::contains_fingerprint(std::string_view fingerprint) const noexcept {
    return std::binary_search(fingerprints_.begin(), fingerprints_.end(), fingerprint);
}

namespace {

class jwks_category_impl final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "jwtgate.jwks"; }
    std::string message(int ev) const override {
        switch (static_cast<jwks_errc>(ev)) {
        case jwks_errc::ok: return "ok";
        case jwks_errc::not_json: return "key set is not valid JSON";
        case jwks_errc::not_an_object: return "key set is not a JSON object";
        case jwks_errc::no_keys_member: return "key set has no \"keys\" array";
        case jwks_errc::no_usable_key: return "key set has no usable key";
        case jwks_errc::too_large: return "key set document is too large";
        }
        return "unknown JWKS error";
    }
};

std::string kid_of(const boost::json::value& v) {
    if (const auto* obj = v.if_object()) {
        if (const auto* kid = obj->if_contains("kid")) {
            if (const auto* s = kid->if_string()) {
                return std::string(*s);
            }
        }
    }
    return {};
}

} // namespace

const boost::system::error_category& jwks_category() noexcept {
    static const jwks_category_impl cat;
    return cat;
}

boost::system::error_code make_error_code(jwks_errc e) noexcept {
    return {static_cast<int>(e), jwks_category()};
}

result<parsed_jwks> parse_jwks(std::string_view json, bool allow_oct) {
    if (json.size() > max_jwks_bytes) {
        return jwks_errc::too_large; // before any parsing work
    }
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(json, ec);
    if (ec) {
        return jwks_errc::not_json;
    }
    return parse_jwks(doc, allow_oct);
}

result<parsed_jwks> parse_jwks(const boost::json::value& doc, bool allow_oct) {
    const auto* top = doc.if_object();
    if (top == nullptr) {
        return jwks_errc::not_an_object;
    }
    const auto* keys_v = top->if_contains("keys");
    const auto* keys = keys_v == nullptr ? nullptr : keys_v->if_array();
    if (keys == nullptr) {
        return jwks_errc::no_keys_member;
    }
    parsed_jwks out;
    std::vector<std::shared_ptr<const jwk>> usable;
    usable.reserve(keys->size());
    for (std::size_t i = 0; i < keys->size(); ++i) {
        const auto& entry = (*keys)[i];
        const auto* obj = entry.if_object();
        if (obj == nullptr) {
            out.skipped.push_back({i, {}, jwk_errc::not_an_object});
            continue;
        }
        auto key = parse_jwk(*obj, allow_oct);
        if (!key) {
            // parse_jwk only reports jwk_category codes.
            out.skipped.push_back({i, kid_of(entry), static_cast<jwk_errc>(key.error().value())});
            continue;
        }
        usable.push_back(std::move(*key));
    }
    if (usable.empty()) {
        return jwks_errc::no_usable_key;
    }
    out.keys = std::make_shared<const key_set>(std::move(usable));
    return out;
}

} // namespace jwtgate::core
