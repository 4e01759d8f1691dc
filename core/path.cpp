// Request-target normalisation (RFC 9112 3.2, RFC 3986 5.2.4 / 6.2.2) and query helpers.
//
// Decisions the SPEC leaves open, resolved security-first:
// - Raw path bytes allowed: RFC 3986 pchar plus '/' (unreserved, sub-delims, ':', '@',
//   and '%' as the start of an escape). Everything else is bad_character: space, controls,
//   non-ASCII, '\', '"', '<', '>', '^', '`', '{', '|', '}', '[', ']' (and '?' in a bare
//   path). A raw NUL is encoded_nul, '#' anywhere in the target is fragment.
// - Escapes: %00 -> encoded_nul; %2F and %5C -> encoded_slash; other escapes of control
//   bytes (%01-%1F, %7F) -> bad_character; escapes of unreserved characters are decoded;
//   every other escape (including %80-%FF, i.e. UTF-8) is kept with upper-case hex.
// - Unreserved decoding happens before dot-segment removal, so "%2e%2e" is "..".
// - A segment that is "." or ".." followed by ";parameters" is dot_segment_parameters.
// - Runs of '/' are merged before dot segments are resolved ("/a//.." is "/"). A ".."
//   that would climb above "/" is an error (above_root), never clamped.
// - Absolute form: scheme http/https (any case); the authority must be a plain host
//   (ALPHA DIGIT - . _ ~, or an IPv6 literal in brackets) with an optional 1-5 digit
//   port. Userinfo ('@') or anything else -> not_origin_form; raw space, control or
//   non-ASCII bytes -> bad_character. The authority is kept as sent.
// - The query is kept raw but may not hold raw space, control or non-ASCII bytes.
// - Query parameters are separated by '&' only (';' is part of a name or value). Names
//   compare after percent-decoding ('+' is not a space); a piece without '=' has an empty
//   value. remove_query_param keeps every other piece, empty ones included, in order.
#include "core/path.hpp"

#include "core/ascii.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace jwtgate::core {

namespace {

// Byte classes of the path alphabet.
enum : std::uint8_t {
    c_bad = 0,        // not allowed raw in a path
    c_pchar = 1,      // sub-delims, ':', '@'
    c_unreserved = 2, // ALPHA DIGIT - . _ ~
};

constexpr std::array<std::uint8_t, 256> make_path_classes() {
    std::array<std::uint8_t, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c)
        t[static_cast<std::size_t>(c)] = c_unreserved;
    for (int c = 'A'; c <= 'Z'; ++c)
        t[static_cast<std::size_t>(c)] = c_unreserved;
    for (int c = '0'; c <= '9'; ++c)
        t[static_cast<std::size_t>(c)] = c_unreserved;
    for (char c : std::string_view("-._~"))
        t[static_cast<unsigned char>(c)] = c_unreserved;
    for (char c : std::string_view("!$&'()*+,;=:@"))
        t[static_cast<unsigned char>(c)] = c_pchar;
    return t;
}

constexpr std::array<std::uint8_t, 256> path_classes = make_path_classes();

constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

constexpr char upper_hex_digit(int v) noexcept {
    return "0123456789ABCDEF"[v & 0xF];
}

// Bytes that are never allowed raw anywhere in a request target.
constexpr bool is_forbidden_raw(unsigned char c) noexcept {
    return c <= 0x20 || c >= 0x7F;
}

path_errc raw_byte_error(unsigned char c) noexcept {
    return c == 0 ? path_errc::encoded_nul : path_errc::bad_character;
}

// Writes the normalised path into a buffer sized to the input: the output is never
// longer (decoding shrinks, upper-casing keeps the length, merging and dots remove).
struct path_writer {
    char* buf;
    std::size_t w = 1;         // bytes written; buf[0] is the leading '/'
    std::size_t seg_start = 1; // where the current segment began

    std::string_view segment() const noexcept { return {buf + seg_start, w - seg_start}; }

    // Closes the current segment: resolves "." and ".." (RFC 3986 5.2.4).
    path_errc end_segment() noexcept {
        const std::string_view seg = segment();
        // "..;x" or ".;x": servlet containers (Tomcat, Jetty) drop ";params" and then
        // resolve the dot segment, so "/public/..;/admin" reaches "/admin" there while it
        // would match "/public" here. Refuse instead of guessing the upstream's reading.
        if (const auto semi = seg.find(';'); semi != std::string_view::npos) {
            const std::string_view bare = seg.substr(0, semi);
            if (bare == "." || bare == "..") {
                return path_errc::dot_segment_parameters;
            }
        }
        if (seg == ".") {
            w = seg_start;
        } else if (seg == "..") {
            if (seg_start <= 1)
                return path_errc::above_root;
            // buf[seg_start - 1] is the '/' ending the previous segment: drop that segment.
            w = std::string_view(buf, seg_start - 1).rfind('/') + 1;
        }
        return path_errc::ok;
    }

