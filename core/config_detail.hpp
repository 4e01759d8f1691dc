// Internals shared by the config_*.cpp files: env substitution, located YAML values,
// typed readers that collect diagnostics. Not part of the public interface.
#pragma once

#include "core/ascii.hpp"
#include "core/config.hpp"

#include <boost/json/value.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jwtgate::core::config_detail {

// A 1-based place in the original (unsubstituted) text.
struct position {
    int line = 1;
    int column = 1;
};

// Maps columns of the substituted text back to the original text, so that a
// diagnostic after a `${VAR}` on the same line still points at the right column.
class column_map {
  public:
    // On 0-based `line`, the output columns [out_col, out_col + out_len) replaced the
    // input columns [in_col, in_col + in_len). Calls for one line come left to right.
    void add(int line, int out_col, int out_len, int in_col, int in_len);

    // The original 0-based column of 0-based output (line, col).
    int original_column(int line, int col) const;

  private:
    struct piece {
        int out_col, out_len, in_col, in_len;
    };
    std::map<int, std::vector<piece>> lines_;
};

struct substitution {
    std::string text;
    column_map columns;
    std::vector<config_diagnostic> diagnostics; // unset variables, malformed references
};

// Replaces `${NAME}` and `${NAME:-default}` outside comments (see config_values.cpp).
substitution substitute_env(std::string_view text, const env_lookup& env);

// Collects diagnostics and turns yaml-cpp marks into original 1-based positions.
class reader {
  public:
    explicit reader(const column_map& columns) : columns_(columns) {}

    position pos(const YAML::Mark& m) const;
    position pos(const YAML::Node& n) const { return pos(n.Mark()); }

    void error(position p, std::string key_path, std::string message);

    bool failed() const noexcept { return !diagnostics_.empty(); }
    std::size_t count() const noexcept { return diagnostics_.size(); }
    std::vector<config_diagnostic> take() { return std::move(diagnostics_); }

  private:
    const column_map& columns_;
    std::vector<config_diagnostic> diagnostics_;
};

// One value with where it is: a mapping entry (key set) or a sequence item.
struct located {
    YAML::Node node;
    std::string path;   // "providers[0].issuer"
    position where;     // of the value; of the key when the value is empty
    position key_where; // of the key (== where for a sequence item)
};

// The entries of one YAML mapping, checked against the allowed key names.
class mapping {
  public:
    std::string path; // "" for the top level
    position where;   // where a missing key is reported (the parent key / the item)

    const located* get(std::string_view key) const;
    // Reports `key` as missing (at `where`) when absent; returns the entry otherwise.
    const located* require(reader& r, std::string_view key) const;

    std::vector<std::pair<std::string, located>> entries;
};

std::string child_path(std::string_view parent, std::string_view key);
std::string item_path(std::string_view parent, std::size_t index);

// Reads `v` as a mapping whose keys must all be in `allowed`: unknown, duplicate and
// non-scalar keys are reported at the key. nullopt when `v` is not a mapping.
std::optional<mapping> read_mapping(reader& r, const located& v,
                                    std::span<const std::string_view> allowed);

// Reads `v` as a mapping with free-form keys (claim paths); duplicates are reported.
std::optional<mapping> read_open_mapping(reader& r, const located& v);

// The items of a sequence. With `allow_single`, a lone scalar counts as one item.
std::optional<std::vector<located>> read_sequence(reader& r, const located& v,
                                                  bool allow_single = false);

std::optional<std::string> read_string(reader& r, const located& v, bool allow_empty = false);
std::optional<bool> read_bool(reader& r, const located& v);
std::optional<std::uint64_t> read_uint(reader& r, const located& v, std::uint64_t min,
                                       std::uint64_t max);
std::optional<std::uint16_t> read_port(reader& r, const located& v);
// `min` is the smallest accepted duration (0 or 1 ms in practice).
std::optional<duration> read_duration(reader& r, const located& v, duration min);
std::optional<std::int64_t> read_seconds(reader& r, const located& v, std::int64_t min);
std::optional<std::uint64_t> read_size(reader& r, const located& v, std::uint64_t min);
// An RFC 9110 field name.
std::optional<std::string> read_header_name(reader& r, const located& v);
// A list of strings (non-empty items); `allow_single` as for read_sequence.
std::optional<std::vector<std::pair<std::string, located>>>
read_string_list(reader& r, const located& v, bool allow_single = false);

template <class E> struct enum_name {
    std::string_view name;
    E value;
};

std::string join_names(std::span<const std::string_view> names);

template <class E, std::size_t N>
std::optional<E> read_enum(reader& r, const located& v, const enum_name<E> (&table)[N]) {
    const auto text = read_string(r, v);
    if (!text)
        return std::nullopt;
    std::vector<std::string_view> names;
    for (const auto& e : table) {
        if (e.name == *text)
            return e.value;
        names.push_back(e.name);
    }
    r.error(v.where, v.path, "must be one of " + join_names(names) + " (got '" + *text + "')");
    return std::nullopt;
}

// Assigns the value read by `fn` to `out` when the key is present and valid.
template <class T, class F> void assign(const mapping& m, std::string_view key, T& out, F&& fn) {
    if (const located* v = m.get(key)) {
        if (auto value = fn(*v))
            out = static_cast<T>(*value);
    }
}

// A YAML scalar as JSON (YAML 1.2 core schema for plain scalars: null, booleans,
// integers, floats; quoted or tagged scalars are strings).
boost::json::value scalar_to_json(const YAML::Node& n);
// A whole YAML tree as JSON; nullopt (reported) on non-scalar keys or excessive depth.
std::optional<boost::json::value> yaml_to_json(reader& r, const located& v);

// RFC 9110 5.6.2 token (field names, methods, auth schemes).
bool is_token(std::string_view s) noexcept;
std::string ascii_lower(std::string_view s);

// An http:// or https:// URL split into what the proxy needs.
struct http_url {
    bool https = false;
    std::string host; // IPv6 without brackets
    std::uint16_t port = 80;
    std::string path; // as written (encoded), may be ""
    bool has_query = false;
};

// Parses an absolute http(s) URL with a host; no userinfo, no fragment. Sets `why` and
// returns nullopt otherwise.
std::optional<http_url> parse_http_url(std::string_view text, std::string& why);

// Validates a listen/admin address: an IPv4 or IPv6 literal (brackets allowed) or a
// host name. Returns the address without brackets.
std::optional<std::string> read_address(reader& r, const located& v);

// Sections (config_providers.cpp, config_rules.cpp).
void read_providers(reader& r, const located& v, config& cfg);
void read_rules(reader& r, const located& v, config& cfg);

} // namespace jwtgate::core::config_detail
