// JSON-lines logging on stdout: one object per line, one write(2) per line.
#pragma once

#include "core/config.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace jwtgate::proxy {

// The process-wide minimum level (set once at startup, read on every log call).
void set_log_level(core::log_level level) noexcept;
bool log_enabled(core::log_level level) noexcept;

std::string_view to_string(core::log_level level) noexcept;

// Builds one JSON object {"ts":...,"level":...,"msg":...,...} and writes it as a single
// line. Values are JSON-escaped; callers never pass tokens, signatures or cookie values.
class log_line {
  public:
    log_line(core::log_level level, std::string_view msg);
    log_line(const log_line&) = delete;
    log_line& operator=(const log_line&) = delete;

    log_line& str(std::string_view key, std::string_view value);
    log_line& num(std::string_view key, std::int64_t value);
    log_line& num(std::string_view key, std::uint64_t value);
    log_line& num(std::string_view key, int value) { return num(key, std::int64_t{value}); }
    log_line& real(std::string_view key, double value);
    log_line& flag(std::string_view key, bool value);
    log_line& null(std::string_view key);

    // Terminates the object and writes it to stdout in one write(2) call.
    void emit();

  private:
    void key(std::string_view k);
    std::string buf_;
};

// Shorthands for a line with just a message and an optional "what"/"error" pair.
void log_message(core::log_level level, std::string_view msg);
void log_failure(core::log_level level, std::string_view what, std::string_view error);

// Appends `s` to `out` with JSON string escaping (no surrounding quotes).
void append_json_escaped(std::string& out, std::string_view s);

} // namespace jwtgate::proxy
