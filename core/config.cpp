// The YAML config loader: substitution, parsing, the top-level sections, lookups.
//
// Decisions:
// - Environment references are resolved first; if any is unset or malformed, only those
//   problems are reported (the YAML would otherwise produce follow-up noise).
// - A YAML syntax error is one diagnostic at the parser's mark. Exactly one document.
// - Every problem found is reported, sorted by position. A missing key is reported at
//   the line of its parent key (the list item for providers/rules; 1:1 at the top).
// - Timeouts must be greater than 0 except limits.drain_timeout (0 = no grace period).
//   Sizes: max_header_bytes and max_token_bytes at least 1; max_body_bytes 0 = unlimited.
//   threads 0-1024. Ports 1-65535 (0 is refused: a fixed port is needed by the Service).
// - upstream.url: http/https with a host, no userinfo, query or fragment; a path prefix
//   must be a normalised path and loses one trailing '/'. ca_file is kept even for http.
// - strip_request_headers: RFC 9110 field names; Host, Content-Length and
//   Transfer-Encoding are refused (stripping them would break the request).
// - Relative file paths (tls, ca_file, jwks_file) are used as given, i.e. relative to the
//   working directory of the process, not to the config file. Files are not opened here.
#include "core/config_detail.hpp"

#include "core/path.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace jwtgate::core {

