// Typed reading of YAML nodes with positions: every problem becomes a diagnostic at the
// offending key or value, and reading goes on so that all problems are reported.
//
// Scalars are read from their text whatever their quoting ("8080" is a port like 8080),
// but a mapping or a list where a scalar is expected (and the reverse) is an error, as is
// an empty value. Booleans are exactly true/false (also True/TRUE/False/FALSE): YAML 1.1
// spellings such as yes/on are refused. Integers are plain decimal digits.
#include "core/config_detail.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace jwtgate::core::config_detail {

namespace {

std::string_view kind_of(const YAML::Node& n) {
    switch (n.Type()) {
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
    }
}

// Levenshtein distance, for "did you mean" hints on unknown keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string suggestion(std::string_view key, std::span<const std::string_view> allowed) {
    // A known key that starts the unknown one ("timeout_ms") is the likeliest meaning;
    // otherwise the closest one within two edits ("adress").
    std::string_view best;
    for (const auto name : allowed) {
        if (key.size() > name.size() && key.substr(0, name.size()) == name &&
            name.size() > best.size()) {
            best = name;
        }
    }
    std::size_t best_distance = 3;
    for (const auto name : allowed) {
        if (!best.empty())
            break;
        const auto d = edit_distance(key, name);
        if (d < best_distance) {
            best = name;
            best_distance = d;
        }
    }
    for (const auto name : allowed) {
        if (!best.empty())
            break;
        if (name.size() > key.size() && name.substr(0, key.size()) == key)
            best = name;
    }
    if (best.empty())
        return "";
    return " (did you mean '" + std::string(best) + "'?)";
}

// The text of a scalar; reports "expected <what>" for anything else.
std::optional<std::string> scalar_text(reader& r, const located& v, std::string_view what) {
    if (!v.node.IsScalar()) {
        r.error(v.where, v.path,
                "expected " + std::string(what) + ", got " + std::string(kind_of(v.node)));
        return std::nullopt;
    }
    return v.node.Scalar();
}

std::optional<std::uint64_t> parse_uint(std::string_view s) {
    if (s.empty() || (s.size() > 1 && s[0] == '0'))
        return std::nullopt;
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size())
        return std::nullopt;
    return n;
}

bool is_plain_integer(std::string_view s) {
    if (!s.empty() && (s[0] == '-' || s[0] == '+'))
        s.remove_prefix(1);
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_plain_float(std::string_view s) {
    // YAML 1.2 core schema: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    std::size_t i = 0;
    auto digits = [&] {
        const std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9')
            ++i;
        return i - start;
    };
    if (i < s.size() && (s[i] == '-' || s[i] == '+'))
        ++i;
    const std::size_t whole = digits();
    std::size_t fraction = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        fraction = digits();
    }
    if (whole == 0 && fraction == 0)
        return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+'))
            ++i;
        if (digits() == 0)
            return false;
    }
    return i == s.size();
}

std::optional<bool> bool_of(std::string_view s) {
    if (s == "true" || s == "True" || s == "TRUE")
        return true;
    if (s == "false" || s == "False" || s == "FALSE")
        return false;
    return std::nullopt;
}

std::optional<boost::json::value> to_json(reader& r, const YAML::Node& n, const std::string& path,
                                          int depth) {
    constexpr int max_depth = 32;
    if (depth > max_depth) {
        r.error(r.pos(n), path, "nested too deeply");
        return std::nullopt;
    }
    switch (n.Type()) {
    case YAML::NodeType::Scalar: return scalar_to_json(n);
    case YAML::NodeType::Sequence: {
        boost::json::array out;
        std::size_t i = 0;
        for (const auto& item : n) {
            auto v = to_json(r, item, item_path(path, i++), depth + 1);
            if (!v)
                return std::nullopt;
            out.push_back(std::move(*v));
        }
        return boost::json::value(std::move(out));
    }
    case YAML::NodeType::Map: {
        boost::json::object out;
        for (auto it = n.begin(); it != n.end(); ++it) {
            if (!it->first.IsScalar()) {
                r.error(r.pos(it->first), path, "a key must be a string");
                return std::nullopt;
            }
            const std::string key = it->first.Scalar();
            if (out.contains(key)) {
                r.error(r.pos(it->first), child_path(path, key), "duplicate key '" + key + "'");
                return std::nullopt;
            }
            auto v = to_json(r, it->second, child_path(path, key), depth + 1);
            if (!v)
                return std::nullopt;
            out.emplace(key, std::move(*v));
        }
        return boost::json::value(std::move(out));
    }
    default: return boost::json::value(nullptr);
    }
}

} // namespace

