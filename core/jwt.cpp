// Compact JWS parsing: segment split, strict base64url, duplicate-free JSON, header checks.
#include "core/jwt.hpp"

#include "core/ascii.hpp"

#include "core/base64url.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <optional>
#include <utility>

namespace jwtgate::core {

namespace {

namespace json = boost::json;

// Nesting bound for header and payload: deep enough for any real claim set, shallow
// enough that a hostile token cannot make parsing or the later member walk expensive.
constexpr std::size_t max_json_depth = 32;

// Builds a json::value exactly like json::parser does, and also counts every object
// member as written in the text. value_stack silently collapses duplicate member names
// (the last one wins), so comparing this count with the members of the built value
// reveals duplicates anywhere in the document (a duplicate "alg" or "iss" is a known
// confusion vector between implementations that keep the first and those that keep
// the last).
class counting_handler {
  public:
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    counting_handler(unsigned char* temp, std::size_t temp_size)
        : stack_(json::storage_ptr(), temp, temp_size) {}

    json::value_stack& stack() noexcept { return stack_; }
    std::size_t members_written() const noexcept { return members_; }

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return true; }
    bool on_object_end(std::size_t n, json::error_code&) {
        members_ += n;
        stack_.push_object(n);
        return true;
    }
    bool on_array_begin(json::error_code&) { return true; }
    bool on_array_end(std::size_t n, json::error_code&) {
        stack_.push_array(n);
        return true;
    }
    bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
        stack_.push_chars(s);
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code&) {
        stack_.push_key(s);
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
        stack_.push_chars(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, json::error_code&) {
        stack_.push_string(s);
        return true;
    }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
        stack_.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
        stack_.push_uint64(u);
        return true;
    }
    bool on_double(double d, json::string_view, json::error_code&) {
        stack_.push_double(d);
        return true;
    }
    bool on_bool(bool b, json::error_code&) {
        stack_.push_bool(b);
        return true;
    }
    bool on_null(json::error_code&) {
        stack_.push_null();
        return true;
    }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

  private:
    json::value_stack stack_;
    std::size_t members_ = 0;
};

// Members of every object reachable from `v` (depth is bounded by the parser).
std::size_t count_members(const json::value& v) noexcept {
    std::size_t n = 0;
    if (const auto* obj = v.if_object()) {
        n += obj->size();
        for (const auto& member : *obj) {
            n += count_members(member.value());
        }
    } else if (const auto* arr = v.if_array()) {
        for (const auto& element : *arr) {
            n += count_members(element);
        }
    }
    return n;
}

// Parses `text` as strict JSON (RFC 8259, valid UTF-8, no comments or trailing commas)
// whose top level is an object and in which no object repeats a member name.
std::optional<json::object> parse_unique_object(std::string_view text) {
    // Enough for the value stack of a typical header or claim set without a heap trip.
    unsigned char temp[1024];
    json::parse_options opts;
    opts.max_depth = max_json_depth;
    json::basic_parser<counting_handler> parser(opts, temp, sizeof temp);
    parser.handler().stack().reset();

    json::error_code ec;
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    if (ec || used != text.size()) {
        return std::nullopt;
    }
    json::value doc = parser.handler().stack().release();
    if (!doc.is_object() || count_members(doc) != parser.handler().members_written()) {
        return std::nullopt;
    }
    return std::move(doc.get_object());
}

std::string_view view_of(const json::string& s) noexcept {
    return {s.data(), s.size()};
}

struct segments {
    std::string_view header;
    std::string_view payload;
    std::string_view signature;
};

// Splits into exactly three segments; header and payload must be non-empty. An empty
// signature (an "unsecured" JWS, RFC 7515 A.5) is refused by parse_jws after the header
// checks, so that "alg":"none" is reported as such.
result<segments> split_segments(std::string_view token) {
    const auto dots = std::count(token.begin(), token.end(), '.');
    if (dots == 4) {
        return auth_errc::encrypted_token; // JWE compact serialisation (RFC 7516 7.1)
    }
    if (dots != 2) {
        return auth_errc::malformed_token;
    }
    const std::size_t first = token.find('.');
    const std::size_t second = token.find('.', first + 1);
    segments s{token.substr(0, first), token.substr(first + 1, second - first - 1),
               token.substr(second + 1)};
    if (s.header.empty() || s.payload.empty()) {
        return auth_errc::malformed_token;
    }
    return s;
}

// Reads an optional string header member: absent -> false, present as a string -> true
// with `out` set, any other type -> malformed_header.
result<bool> optional_string_member(const json::object& header, std::string_view name,
                                    std::string& out) {
    const json::value* v = header.if_contains(name);
    if (v == nullptr) {
        return false;
    }
    const json::string* s = v->if_string();
    if (s == nullptr) {
        return auth_errc::malformed_header;
    }
    out.assign(s->data(), s->size());
    return true;
}

// The header checks after JSON parsing, in the documented order (RFC 7515 4.1, 7516 4.1.2).
result<void> check_header(jws& out) {
    const json::object& header = out.header;
    if (header.contains("enc")) {
        return auth_errc::encrypted_token;
    }
    const json::value* alg = header.if_contains("alg");
    if (alg == nullptr || !alg->is_string()) {
        return auth_errc::unknown_algorithm;
    }
    const std::string_view alg_name = view_of(alg->get_string());
    if (iequals(alg_name, "none")) {
        return auth_errc::alg_none;
    }
    const auto known = parse_jws_alg(alg_name);
    if (!known) {
        return auth_errc::unknown_algorithm;
    }
    out.alg = *known;
    // No extension is supported, so any "crit" (even an empty list, which RFC 7515 4.1.11
    // forbids anyway) is refused rather than interpreted.
    if (header.contains("crit")) {
        return auth_errc::crit_unsupported;
    }
    auto has_kid = optional_string_member(header, "kid", out.kid);
    if (!has_kid) {
        return has_kid.error();
    }
    out.has_kid = *has_kid;
    auto has_typ = optional_string_member(header, "typ", out.typ);
    if (!has_typ) {
        return has_typ.error();
    }
    out.has_typ = *has_typ;
    return {};
}

} // namespace

result<jws> parse_jws(std::string_view token, std::size_t max_bytes) {
    if (token.size() > max_bytes) {
        return auth_errc::token_too_large;
    }
    auto parts = split_segments(token);
    if (!parts) {
        return parts.error();
    }

    jws out;
    {
        const auto header_json = base64url_decode(parts->header);
        if (!header_json) {
            return auth_errc::bad_base64;
        }
        auto header = parse_unique_object(*header_json);
        if (!header) {
            return auth_errc::malformed_header;
        }
        out.header = std::move(*header);
    }
    if (auto checked = check_header(out); !checked) {
        return checked.error();
    }
    if (parts->signature.empty()) {
        return auth_errc::malformed_token; // jwtgate never accepts an unsigned token
    }
    {
        const auto payload_json = base64url_decode(parts->payload);
        if (!payload_json) {
            return auth_errc::bad_base64;
        }
        auto payload = parse_unique_object(*payload_json);
        if (!payload) {
            return auth_errc::malformed_payload;
        }
        out.payload = std::move(*payload);
    }
    auto signature = base64url_decode(parts->signature);
    if (!signature) {
        return auth_errc::bad_base64;
    }
    out.signature = std::move(*signature);
    out.signing_input = token.substr(0, parts->header.size() + 1 + parts->payload.size());
    return out;
}

} // namespace jwtgate::core
