// `jwtgate demo`: proxy, echo upstream and a local issuer (fresh key, JWKS over HTTP) in
// one process, with a ready-to-use token and curl lines.
#pragma once

#include <span>
#include <string_view>

namespace jwtgate::proxy {

// Runs the demo until SIGINT/SIGTERM; `args` after "demo": [--port N] [--admin-port N].
int run_demo(std::span<const std::string_view> args);

} // namespace jwtgate::proxy