position reader::pos(const YAML::Mark& m) const {
    if (m.is_null() || m.line < 0)
        return position{};
    return position{m.line + 1, columns_.original_column(m.line, m.column) + 1};
}

void reader::error(position p, std::string key_path, std::string message) {
    diagnostics_.push_back(
        config_diagnostic{p.line, p.column, std::move(key_path), std::move(message)});
}

std::string child_path(std::string_view parent, std::string_view key) {
    if (parent.empty())
        return std::string(key);
    std::string out(parent);
    out += '.';
    out += key;
    return out;
}

std::string item_path(std::string_view parent, std::size_t index) {
    return std::string(parent) + '[' + std::to_string(index) + ']';
}

std::string join_names(std::span<const std::string_view> names) {
    std::string out;
    for (const auto n : names) {
        if (!out.empty())
            out += ", ";
        out += n;
    }
    return out;
}

const located* mapping::get(std::string_view key) const {
    for (const auto& [k, v] : entries) {
        if (k == key)
            return &v;
    }
    return nullptr;
}

const located* mapping::require(reader& r, std::string_view key) const {
    const located* v = get(key);
    if (v == nullptr) {
        r.error(where, child_path(path, key), "missing required key '" + std::string(key) + "'");
    }
    return v;
}

namespace {

std::optional<mapping> read_keys(reader& r, const located& v,
                                 std::optional<std::span<const std::string_view>> allowed) {
    if (!v.node.IsMap()) {
        r.error(v.where, v.path, "expected a mapping, got " + std::string(kind_of(v.node)));
        return std::nullopt;
    }
    mapping m;
    m.path = v.path;
    m.where = v.key_where;
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
        const YAML::Node key_node = it->first;
        const YAML::Node value = it->second;
        const position kp = r.pos(key_node);
        if (!key_node.IsScalar()) {
            r.error(kp, v.path, "a key must be a string, got " + std::string(kind_of(key_node)));
            continue;
        }
        const std::string key = key_node.Scalar();
        std::string path = child_path(v.path, key);
        if (allowed && std::find(allowed->begin(), allowed->end(), key) == allowed->end()) {
            r.error(kp, std::move(path), "unknown key '" + key + "'" + suggestion(key, *allowed));
            continue;
        }
        if (m.get(key) != nullptr) {
            r.error(kp, std::move(path), "duplicate key '" + key + "'");
            continue;
        }
        // An empty value's mark points at the next token: report it at its key instead.
        const position vp = value.IsNull() ? kp : r.pos(value);
        m.entries.emplace_back(key, located{value, std::move(path), vp, kp});
    }
    return m;
}

} // namespace

std::optional<mapping> read_mapping(reader& r, const located& v,
                                    std::span<const std::string_view> allowed) {
    return read_keys(r, v, allowed);
}

std::optional<mapping> read_open_mapping(reader& r, const located& v) {
    return read_keys(r, v, std::nullopt);
}

std::optional<std::vector<located>> read_sequence(reader& r, const located& v, bool allow_single) {
    std::vector<located> items;
    if (allow_single && v.node.IsScalar()) {
        items.push_back(v);
        return items;
    }
    if (!v.node.IsSequence()) {
        r.error(v.where, v.path, "expected a list, got " + std::string(kind_of(v.node)));
        return std::nullopt;
    }
    std::size_t i = 0;
    for (const auto& item : v.node) {
        const position p = item.IsNull() || item.Mark().is_null() ? v.where : r.pos(item);
        items.push_back(located{item, item_path(v.path, i++), p, p});
    }
    return items;
}

std::optional<std::string> read_string(reader& r, const located& v, bool allow_empty) {
    auto s = scalar_text(r, v, "a string");
    if (s && s->empty() && !allow_empty) {
        r.error(v.where, v.path, "must not be empty");
        return std::nullopt;
    }
    return s;
}

std::optional<bool> read_bool(reader& r, const located& v) {
    const auto text = scalar_text(r, v, "true or false");
    if (!text)
        return std::nullopt;
    const auto b = bool_of(*text);
    if (!b)
        r.error(v.where, v.path, "expected true or false (got '" + *text + "')");
    return b;
}

