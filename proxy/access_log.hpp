// The access log: one JSON line per request (SPEC "Access log fields").
#pragma once

#include "core/config.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace jwtgate::proxy {

// What one request leaves in the access log. Never a token, signature or cookie value;
// `path` is the normalised path without the query.
struct access_entry {
    std::string_view request_id;
    std::string method;
    std::string_view path;
    int status = 0;
    std::string_view outcome;
    std::string_view rule;
    std::string_view provider;
    std::string_view sub;
    double duration_ms = 0;
    double upstream_ms = -1; // -1: no upstream exchange
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    bool shadow = false;
};

// Writes the line when log.access_log is on.
void log_access(const core::config& cfg, const access_entry& e);

} // namespace jwtgate::proxy
