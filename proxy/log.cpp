// JSON-lines logging: escaping, timestamps, and the single-write emit.
#include "proxy/log.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>

#include <unistd.h>

namespace jwtgate::proxy {

namespace {

std::atomic<int> g_level{static_cast<int>(core::log_level::info)};

// "2024-05-01T12:00:00.123Z"; the second-resolution prefix is cached per thread.
void append_timestamp(std::string& out) {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    thread_local std::time_t cached_secs = -1;
    thread_local char cached[32] = {};
    if (secs != cached_secs) {
        std::tm tm{};
        gmtime_r(&secs, &tm);
        std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_secs = secs;
    }
    out += cached;
    char frac[8];
    const auto millis = static_cast<int>(ms % 1000);
    frac[0] = '.';
    frac[1] = static_cast<char>('0' + millis / 100);
    frac[2] = static_cast<char>('0' + (millis / 10) % 10);
    frac[3] = static_cast<char>('0' + millis % 10);
    frac[4] = 'Z';
    out.append(frac, 5);
}

void write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const auto n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return; // stdout gone: logging must never take the proxy down
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

} // namespace

void set_log_level(core::log_level level) noexcept {
    g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool log_enabled(core::log_level level) noexcept {
    return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

std::string_view to_string(core::log_level level) noexcept {
    switch (level) {
    case core::log_level::debug: return "debug";
    case core::log_level::info: return "info";
    case core::log_level::warn: return "warn";
    case core::log_level::error: return "error";
    }
    return "info";
}

void append_json_escaped(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
}

log_line::log_line(core::log_level level, std::string_view msg) {
    buf_.reserve(384);
    buf_ += "{\"ts\":\"";
    append_timestamp(buf_);
    buf_ += "\",\"level\":\"";
    buf_ += to_string(level);
    buf_ += "\",\"msg\":\"";
    append_json_escaped(buf_, msg);
    buf_ += '"';
}

void log_line::key(std::string_view k) {
    buf_ += ",\"";
    append_json_escaped(buf_, k);
    buf_ += "\":";
}

log_line& log_line::str(std::string_view k, std::string_view value) {
    key(k);
    buf_ += '"';
    append_json_escaped(buf_, value);
    buf_ += '"';
    return *this;
}

namespace {
template <class Int> void append_integer(std::string& out, Int value) {
    char tmp[24];
    const auto r = std::to_chars(tmp, tmp + sizeof tmp, value);
    out.append(tmp, r.ptr);
}
} // namespace

log_line& log_line::num(std::string_view k, std::int64_t value) {
    key(k);
    append_integer(buf_, value);
    return *this;
}

log_line& log_line::num(std::string_view k, std::uint64_t value) {
    key(k);
    append_integer(buf_, value);
    return *this;
}

log_line& log_line::real(std::string_view k, double value) {
    key(k);
    char tmp[32];
    const auto r = std::to_chars(tmp, tmp + sizeof tmp, value, std::chars_format::fixed, 3);
    buf_.append(tmp, r.ptr);
    return *this;
}

log_line& log_line::flag(std::string_view k, bool value) {
    key(k);
    buf_ += value ? "true" : "false";
    return *this;
}

log_line& log_line::null(std::string_view k) {
    key(k);
    buf_ += "null";
    return *this;
}

void log_line::emit() {
    buf_ += "}\n";
    write_all(STDOUT_FILENO, buf_.data(), buf_.size());
}

void log_message(core::log_level level, std::string_view msg) {
    if (log_enabled(level)) {
        log_line(level, msg).emit();
    }
}

void log_failure(core::log_level level, std::string_view what, std::string_view error) {
    if (log_enabled(level)) {
        log_line(level, what).str("what", what).str("error", error).emit();
    }
}

} // namespace jwtgate::proxy