std::optional<std::uint64_t> read_uint(reader& r, const located& v, std::uint64_t min,
                                       std::uint64_t max) {
    const auto text = scalar_text(r, v, "an integer");
    if (!text)
        return std::nullopt;
    const auto n = parse_uint(*text);
    if (!n) {
        r.error(v.where, v.path, "expected a non-negative integer (got '" + *text + "')");
        return std::nullopt;
    }
    if (*n < min || *n > max) {
        r.error(v.where, v.path,
                "must be between " + std::to_string(min) + " and " + std::to_string(max));
        return std::nullopt;
    }
    return n;
}

std::optional<std::uint16_t> read_port(reader& r, const located& v) {
    const auto n = read_uint(r, v, 1, 65535);
    if (!n)
        return std::nullopt;
    return static_cast<std::uint16_t>(*n);
}

std::optional<duration> read_duration(reader& r, const located& v, duration min) {
    const auto text = scalar_text(r, v, "a duration");
    if (!text)
        return std::nullopt;
    const auto d = parse_duration(*text);
    if (!d) {
        r.error(v.where, v.path,
                "'" + *text + "' is not a duration (write e.g. 500ms, 30s, 10m, 1h, 1h30m)");
        return std::nullopt;
    }
    if (*d < min) {
        r.error(v.where, v.path,
                min == duration(1) ? std::string("must be greater than 0")
                                   : "must be at least " + std::to_string(min.count()) + "ms");
        return std::nullopt;
    }
    return d;
}

std::optional<std::int64_t> read_seconds(reader& r, const located& v, std::int64_t min) {
    const auto d = read_duration(r, v, duration(0));
    if (!d)
        return std::nullopt;
    if (d->count() % 1000 != 0) {
        r.error(v.where, v.path, "must be a whole number of seconds");
        return std::nullopt;
    }
    const std::int64_t s = d->count() / 1000;
    if (s < min) {
        r.error(v.where, v.path,
                min == 1 ? std::string("must be greater than 0")
                         : "must be at least " + std::to_string(min) + "s");
        return std::nullopt;
    }
    return s;
}

std::optional<std::uint64_t> read_size(reader& r, const located& v, std::uint64_t min) {
    const auto text = scalar_text(r, v, "a size");
    if (!text)
        return std::nullopt;
    const auto n = parse_size(*text);
    if (!n) {
        r.error(v.where, v.path,
                "'" + *text + "' is not a size (write e.g. 512, 16KB, 8KiB, 1MiB)");
        return std::nullopt;
    }
    if (*n < min) {
        r.error(v.where, v.path,
                min == 1 ? std::string("must be greater than 0")
                         : "must be at least " + std::to_string(min) + " bytes");
        return std::nullopt;
    }
    return n;
}

std::optional<std::string> read_header_name(reader& r, const located& v) {
    auto name = read_string(r, v);
    if (!name)
        return std::nullopt;
    if (!is_token(*name)) {
        r.error(v.where, v.path, "'" + *name + "' is not a valid header name (RFC 9110 5.1)");
        return std::nullopt;
    }
    return name;
}

std::optional<std::vector<std::pair<std::string, located>>>
read_string_list(reader& r, const located& v, bool allow_single) {
    const auto items = read_sequence(r, v, allow_single);
    if (!items)
        return std::nullopt;
    std::vector<std::pair<std::string, located>> out;
    for (const auto& item : *items) {
        if (auto s = read_string(r, item))
            out.emplace_back(std::move(*s), item);
    }
    return out;
}

boost::json::value scalar_to_json(const YAML::Node& n) {
    const std::string& s = n.Scalar();
    if (n.Tag() != "?")
        return boost::json::value(boost::json::string(s));
    if (const auto b = bool_of(s))
        return boost::json::value(*b);
    if (is_plain_integer(s)) {
        std::int64_t i = 0;
        const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
        const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), i);
        if (ec == std::errc{} && end == s.data() + s.size())
            return boost::json::value(i);
    }
    if (is_plain_integer(s) || is_plain_float(s)) {
        double d = 0;
        const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
        const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), d);
        if (ec == std::errc{} && end == s.data() + s.size())
            return boost::json::value(d);
    }
    return boost::json::value(boost::json::string(s));
}

std::optional<boost::json::value> yaml_to_json(reader& r, const located& v) {
    return to_json(r, v.node, v.path, 0);
}

} // namespace jwtgate::core::config_detail