namespace {

using namespace config_detail;

constexpr std::string_view top_keys[] = {
    "listen",   "threads",      "token_cache",    "admin",
    "upstream", "limits",       "providers",      "strip_request_headers",
    "rules",    "default_auth", "cors_preflight", "log"};

constexpr enum_name<auth_kind> auth_names[] = {{"required", auth_kind::required},
                                               {"optional", auth_kind::optional},
                                               {"none", auth_kind::none},
                                               {"deny", auth_kind::deny}};

constexpr enum_name<bool> cors_names[] = {{"bypass", true}, {"enforce", false}};

constexpr enum_name<log_level> level_names[] = {{"debug", log_level::debug},
                                                {"info", log_level::info},
                                                {"warn", log_level::warn},
                                                {"error", log_level::error}};

void read_tls(reader& r, const located& v, listen_config& out) {
    static constexpr std::string_view keys[] = {"cert_file", "key_file"};
    const auto m = read_mapping(r, v, keys);
    if (!m)
        return;
    tls_config tls;
    bool complete = true;
    for (auto [key, field] : {std::pair{keys[0], &tls.cert_file}, {keys[1], &tls.key_file}}) {
        const located* f = m->require(r, key);
        std::optional<std::string> s = f ? read_string(r, *f) : std::nullopt;
        if (s) {
            *field = std::move(*s);
        } else {
            complete = false;
        }
    }
    if (complete)
        out.tls = std::move(tls);
}

void read_listen(reader& r, const located& v, listen_config& out) {
    static constexpr std::string_view keys[] = {"address", "port", "tls"};
    const auto m = read_mapping(r, v, keys);
    if (!m)
        return;
    assign(*m, "address", out.address, [&](const located& x) { return read_address(r, x); });
    assign(*m, "port", out.port, [&](const located& x) { return read_port(r, x); });
    if (const located* tls = m->get("tls"))
        read_tls(r, *tls, out);
}

void read_admin(reader& r, const located& v, admin_config& out) {
    static constexpr std::string_view keys[] = {"address", "port"};
    const auto m = read_mapping(r, v, keys);
    if (!m)
        return;
    assign(*m, "address", out.address, [&](const located& x) { return read_address(r, x); });
    assign(*m, "port", out.port, [&](const located& x) { return read_port(r, x); });
}

void read_upstream_url(reader& r, const located& v, upstream_config& out) {
    const auto text = read_string(r, v);
    if (!text)
        return;
    std::string why;
    auto url = parse_http_url(*text, why);
    if (url && url->has_query)
        why = "must not contain a query ('?')";
    if (!url || url->has_query) {
        r.error(v.where, v.path, why);
        return;
    }
    std::string prefix = url->path;
    if (!prefix.empty() && prefix.back() == '/')
        prefix.pop_back();
    if (!prefix.empty()) {
        const auto normal = normalise_path(prefix);
        if (!normal || *normal != prefix || prefix.back() == '/') {
            r.error(v.where, v.path, "the path '" + url->path + "' is not a normalised path");
            return;
        }
    }
    out.url = *text;
    out.https = url->https;
    out.host = std::move(url->host);
    out.port = url->port;
    out.path_prefix = std::move(prefix);
}

void read_upstream(reader& r, const located& v, upstream_config& out) {
    static constexpr std::string_view keys[] = {"url",          "connect_timeout",      "timeout",
                                                "idle_timeout", "max_idle_connections", "ca_file"};
    const auto m = read_mapping(r, v, keys);
    if (!m)
        return;
    if (const located* url = m->require(r, "url"))
        read_upstream_url(r, *url, out);
    const auto positive = [&](const located& x) { return read_duration(r, x, duration(1)); };
    assign(*m, "connect_timeout", out.connect_timeout, positive);
    assign(*m, "timeout", out.timeout, positive);
    assign(*m, "idle_timeout", out.idle_timeout, positive);
    assign(*m, "max_idle_connections", out.max_idle_connections, [&](const located& x) {
        return read_uint(r, x, 0, std::numeric_limits<std::size_t>::max());
    });
    // "" (e.g. from "${CA_FILE:-}") means the system store, the default.
    assign(*m, "ca_file", out.ca_file, [&](const located& x) { return read_string(r, x, true); });
}

void read_limits(reader& r, const located& v, limits_config& out) {
    static constexpr std::string_view keys[] = {"max_header_bytes", "max_token_bytes",
                                                "max_body_bytes",   "header_timeout",
                                                "idle_timeout",     "drain_timeout"};
    const auto m = read_mapping(r, v, keys);
    if (!m)
        return;
    assign(*m, "max_header_bytes", out.max_header_bytes,
           [&](const located& x) { return read_size(r, x, 1); });
    assign(*m, "max_token_bytes", out.max_token_bytes,
           [&](const located& x) { return read_size(r, x, 1); });
    assign(*m, "max_body_bytes", out.max_body_bytes,
           [&](const located& x) { return read_size(r, x, 0); });
    const auto positive = [&](const located& x) { return read_duration(r, x, duration(1)); };
    assign(*m, "header_timeout", out.header_timeout, positive);
    assign(*m, "idle_timeout", out.idle_timeout, positive);
    assign(*m, "drain_timeout", out.drain_timeout,
           [&](const located& x) { return read_duration(r, x, duration(0)); });
}

void read_log(reader& r, const located& v, log_config& out) {
    static constexpr std::string_view keys[] = {"level", "access_log"};
    const auto m = read_mapping(r, v, keys);
    if (!m)
        return;
    assign(*m, "level", out.level, [&](const located& x) { return read_enum(r, x, level_names); });
    assign(*m, "access_log", out.access_log, [&](const located& x) { return read_bool(r, x); });
}

void read_token_cache(reader& r, const located& v, config& cfg) {
    static constexpr std::string_view keys[] = {"max_entries"};
    const auto m = read_mapping(r, v, keys);
    if (!m)
        return;
    assign(*m, "max_entries", cfg.token_cache_max_entries, [&](const located& x) {
        return read_uint(r, x, 0, std::numeric_limits<std::size_t>::max());
    });
}

void read_strip_headers(reader& r, const located& v, config& cfg) {
    const auto items = read_sequence(r, v, true);
    if (!items)
        return;
    for (const auto& item : *items) {
        auto name = read_header_name(r, item);
        if (!name)
            continue;
        for (std::string_view framing : {"host", "content-length", "transfer-encoding"}) {
            if (iequals(*name, framing)) {
                r.error(item.where, item.path, "'" + *name + "' cannot be stripped");
                name.reset();
                break;
            }
        }
        if (name)
            cfg.strip_request_headers.push_back(std::move(*name));
    }
}

void read_top(reader& r, const mapping& m, config& cfg) {
    if (const located* v = m.get("listen"))
        read_listen(r, *v, cfg.listen);
    assign(m, "threads", cfg.threads, [&](const located& x) { return read_uint(r, x, 0, 1024); });
    if (const located* v = m.get("token_cache"))
        read_token_cache(r, *v, cfg);
    if (const located* v = m.get("admin"))
        read_admin(r, *v, cfg.admin);
    if (const located* v = m.require(r, "upstream"))
        read_upstream(r, *v, cfg.upstream);
    if (const located* v = m.get("limits"))
        read_limits(r, *v, cfg.limits);
    if (const located* v = m.get("providers"))
        read_providers(r, *v, cfg);
    if (const located* v = m.get("strip_request_headers"))
        read_strip_headers(r, *v, cfg);
    // Rules refer to providers by name, so they are read after them.
    if (const located* v = m.get("rules"))
        read_rules(r, *v, cfg);
    assign(m, "default_auth", cfg.default_auth,
           [&](const located& x) { return read_enum(r, x, auth_names); });
    assign(m, "cors_preflight", cfg.cors_preflight_bypass,
           [&](const located& x) { return read_enum(r, x, cors_names); });
    if (const located* v = m.get("log"))
        read_log(r, *v, cfg.log);
}

config_load_result finish(std::vector<config_diagnostic> diagnostics) {
    std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const auto& a, const auto& b) {
        return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    return config_load_result{std::nullopt, std::move(diagnostics)};
}

} // namespace

