// The proxy server: listener, worker threads, graceful drain on SIGTERM/SIGINT.
#pragma once

#include "core/config.hpp"

#include <memory>
#include <string>

namespace jwtgate::proxy {

// Runs jwtgate with a loaded config until SIGTERM or SIGINT: binds the listener (the port
// accepts at once), runs `threads` workers (0 = one per core), and on a signal closes the
// listening socket, lets in-flight requests finish within limits.drain_timeout and
// returns 0. Returns 2, after a message on stderr, when it cannot bind or load its TLS
// files. `config_file` is the path the config was loaded from (for messages).
int run_server(std::shared_ptr<const core::config> cfg, const std::string& config_file = {});

} // namespace jwtgate::proxy
