// Claims after verification: dotted-path lookup, header rendering, scope and claim
// requirements (RFC 7519 4, RFC 8693 4.2 "scope", SPEC "Claim values").
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace jwtgate::core {

// Finds a claim by dotted path ("org.id" -> payload["org"]["id"]). A path that is itself
// a top-level member name wins over descent ("a.b" as one key). nullptr when absent.
const boost::json::value* find_claim(const boost::json::object& payload, std::string_view path);

enum class render_status {
    ok,      // `out` holds the header value
    omit,    // null claim: no header
    refused, // would contain a control character: no header, counted
};

// Renders a claim value as a header value: strings as-is, integers in decimal, other
// numbers in shortest round-trip form, booleans as true/false, arrays of scalars joined
// with ",", arrays holding objects/arrays and objects as compact JSON, null omitted.
// Bytes 0x00-0x1F except TAB, and 0x7F, make the value refused.
render_status render_claim(const boost::json::value& v, std::string& out);

// True when every scope in `required` appears in "scope" (space-separated string) or
// "scp" (array of strings, or a space-separated string).
bool has_scopes(const boost::json::object& payload, const std::vector<std::string>& required);

// True when the claim at `path` equals `expected`, or is an array containing it.
bool claim_matches(const boost::json::object& payload, std::string_view path,
                   const boost::json::value& expected);

} // namespace jwtgate::core
