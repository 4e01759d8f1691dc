// Config value syntax: durations, sizes, `${VAR}` substitution, URLs, tokens, addresses.
//
// Decisions:
// - Durations are one or more <digits><unit> groups, units ms, s, m, h, each at most
//   once and in decreasing order ("1h30m", "2m30s", "1s500ms"). A bare number ("30",
//   even "0") is refused: its unit would be a guess. No sign, no fraction, no spaces.
//   The total must fit in int64 nanoseconds (about 292 years), so any later
//   std::chrono conversion is safe.
// - Sizes are <digits> with an optional unit: B, KB/kB, MB, GB, TB (powers of 1000),
//   KiB, MiB, GiB, TiB (powers of 1024); no unit means bytes. Must fit in uint64.
// - `${NAME}` / `${NAME:-default}` (NAME = [A-Za-z_][A-Za-z0-9_]*) are replaced in the raw
//   text, before YAML parsing, so a value may also supply a number or a flow mapping.
//   `:-` applies when the variable is unset or empty (as in POSIX sh); a set but empty
//   variable without default becomes "". The value is inserted verbatim: quote the
//   reference ("${VAR}") when the value may contain YAML syntax. A value with a line break
//   is refused so that line numbers stay those of the file. `$$` and a `$` not followed by
//   `{` are kept as they are (there is no escape: `$${X}` stays `$${X}`). References inside
//   comments (a '#' at the start of a line or after a blank, outside quotes, judged one
//   line at a time) are left alone.
#include "core/config_detail.hpp"

#include <boost/url/grammar/parse.hpp>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace jwtgate::core {

namespace {

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// Reads a run of decimal digits starting at `i`; nullopt when none or above `max`.
std::optional<std::uint64_t> read_digits(std::string_view s, std::size_t& i, std::uint64_t max) {
    const std::size_t start = i;
    std::uint64_t n = 0;
    while (i < s.size() && is_digit(s[i])) {
        const auto d = static_cast<std::uint64_t>(s[i] - '0');
        if (n > (max - d) / 10)
            return std::nullopt;
        n = n * 10 + d;
        ++i;
    }
    if (i == start)
        return std::nullopt;
    return n;
}

struct duration_unit {
    std::string_view name;
    std::int64_t millis;
};

// Longest names first so "ms" is not read as "m".
constexpr duration_unit duration_units[] = {
    {"ms", 1}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}};

int unit_rank(std::int64_t millis) noexcept {
    switch (millis) {
    case 3'600'000: return 3;
    case 60'000: return 2;
    case 1'000: return 1;
    default: return 0;
    }
}

struct size_unit {
    std::string_view name;
    std::uint64_t bytes;
};

constexpr size_unit size_units[] = {
    {"", 1},
    {"B", 1},
    {"KB", 1000},
    {"kB", 1000},
    {"MB", 1000ull * 1000},
    {"GB", 1000ull * 1000 * 1000},
    {"TB", 1000ull * 1000 * 1000 * 1000},
    {"KiB", 1024},
    {"MiB", 1024ull * 1024},
    {"GiB", 1024ull * 1024 * 1024},
    {"TiB", 1024ull * 1024 * 1024 * 1024},
};

bool is_name_start(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c) noexcept {
    return is_name_start(c) || is_digit(c);
}

} // namespace

std::optional<duration> parse_duration(std::string_view text) {
    constexpr auto max_ms =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 1'000'000);
    if (text.empty())
        return std::nullopt;
    std::uint64_t total = 0;
    int previous_rank = 4;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto n = read_digits(text, i, max_ms);
        if (!n)
            return std::nullopt;
        const duration_unit* unit = nullptr;
        for (const auto& u : duration_units) {
            if (text.substr(i, u.name.size()) == u.name) {
                unit = &u;
                break;
            }
        }
        if (unit == nullptr)
            return std::nullopt;
        i += unit->name.size();
        const int rank = unit_rank(unit->millis);
        if (rank >= previous_rank)
            return std::nullopt;
        previous_rank = rank;
        const auto mult = static_cast<std::uint64_t>(unit->millis);
        if (*n > (max_ms - total) / mult)
            return std::nullopt;
        total += *n * mult;
    }
    return duration(static_cast<duration::rep>(total));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::size_t i = 0;
    const auto n = read_digits(text, i, std::numeric_limits<std::uint64_t>::max());
    if (!n)
        return std::nullopt;
    const std::string_view suffix = text.substr(i);
    for (const auto& u : size_units) {
        if (u.name == suffix) {
            if (*n > std::numeric_limits<std::uint64_t>::max() / u.bytes)
                return std::nullopt;
            return *n * u.bytes;
        }
    }
    return std::nullopt;
}