    // Starts a new segment after a '/', merging runs of '/'.
    void slash() noexcept {
        if (buf[w - 1] != '/')
            buf[w++] = '/';
        seg_start = w;
    }

    // Copies the escape at in[i] ('%' already seen), decoding unreserved bytes.
    path_errc escape(std::string_view in, std::size_t i) noexcept {
        if (i + 2 >= in.size())
            return path_errc::bad_percent;
        const int hi = hex_value(in[i + 1]);
        const int lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0)
            return path_errc::bad_percent;
        const int v = hi * 16 + lo;
        if (v == 0)
            return path_errc::encoded_nul;
        if (v == '/' || v == '\\')
            return path_errc::encoded_slash;
        if (v < 0x20 || v == 0x7F)
            return path_errc::bad_character;
        if (path_classes[static_cast<std::size_t>(v)] == c_unreserved) {
            buf[w++] = static_cast<char>(v);
        } else {
            buf[w++] = '%';
            buf[w++] = upper_hex_digit(hi);
            buf[w++] = upper_hex_digit(lo);
        }
        return path_errc::ok;
    }
};

// The single pass: `in` starts with '/'; `out` receives the normalised path.
path_errc normalise_into(std::string_view in, std::string& out) {
    out.resize(in.size());
    path_writer pw{out.data()};
    pw.buf[0] = '/';
    std::size_t i = 1;
    while (i < in.size()) {
        const char ch = in[i];
        const auto c = static_cast<unsigned char>(ch);
        if (path_classes[c] != c_bad) {
            pw.buf[pw.w++] = ch;
            ++i;
        } else if (ch == '/') {
            if (const auto e = pw.end_segment(); e != path_errc::ok)
                return e;
            pw.slash();
            ++i;
        } else if (ch == '%') {
            if (const auto e = pw.escape(in, i); e != path_errc::ok)
                return e;
            i += 3;
        } else if (ch == '#') {
            return path_errc::fragment;
        } else {
            return raw_byte_error(c);
        }
    }
    const auto e = pw.end_segment();
    out.resize(pw.w);
    return e;
}

// Length of an http:// or https:// scheme prefix (any case), or 0.
std::size_t absolute_scheme_length(std::string_view target) noexcept {
    if (target.size() >= 7 && iequals(target.substr(0, 7), "http://"))
        return 7;
    if (target.size() >= 8 && iequals(target.substr(0, 8), "https://"))
        return 8;
    return 0;
}

bool is_reg_name_char(unsigned char c) noexcept {
    return path_classes[c] == c_unreserved;
}

// Validates "host[:port]" of an absolute-form target (RFC 9112 3.2.2, RFC 3986 3.2).
path_errc check_authority(std::string_view a) {
    for (const char ch : a) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_forbidden_raw(c))
            return raw_byte_error(c);
    }
    std::size_t i = 0;
    if (!a.empty() && a[0] == '[') {
        const auto close = a.find(']');
        if (close == std::string_view::npos || close < 3)
            return path_errc::not_origin_form;
        for (const char ch : a.substr(1, close - 1)) {
            if (hex_value(ch) < 0 && ch != ':' && ch != '.')
                return path_errc::not_origin_form;
        }
        i = close + 1;
    } else {
        while (i < a.size() && is_reg_name_char(static_cast<unsigned char>(a[i])))
            ++i;
        if (i == 0)
            return path_errc::not_origin_form;
    }
    if (i == a.size())
        return path_errc::ok;
    if (a[i] != ':')
        return path_errc::not_origin_form;
    const std::string_view port = a.substr(i + 1);
    if (port.empty() || port.size() > 5)
        return path_errc::not_origin_form;
    for (const char ch : port) {
        if (ch < '0' || ch > '9')
            return path_errc::not_origin_form;
    }
    return path_errc::ok;
}

path_errc check_query(std::string_view q) noexcept {
    for (const char ch : q) {
        const auto c = static_cast<unsigned char>(ch);
        // '#' cannot reach here (rejected for the whole target first).
        if (is_forbidden_raw(c))
            return raw_byte_error(c);
    }
    return path_errc::ok;
}

