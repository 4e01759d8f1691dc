// Local key sets: inline JSON from the config, or a file read from disk.
#include "core/key_source.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace jwtgate::core {

std::optional<std::string> read_file(const std::string& path, std::size_t max_bytes,
                                     std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::string data;
    char buf[16384];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        data.append(buf, static_cast<std::size_t>(in.gcount()));
        if (data.size() > max_bytes) {
            error = path + ": larger than " + std::to_string(max_bytes) + " bytes";
            return std::nullopt;
        }
    }
    if (in.bad()) {
        error = path + ": read error";
        return std::nullopt;
    }
    return data;
}

boost::system::result<parsed_jwks, key_load_error> load_local_jwks(const provider_config& p) {
    std::string text;
    std::string origin;
    switch (p.source) {
    case key_source_kind::inline_jwks:
        text = p.inline_jwks;
        origin = "inline jwks";
        break;
    case key_source_kind::jwks_file: {
        std::string err;
        auto data = read_file(p.jwks_file, max_jwks_bytes, err);
        if (!data) {
            return key_load_error{err};
        }
        text = std::move(*data);
        origin = p.jwks_file;
        break;
    }
    default: return key_load_error{"provider " + p.name + " has a remote key source"};
    }
    auto parsed = parse_jwks(text, true);
    if (!parsed) {
        return key_load_error{origin + ": " + parsed.error().message()};
    }
    return std::move(*parsed);
}

std::string discovery_url(std::string_view issuer) {
    while (!issuer.empty() && issuer.back() == '/') {
        issuer.remove_suffix(1);
    }
    return std::string(issuer) + "/.well-known/openid-configuration";
}

} // namespace jwtgate::core