env_lookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        if (const char* v = std::getenv(name.c_str()))
            return std::string(v);
        return std::nullopt;
    };
}

std::string format_diagnostic(std::string_view file, const config_diagnostic& d) {
    std::string out(file);
    out += ':' + std::to_string(d.line) + ':' + std::to_string(d.column) + ": ";
    if (!d.key_path.empty())
        out += d.key_path + ": ";
    out += d.message;
    return out;
}

namespace config_detail {

void column_map::add(int line, int out_col, int out_len, int in_col, int in_len) {
    lines_[line].push_back(piece{out_col, out_len, in_col, in_len});
}

int column_map::original_column(int line, int col) const {
    const auto it = lines_.find(line);
    if (it == lines_.end())
        return col;
    int shift = 0;
    for (const piece& p : it->second) {
        if (col < p.out_col)
            break;
        // Anything inside a substituted value is reported at its `$`.
        if (col < p.out_col + p.out_len)
            return p.in_col;
        shift = (p.in_col + p.in_len) - (p.out_col + p.out_len);
    }
    return col + shift;
}

namespace {

// Walks the text line by line, tracking just enough YAML lexing to skip comments.
class substituter {
  public:
    substituter(std::string_view text, const env_lookup& env) : in_(text), env_(env) {
        out_.text.reserve(text.size());
    }

    substitution run() {
        while (i_ < in_.size())
            step();
        return std::move(out_);
    }

  private:
    void step() {
        const char c = in_[i_];
        if (c == '\n') {
            copy(1);
            ++line_;
            line_in_ = i_;
            line_out_ = out_.text.size();
            single_ = double_ = comment_ = false;
            return;
        }
        if (comment_)
            return copy(1);
        if (double_) {
            if (c == '\\' && i_ + 1 < in_.size() && in_[i_ + 1] != '\n')
                return copy(2);
            if (c == '"')
                double_ = false;
        } else if (single_) {
            if (c == '\'' && i_ + 1 < in_.size() && in_[i_ + 1] == '\'')
                return copy(2);
            if (c == '\'')
                single_ = false;
        } else if (c == '#' && after_blank()) {
            comment_ = true;
        } else if ((c == '\'' || c == '"') && opens_quote()) {
            (c == '\'' ? single_ : double_) = true;
            return copy(1);
        }
        if (c == '$' && i_ + 1 < in_.size()) {
            if (in_[i_ + 1] == '$')
                return copy(2);
            if (in_[i_ + 1] == '{')
                return reference();
        }
        copy(1);
    }

    void copy(std::size_t n) {
        out_.text.append(in_.substr(i_, n));
        i_ += n;
    }

    bool after_blank() const noexcept {
        return i_ == line_in_ || in_[i_ - 1] == ' ' || in_[i_ - 1] == '\t';
    }

    bool opens_quote() const noexcept {
        if (i_ == line_in_)
            return true;
        const char p = in_[i_ - 1];
        return p == ' ' || p == '\t' || p == '[' || p == '{' || p == ',';
    }

    void fail(std::string message) {
        out_.diagnostics.push_back(config_diagnostic{line_ + 1, static_cast<int>(i_ - line_in_) + 1,
                                                     "", std::move(message)});
    }

    // At "${": replaces the whole reference, or reports it and copies it unchanged.
    void reference() {
        std::size_t end = i_ + 2;
        while (end < in_.size() && in_[end] != '}' && in_[end] != '\n')
            ++end;
        if (end == in_.size() || in_[end] != '}') {
            fail("unterminated ${...} reference");
            return copy(2);
        }
        const std::string_view inner = in_.substr(i_ + 2, end - i_ - 2);
        std::size_t n = 0;
        if (!inner.empty() && is_name_start(inner[0])) {
            while (n < inner.size() && is_name_char(inner[n]))
                ++n;
        }
        const std::string name(inner.substr(0, n));
        const std::string_view rest = inner.substr(n);
        const std::size_t length = end + 1 - i_;
        if (name.empty() || (!rest.empty() && rest.substr(0, 2) != ":-")) {
            fail("malformed reference '" + std::string(in_.substr(i_, length)) +
                 "': expected ${NAME} or ${NAME:-default}");
            return copy(length);
        }
        std::optional<std::string> value = env_(name);
        if (!rest.empty() && (!value || value->empty()))
            value = std::string(rest.substr(2));
        if (!value) {
            fail("environment variable " + name + " is not set (write ${" + name +
                 ":-default} to give a default)");
            return copy(length);
        }
        if (value->find_first_of("\r\n") != std::string::npos) {
            fail("environment variable " + name + " contains a line break");
            return copy(length);
        }
        out_.columns.add(line_, static_cast<int>(out_.text.size() - line_out_),
                         static_cast<int>(value->size()), static_cast<int>(i_ - line_in_),
                         static_cast<int>(length));
        out_.text += *value;
        i_ += length;
    }

