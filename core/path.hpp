// Request-target normalisation (RFC 9112 3.2, RFC 3986 5.2.4 / 6.2.2) and query helpers.
#pragma once

#include "core/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace jwtgate::core {

struct request_target {
    std::string path;       // normalised, starts with '/' ("*" for an asterisk target)
    std::string query;      // raw query without '?', as sent ("" when none)
    bool has_query = false; // '?' present (even with an empty query)
    std::string authority;  // host[:port] of an absolute-form target, else ""
    bool absolute_form = false;
    bool asterisk = false; // "*" (OPTIONS only)
};

// Normalises a request target. Accepts origin-form, absolute-form (http/https; its path
// is normalised the same way) and "*" (OPTIONS only). The path: unreserved characters
// percent-decoded, other escapes kept with upper-case hex, dot segments removed, runs
// of '/' merged. Errors (path_errc): empty, not_origin_form, above_root, encoded_slash
// (%2F, %5C), encoded_nul (%00), bad_percent, bad_character (raw space, control,
// non-ASCII, '\'), fragment ('#'), asterisk_not_options.
result<request_target> normalise_target(std::string_view target, std::string_view method);

// Normalises a path alone (must start with '/'). Same errors.
result<std::string> normalise_path(std::string_view path);

// `path` with every segment's ";parameters" removed ("/a;x=1/b;y" -> "/a/b"): how
// servlet containers read a path (RFC 3986 3.3 leaves ';' to the application).
std::string strip_path_parameters(std::string_view path);

// The value of the first query parameter named `name` (percent-decoded; '+' kept),
// or nullopt.
std::optional<std::string> find_query_param(std::string_view query, std::string_view name);

// `query` with every parameter named `name` removed (the rest byte-for-byte).
std::string remove_query_param(std::string_view query, std::string_view name);

} // namespace jwtgate::core
