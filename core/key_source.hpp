// Loading of local key sets: inline `jwks` and `jwks_file` (no network here).
#pragma once

#include "core/config.hpp"
#include "core/jwks.hpp"

#include <string>
#include <string_view>

namespace jwtgate::core {

// Why a local key set could not be loaded.
struct key_load_error {
    std::string message; // names the file when there is one; never contains key material
};

// Loads the key set of a provider whose source is `inline_jwks` or `jwks_file` (local
// sources may hold `oct` keys). For a remote provider returns an error: those keys come
// from the asynchronous fetcher.
boost::system::result<parsed_jwks, key_load_error> load_local_jwks(const provider_config& p);

// The OpenID Connect discovery document of `issuer`: "{issuer}/.well-known/openid-configuration",
// trailing '/' of the issuer removed (OpenID Connect Discovery 1.0, section 4).
std::string discovery_url(std::string_view issuer);

// Reads a whole file (up to `max_bytes`); nullopt with `error` set on failure.
std::optional<std::string> read_file(const std::string& path, std::size_t max_bytes,
                                     std::string& error);

} // namespace jwtgate::core