    std::string_view in_;
    const env_lookup& env_;
    substitution out_;
    std::size_t i_ = 0;
    int line_ = 0;
    std::size_t line_in_ = 0;  // offset of the current line in the input
    std::size_t line_out_ = 0; // offset of the current line in the output
    bool single_ = false, double_ = false, comment_ = false;
};

} // namespace

substitution substitute_env(std::string_view text, const env_lookup& env) {
    return substituter(text, env).run();
}

bool is_token(std::string_view s) noexcept {
    if (s.empty())
        return false;
    constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return std::all_of(s.begin(), s.end(), [&](char c) {
        return is_name_char(c) || specials.find(c) != std::string_view::npos;
    });
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::optional<http_url> parse_http_url(std::string_view text, std::string& why) {
    const auto parsed = boost::urls::parse_uri(text);
    if (!parsed) {
        why = "not a valid URL";
        return std::nullopt;
    }
    const boost::urls::url_view& u = *parsed;
    http_url out;
    if (u.scheme_id() == boost::urls::scheme::https) {
        out.https = true;
        out.port = 443;
    } else if (u.scheme_id() != boost::urls::scheme::http) {
        why = "must be an http:// or https:// URL";
        return std::nullopt;
    }
    if (!u.has_authority() || u.encoded_host().empty()) {
        why = "has no host";
        return std::nullopt;
    }
    if (u.has_userinfo()) {
        why = "must not contain user information ('user@')";
        return std::nullopt;
    }
    if (u.has_fragment()) {
        why = "must not contain a fragment ('#')";
        return std::nullopt;
    }
    if (u.host_type() == boost::urls::host_type::ipvfuture ||
        u.encoded_host().find('%') != boost::urls::string_view::npos) {
        why = "has an unsupported host";
        return std::nullopt;
    }
    if (u.has_port()) {
        const std::string_view port = u.port();
        std::size_t i = 0;
        const auto n = read_digits(port, i, 65535);
        if (!n || i != port.size() || *n == 0) {
            why = "port must be 1-65535";
            return std::nullopt;
        }
        out.port = static_cast<std::uint16_t>(*n);
    }
    if (u.host_type() == boost::urls::host_type::ipv6) {
        out.host = std::string(u.host_address());
    } else {
        out.host = std::string(u.encoded_host());
    }
    out.path = std::string(u.encoded_path());
    out.has_query = u.has_query();
    return out;
}

namespace {

bool valid_host_name(std::string_view s) noexcept {
    if (s.empty() || s.size() > 253)
        return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == '.') {
            if (label == 0 || label > 63)
                return false;
            label = 0;
            continue;
        }
        const char c = s[i];
        if (!(is_name_char(c) && c != '_') && c != '-')
            return false;
        ++label;
    }
    return true;
}

} // namespace

std::optional<std::string> read_address(reader& r, const located& v) {
    const auto text = read_string(r, v);
    if (!text)
        return std::nullopt;
    std::string_view a = *text;
    const bool bracketed = a.size() >= 2 && a.front() == '[' && a.back() == ']';
    if (bracketed)
        a = a.substr(1, a.size() - 2);
    if (bracketed || a.find(':') != std::string_view::npos) {
        if (!boost::urls::parse_ipv6_address(a)) {
            r.error(v.where, v.path, "'" + *text + "' is not a valid IPv6 address");
            return std::nullopt;
        }
        return std::string(a);
    }
    const bool numeric =
        std::all_of(a.begin(), a.end(), [](char c) { return is_digit(c) || c == '.'; });
    if (numeric) {
        if (!boost::urls::parse_ipv4_address(a)) {
            r.error(v.where, v.path, "'" + *text + "' is not a valid IPv4 address");
            return std::nullopt;
        }
        return std::string(a);
    }
    if (!valid_host_name(a)) {
        r.error(v.where, v.path, "'" + *text + "' is neither an IP address nor a host name");
        return std::nullopt;
    }
    return std::string(a);
}

} // namespace config_detail

} // namespace jwtgate::core