// Splits "path?query" into the target's fields and normalises the path ("" -> "/").
path_errc fill_path_and_query(std::string_view rest, request_target& t) {
    const auto q = rest.find('?');
    std::string_view path = rest.substr(0, q);
    if (q != std::string_view::npos) {
        const std::string_view query = rest.substr(q + 1);
        if (const auto e = check_query(query); e != path_errc::ok)
            return e;
        t.has_query = true;
        t.query.assign(query);
    }
    if (path.empty())
        path = "/";
    return normalise_into(path, t.path);
}

int hex_pair(std::string_view s, std::size_t i) noexcept {
    if (i + 2 >= s.size())
        return -1;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

// Percent-decodes `s` ('+' kept; a malformed escape is kept literally).
std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const int v = s[i] == '%' ? hex_pair(s, i) : -1;
        if (v >= 0) {
            out.push_back(static_cast<char>(v));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

// True when `encoded` percent-decodes to exactly `plain` (no allocation).
bool decoded_equals(std::string_view encoded, std::string_view plain) noexcept {
    std::size_t j = 0;
    for (std::size_t i = 0; i < encoded.size(); ++i, ++j) {
        if (j >= plain.size())
            return false;
        const int v = encoded[i] == '%' ? hex_pair(encoded, i) : -1;
        const char c = v >= 0 ? static_cast<char>(v) : encoded[i];
        if (v >= 0)
            i += 2;
        if (c != plain[j])
            return false;
    }
    return j == plain.size();
}

// Calls f(piece, name, value, has_equals) for each '&'-separated piece, in order.
template <class F> void for_each_param(std::string_view query, F&& f) {
    std::size_t start = 0;
    while (true) {
        const auto amp = query.find('&', start);
        const std::string_view piece = query.substr(start, amp - start);
        const auto eq = piece.find('=');
        const std::string_view name = piece.substr(0, eq);
        const std::string_view value =
            eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
        if (!f(piece, name, value))
            return;
        if (amp == std::string_view::npos)
            return;
        start = amp + 1;
    }
}

} // namespace

result<std::string> normalise_path(std::string_view path) {
    if (path.empty())
        return path_errc::empty;
    if (path[0] != '/')
        return path_errc::not_origin_form;
    std::string out;
    if (const auto e = normalise_into(path, out); e != path_errc::ok)
        return e;
    return out;
}

result<request_target> normalise_target(std::string_view target, std::string_view method) {
    if (target.empty())
        return path_errc::empty;
    if (std::memchr(target.data(), '#', target.size()) != nullptr)
        return path_errc::fragment;

    request_target t;
    if (target == "*") {
        if (method != "OPTIONS")
            return path_errc::asterisk_not_options;
        t.path = "*";
        t.asterisk = true;
        return t;
    }
    if (target[0] == '/') {
        if (const auto e = fill_path_and_query(target, t); e != path_errc::ok)
            return e;
        return t;
    }
    const std::size_t scheme = absolute_scheme_length(target);
    if (scheme == 0)
        return path_errc::not_origin_form;
    const std::string_view rest = target.substr(scheme);
    const std::size_t end = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, end);
    if (const auto e = check_authority(authority); e != path_errc::ok)
        return e;
    t.authority.assign(authority);
    t.absolute_form = true;
    const std::string_view path_and_query =
        end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    if (const auto e = fill_path_and_query(path_and_query, t); e != path_errc::ok)
        return e;
    return t;
}

std::optional<std::string> find_query_param(std::string_view query, std::string_view name) {
    std::optional<std::string> found;
    for_each_param(query, [&](std::string_view piece, std::string_view n, std::string_view v) {
        if (piece.empty() || !decoded_equals(n, name))
            return true;
        found = percent_decode(v);
        return false;
    });
    return found;
}

std::string remove_query_param(std::string_view query, std::string_view name) {
    std::string out;
    out.reserve(query.size());
    bool first = true;
    for_each_param(query, [&](std::string_view piece, std::string_view n, std::string_view) {
        if (!piece.empty() && decoded_equals(n, name))
            return true;
        if (!first)
            out.push_back('&');
        out.append(piece);
        first = false;
        return true;
    });
    return out;
}

std::string strip_path_parameters(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    bool in_params = false;
    for (char c : path) {
        if (c == '/') {
            in_params = false;
        } else if (c == ';') {
            in_params = true;
        }
        if (!in_params) {
            out += c;
        }
    }
    return out;
}

} // namespace jwtgate::core
