// The proxy server: listener, worker threads, graceful drain on SIGTERM/SIGINT.
#pragma once

#include "core/config.hpp"
#include "proxy/file_signature.hpp"

#include <memory>
#include <string>

namespace jwtgate::proxy {

struct server_options {
    // Also reload when the config file changes (polled every second; applied once the
    // file has held still for a poll), not only on SIGHUP.
    bool watch_config = false;
    // The config file as it was before it was read: a change after that is a change.
    file_signature loaded_signature;
};

// Runs jwtgate with a loaded config until SIGTERM or SIGINT: binds the listener (the port
// accepts at once), runs `threads` workers (0 = one per core), reloads `config_file` on
// SIGHUP, and on SIGTERM/SIGINT closes the listening socket, lets in-flight requests
// finish within limits.drain_timeout and returns 0. Returns 2, after a message on stderr,
// when it cannot bind or load its TLS files. `config_file` is the path the config was
// loaded from ("<...>" for a built-in one, which is never reloaded).
int run_server(std::shared_ptr<const core::config> cfg, const std::string& config_file = {},
               server_options options = {});

} // namespace jwtgate::proxy
