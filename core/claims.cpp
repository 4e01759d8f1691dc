// Claims after verification: dotted-path lookup, header rendering, scope and claim
// requirements (RFC 7519 4, RFC 8693 4.2 "scope", SPEC "Claim values").
//
// Decisions the SPEC leaves open:
// - A null item inside an array of scalars renders as "null" (positions are kept);
//   an empty array renders as an empty value (the claim is present, with no items).
// - Only "scope" as a string and "scp" as a string or array count as scopes; non-string
//   "scp" items are ignored. Scope strings split on runs of spaces (RFC 6749 3.3).
// - Claim comparison is JSON equality, with numbers compared by value across
//   int64/uint64/double (1 == 1.0, but 1 != "1").
#include "core/claims.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace jwtgate::core {

namespace json = boost::json;

namespace {

template <class T> void append_number(std::string& out, T v) {
    std::array<char, 32> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), r.ptr);
}

bool is_scalar(const json::value& v) noexcept {
    return !v.is_array() && !v.is_object();
}

// Appends a scalar's header text (strings unescaped, null as "null").
void append_scalar(std::string& out, const json::value& v) {
    switch (v.kind()) {
    case json::kind::string: out.append(v.get_string()); break;
    case json::kind::int64: append_number(out, v.get_int64()); break;
    case json::kind::uint64: append_number(out, v.get_uint64()); break;
    case json::kind::double_: append_number(out, v.get_double()); break;
    case json::kind::bool_: out.append(v.get_bool() ? "true" : "false"); break;
    case json::kind::null: out.append("null"); break;
    case json::kind::array:
    case json::kind::object: break; // not scalars: handled by the caller
    }
}

// Bytes a header value may not carry (RFC 9110 5.5: no CTL other than HTAB).
bool has_forbidden_byte(std::string_view s) noexcept {
    return std::any_of(s.begin(), s.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return (c < 0x20 && c != '\t') || c == 0x7F;
    });
}

// Exact numeric equality of a double and an integer (no rounding of large integers).
bool double_equals_int(double d, std::int64_t i) noexcept {
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return false;
    if (std::trunc(d) != d)
        return false;
    return static_cast<std::int64_t>(d) == i;
}

bool double_equals_uint(double d, std::uint64_t u) noexcept {
    if (!(d >= 0.0 && d < 18446744073709551616.0))
        return false;
    if (std::trunc(d) != d)
        return false;
    return static_cast<std::uint64_t>(d) == u;
}

bool numbers_equal(const json::value& a, const json::value& b) noexcept {
    if (a.is_double() && b.is_double())
        return a.get_double() == b.get_double();
    if (a.is_double()) {
        return b.is_int64() ? double_equals_int(a.get_double(), b.get_int64())
                            : double_equals_uint(a.get_double(), b.get_uint64());
    }
    if (b.is_double())
        return numbers_equal(b, a);
    if (a.is_int64() && b.is_int64())
        return a.get_int64() == b.get_int64();
    if (a.is_uint64() && b.is_uint64())
        return a.get_uint64() == b.get_uint64();
    const std::int64_t i = a.is_int64() ? a.get_int64() : b.get_int64();
    const std::uint64_t u = a.is_uint64() ? a.get_uint64() : b.get_uint64();
    return i >= 0 && static_cast<std::uint64_t>(i) == u;
}

bool json_equal(const json::value& a, const json::value& b);

bool arrays_equal(const json::array& a, const json::array& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!json_equal(a[i], b[i]))
            return false;
    }
    return true;
}

bool objects_equal(const json::object& a, const json::object& b) {
    if (a.size() != b.size())
        return false;
    for (const auto& member : a) {
        const json::value* other = b.if_contains(member.key());
        if (other == nullptr || !json_equal(member.value(), *other))
            return false;
    }
    return true;
}

// JSON equality with numbers compared by value across int64/uint64/double.
bool json_equal(const json::value& a, const json::value& b) {
    if (a.is_number() && b.is_number())
        return numbers_equal(a, b);
    if (a.kind() != b.kind())
        return false;
    switch (a.kind()) {
    case json::kind::string: return a.get_string() == b.get_string();
    case json::kind::bool_: return a.get_bool() == b.get_bool();
    case json::kind::null: return true;
    case json::kind::array: return arrays_equal(a.get_array(), b.get_array());
    case json::kind::object: return objects_equal(a.get_object(), b.get_object());
    default: return false; // numbers handled above
    }
}

// Calls f(token) for each space-separated token of `s` (runs of spaces are one separator).
template <class F> bool any_space_token(std::string_view s, F&& f) {
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ')
            ++i;
        const std::size_t start = i;
        while (i < s.size() && s[i] != ' ')
            ++i;
        if (i > start && f(s.substr(start, i - start)))
            return true;
    }
    return false;
}

bool string_has_scope(const json::value* v, std::string_view scope) {
    if (v == nullptr || !v->is_string())
        return false;
    return any_space_token(std::string_view(v->get_string()),
                           [&](std::string_view t) { return t == scope; });
}

bool scp_array_has_scope(const json::value* v, std::string_view scope) {
    if (v == nullptr || !v->is_array())
        return false;
    const auto& arr = v->get_array();
    return std::any_of(arr.begin(), arr.end(), [&](const json::value& item) {
        return item.is_string() && std::string_view(item.get_string()) == scope;
    });
}

} // namespace

const json::value* find_claim(const json::object& payload, std::string_view path) {
    if (const json::value* exact = payload.if_contains(path))
        return exact;
    const json::object* obj = &payload;
    const json::value* found = nullptr;
    std::size_t start = 0;
    while (true) {
        const auto dot = path.find('.', start);
        const std::string_view key = path.substr(start, dot - start);
        if (obj == nullptr || key.empty())
            return nullptr;
        found = obj->if_contains(key);
        if (found == nullptr)
            return nullptr;
        if (dot == std::string_view::npos)
            return found;
        obj = found->if_object();
        start = dot + 1;
    }
}

render_status render_claim(const json::value& v, std::string& out) {
    out.clear();
    if (v.is_null())
        return render_status::omit;
    if (v.is_object()) {
        out = json::serialize(v);
    } else if (v.is_array()) {
        const auto& arr = v.get_array();
        if (std::all_of(arr.begin(), arr.end(), is_scalar)) {
            for (std::size_t i = 0; i < arr.size(); ++i) {
                if (i != 0)
                    out.push_back(',');
                append_scalar(out, arr[i]);
            }
        } else {
            out = json::serialize(v);
        }
    } else {
        append_scalar(out, v);
    }
    if (has_forbidden_byte(out)) {
        out.clear();
        return render_status::refused;
    }
    return render_status::ok;
}

bool has_scopes(const json::object& payload, const std::vector<std::string>& required) {
    const json::value* scope = payload.if_contains("scope");
    const json::value* scp = payload.if_contains("scp");
    return std::all_of(required.begin(), required.end(), [&](const std::string& s) {
        return string_has_scope(scope, s) || string_has_scope(scp, s) ||
               scp_array_has_scope(scp, s);
    });
}

bool claim_matches(const json::object& payload, std::string_view path,
                   const json::value& expected) {
    const json::value* claim = find_claim(payload, path);
    if (claim == nullptr)
        return false;
    if (json_equal(*claim, expected))
        return true;
    if (!claim->is_array())
        return false;
    const auto& arr = claim->get_array();
    return std::any_of(arr.begin(), arr.end(),
                       [&](const json::value& item) { return json_equal(item, expected); });
}

} // namespace jwtgate::core