config_load_result load_config_text(std::string_view text, const std::string& file,
                                    const env_lookup& env) {
    substitution sub = substitute_env(text, env);
    if (!sub.diagnostics.empty())
        return finish(std::move(sub.diagnostics));

    reader r(sub.columns);
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(sub.text);
    } catch (const YAML::Exception& e) {
        r.error(r.pos(e.mark), "", "YAML syntax error: " + e.msg);
        return finish(r.take());
    }
    if (documents.size() > 1) {
        r.error(r.pos(documents[1]), "", "only one YAML document is allowed");
        return finish(r.take());
    }
    YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
    // An empty file is an empty mapping: the only problem is the missing upstream.
    if (root.IsNull())
        root = YAML::Node(YAML::NodeType::Map);

    config cfg;
    cfg.file = file;
    const located top{root, "", position{}, position{}};
    if (const auto m = read_mapping(r, top, top_keys))
        read_top(r, *m, cfg);
    if (r.failed())
        return finish(r.take());
    return config_load_result{std::move(cfg), {}};
}

config_load_result load_config_file(const std::string& file, const env_lookup& env) {
    constexpr std::size_t max_config_bytes = 16 * 1024 * 1024;
    const auto unreadable = [&](std::string why) {
        return config_load_result{std::nullopt,
                                  {config_diagnostic{0, 0, "", "cannot read config file: " + why}}};
    };
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
    if (!f)
        return unreadable(std::strerror(errno));
    std::string text;
    char buffer[16384];
    while (true) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, f.get());
        text.append(buffer, n);
        if (text.size() > max_config_bytes)
            return unreadable("larger than 16 MiB");
        if (n < sizeof buffer)
            break;
    }
    if (std::ferror(f.get()))
        return unreadable(std::strerror(errno));
    return load_config_text(text, file, env);
}

const provider_config* config::find_provider(std::string_view name) const noexcept {
    for (const auto& p : providers) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
}

const provider_config* config::find_issuer(std::string_view issuer) const noexcept {
    for (const auto& p : providers) {
        if (p.policy.issuer == issuer)
            return &p;
    }
    return nullptr;
}

} // namespace jwtgate::core
