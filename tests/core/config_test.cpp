// Tests of the YAML config loader: planted errors with exact positions and key paths,
// SPEC defaults, env substitution, value parsers, provider and rule cross-checks, summary.
#include "core/config.hpp"
#include "core/key_source.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace bdata = boost::unit_test::data;
using namespace jwtgate::core;
using namespace std::chrono_literals;

namespace {

std::optional<std::string> no_env(const std::string&) {
    return std::nullopt;
}

env_lookup env_with(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    };
}

config_load_result load(std::string_view text, const env_lookup& env = no_env) {
    return load_config_text(text, "test.yaml", env);
}

std::string all_diagnostics(const config_load_result& r) {
    std::string out;
    for (const auto& d : r.diagnostics)
        out += format_diagnostic("test.yaml", d) + "\n";
    return out;
}

// Loads text that must be valid.
config load_ok(std::string_view text, const env_lookup& env = no_env) {
    auto r = load(text, env);
    BOOST_TEST_REQUIRE(r.diagnostics.empty(), all_diagnostics(r));
    BOOST_TEST_REQUIRE(r.cfg.has_value());
    return std::move(*r.cfg);
}

std::string read_file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_TEST_REQUIRE(in.good(), "cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string examples_dir = std::string(JWTGATE_TEST_DATA_DIR) + "/../../examples";

// A usable public RSA JWKS (committed with its generator under examples/).
std::string example_jwks() {
    static const std::string text = read_file_text(examples_dir + "/jwks.json");
    return text;
}

// The JWKS on one line, as the conformance kit writes it (`jwks: {"keys": [...]}`).
std::string example_jwks_one_line() {
    return boost::json::serialize(boost::json::parse(example_jwks()));
}

constexpr std::string_view upstream_only = "upstream:\n"
                                           "  url: http://127.0.0.1:3000\n";

// Lines 3-6: one provider with a remote key source.
constexpr std::string_view with_provider = "upstream:\n"
                                           "  url: http://127.0.0.1:3000\n"
                                           "providers:\n"
                                           "  - name: a\n"
                                           "    issuer: https://issuer-a.test\n"
                                           "    jwks_uri: https://issuer-a.test/jwks\n";

std::string cat(std::string_view a, std::string_view b) {
    return std::string(a) + std::string(b);
}

// ----------------------------------------------------------------- planted errors

struct want {
    int line;
    int column; // 0: not checked
    std::string key_path;
    std::string message; // a substring of the message
};

struct error_row {
    std::string name;
    std::string yaml;
    std::vector<want> diagnostics; // exactly these, in this order
    std::map<std::string, std::string> env{};
};

std::ostream& operator<<(std::ostream& os, const error_row& r) {
    return os << r.name;
}

const std::vector<error_row> error_rows = {
    // Unknown keys, one per level.
    {"unknown top-level key",
     cat(upstream_only, "listen_port: 8080\n"),
     {{3, 1, "listen_port", "unknown key 'listen_port'"}}},
    {"unknown upstream key with hint",
     cat(upstream_only, "  timeout_ms: 500\n"),
     {{3, 3, "upstream.timeout_ms", "unknown key 'timeout_ms' (did you mean 'timeout'?)"}}},
    {"unknown listen key with hint",
     cat(upstream_only, "listen:\n  adress: 1.2.3.4\n"),
     {{4, 3, "listen.adress", "unknown key 'adress' (did you mean 'address'?)"}}},
    {"unknown tls key",
     cat(upstream_only, "listen:\n  tls:\n    cert_file: a\n    key_file: b\n    key_pass: c\n"),
     {{7, 5, "listen.tls.key_pass", "unknown key 'key_pass'"}}},
    {"unknown admin key",
     cat(upstream_only, "admin:\n  prot: 9901\n"),
     {{4, 3, "admin.prot", "unknown key 'prot' (did you mean 'port'?)"}}},
    {"unknown limits key",
     cat(upstream_only, "limits:\n  max_body: 1MiB\n"),
     {{4, 3, "limits.max_body", "unknown key 'max_body'"}}},
    {"unknown token_cache key",
     cat(upstream_only, "token_cache:\n  size: 5\n"),
     {{4, 3, "token_cache.size", "unknown key 'size'"}}},
    {"unknown log key",
     cat(upstream_only, "log:\n  format: json\n"),
     {{4, 3, "log.format", "unknown key 'format'"}}},
    {"unknown provider key",
     cat(with_provider, "    audience: [api]\n"),
     {{7, 5, "providers[0].audience", "unknown key 'audience' (did you mean 'audiences'?)"}}},
    {"unknown token source key",
     cat(with_provider, "    token_sources:\n      - header: X-Token\n        prefix: Bearer\n"),
     {{9, 9, "providers[0].token_sources[0].prefix", "unknown key 'prefix'"}}},
    {"unknown rule key",
     cat(upstream_only, "rules:\n  - prefix: /a\n    auth: required\n    method: [GET]\n"),
     {{6, 5, "rules[0].method", "unknown key 'method' (did you mean 'methods'?)"}}},
    {"unknown require key",
     cat(upstream_only, "rules:\n  - prefix: /a\n    require:\n      scope: [x]\n"),
     {{6, 7, "rules[0].require.scope", "unknown key 'scope' (did you mean 'scopes'?)"}}},
    {"duplicate key",
     cat(upstream_only, "  url: http://other:1\n"),
     {{3, 3, "upstream.url", "duplicate key 'url'"}}},

    // Bad values.
    {"bad duration",
     cat(upstream_only, "limits:\n  header_timeout: 10 parsecs\n"),
     {{4, 19, "limits.header_timeout", "'10 parsecs' is not a duration"}}},
    {"bare number duration",
     cat(upstream_only, "  timeout: 30\n"),
     {{3, 12, "upstream.timeout", "'30' is not a duration"}}},
    {"zero timeout",
     cat(upstream_only, "  connect_timeout: 0s\n"),
     {{3, 20, "upstream.connect_timeout", "must be greater than 0"}}},
    {"empty duration",
     cat(upstream_only, "limits:\n  header_timeout:\n"),
     {{4, 3, "limits.header_timeout", "expected a duration, got nothing"}}},
    {"bad size",
     cat(upstream_only, "limits:\n  max_header_bytes: sixteen\n"),
     {{4, 21, "limits.max_header_bytes", "'sixteen' is not a size"}}},
    {"zero token size",
     cat(upstream_only, "limits:\n  max_token_bytes: 0\n"),
     {{4, 20, "limits.max_token_bytes", "must be greater than 0"}}},
    {"size overflow",
     cat(upstream_only, "limits:\n  max_body_bytes: 17179869184GiB\n"),
     {{4, 19, "limits.max_body_bytes", "is not a size"}}},
    {"port zero",
     cat(upstream_only, "listen:\n  port: 0\n"),
     {{4, 9, "listen.port", "must be between 1 and 65535"}}},
    {"port too large",
     cat(upstream_only, "admin:\n  port: 65536\n"),
     {{4, 9, "admin.port", "must be between 1 and 65535"}}},
    {"port not a number",
     cat(upstream_only, "admin:\n  port: http\n"),
     {{4, 9, "admin.port", "expected a non-negative integer (got 'http')"}}},
    {"port as a list",
     cat(upstream_only, "listen:\n  port: [1]\n"),
     {{4, 9, "listen.port", "expected an integer, got a list"}}},
    {"boolean yes",
     cat(upstream_only, "log:\n  access_log: yes\n"),
     {{4, 15, "log.access_log", "expected true or false (got 'yes')"}}},
    {"auth typo",
     cat(upstream_only, "rules:\n  - prefix: /a\n    auth: requried\n"),
     {{5, 11, "rules[0].auth", "must be one of required, optional, none, deny (got 'requried')"}}},
    {"mode typo",
     cat(upstream_only, "rules:\n  - prefix: /a\n    mode: dry-run\n"),
     {{5, 11, "rules[0].mode", "must be one of enforce, shadow"}}},
    {"default_auth typo",
     cat(upstream_only, "default_auth: allow\n"),
     {{3, 15, "default_auth", "must be one of required, optional, none, deny"}}},
    {"cors_preflight typo",
     cat(upstream_only, "cors_preflight: skip\n"),
     {{3, 17, "cors_preflight", "must be one of bypass, enforce"}}},
    {"log level typo",
     cat(upstream_only, "log:\n  level: verbose\n"),
     {{4, 10, "log.level", "must be one of debug, info, warn, error"}}},
    {"threads too many",
     cat(upstream_only, "threads: 2000\n"),
     {{3, 10, "threads", "must be between 0 and 1024"}}},
    {"threads negative",
     cat(upstream_only, "threads: -1\n"),
     {{3, 10, "threads", "expected a non-negative integer (got '-1')"}}},
    {"max_entries not integer",
     cat(upstream_only, "token_cache:\n  max_entries: 1e4\n"),
     {{4, 16, "token_cache.max_entries", "expected a non-negative integer"}}},
    {"bad IPv4 address",
     cat(upstream_only, "listen:\n  address: 300.1.1.1\n"),
     {{4, 12, "listen.address", "is not a valid IPv4 address"}}},
    {"bad IPv6 address",
     cat(upstream_only, "admin:\n  address: \"::zz\"\n"),
     {{4, 12, "admin.address", "is not a valid IPv6 address"}}},
    {"bad host name",
     cat(upstream_only, "listen:\n  address: bad_host!\n"),
     {{4, 12, "listen.address", "neither an IP address nor a host name"}}},
    {"tls without key_file",
     cat(upstream_only, "listen:\n  tls:\n    cert_file: a.crt\n"),
     {{4, 3, "listen.tls.key_file", "missing required key 'key_file'"}}},
    {"strip Host",
     cat(upstream_only, "strip_request_headers: [X-A, Host, \"Bad Name\"]\n"),
     {{3, 30, "strip_request_headers[1]", "'Host' cannot be stripped"},
      {3, 36, "strip_request_headers[2]", "not a valid header name"}}},

    // Wrong shapes.
    {"listen as a list",
     cat(upstream_only, "listen: [1, 2]\n"),
     {{3, 9, "listen", "expected a mapping, got a list"}}},
    {"upstream as a string",
     "upstream: http://x\n",
     {{1, 11, "upstream", "expected a mapping, got a scalar"}}},
    {"providers as a mapping",
     cat(upstream_only, "providers:\n  name: a\n"),
     {{4, 3, "providers", "expected a list, got a mapping"}}},
    {"rule as a scalar",
     cat(upstream_only, "rules:\n  - /a\n"),
     {{4, 5, "rules[0]", "expected a mapping, got a scalar"}}},
    {"top level is a list", "- a\n- b\n", {{1, 1, "", "expected a mapping, got a list"}}},

    // upstream.url.
    {"upstream ftp",
     "upstream:\n  url: ftp://h/\n",
     {{2, 8, "upstream.url", "must be an http:// or https:// URL"}}},
    {"upstream no host", "upstream:\n  url: http:///x\n", {{2, 8, "upstream.url", "has no host"}}},
    {"upstream userinfo",
     "upstream:\n  url: http://u:p@h/\n",
     {{2, 8, "upstream.url", "must not contain user information"}}},
    {"upstream query",
     "upstream:\n  url: http://h/?q=1\n",
     {{2, 8, "upstream.url", "must not contain a query"}}},
    {"upstream fragment",
     "upstream:\n  url: http://h/#f\n",
     {{2, 8, "upstream.url", "must not contain a fragment"}}},
    {"upstream port 0",
     "upstream:\n  url: http://h:0/\n",
     {{2, 8, "upstream.url", "port must be 1-65535"}}},
    {"upstream port 65536",
     "upstream:\n  url: http://h:65536/\n",
     {{2, 8, "upstream.url", "port must be 1-65535"}}},
    {"upstream path with dots",
     "upstream:\n  url: http://h/a/../b\n",
     {{2, 8, "upstream.url", "is not a normalised path"}}},
    {"upstream not a URL",
     "upstream:\n  url: not a url\n",
     {{2, 8, "upstream.url", "not a valid URL"}}},

    // Missing keys: at the parent key's line.
    {"missing upstream",
     "listen:\n  port: 8080\n",
     {{1, 1, "upstream", "missing required key 'upstream'"}}},
    {"empty file", "", {{1, 1, "upstream", "missing required key 'upstream'"}}},
    {"missing upstream url",
     "listen:\n  port: 1\nupstream:\n  timeout: 5s\n",
     {{3, 1, "upstream.url", "missing required key 'url'"}}},
    {"missing provider name",
     cat(upstream_only,
         "providers:\n  - issuer: https://i.test\n    jwks_uri: https://i.test/jwks\n"),
     {{4, 5, "providers[0].name", "missing required key 'name'"}}},
    {"missing provider issuer",
     cat(upstream_only, "providers:\n  - name: a\n    jwks_uri: https://i.test/jwks\n"),
     {{4, 5, "providers[0].issuer", "missing required key 'issuer'"}}},
    {"missing rule prefix",
     cat(upstream_only, "rules:\n  - auth: none\n  - prefix: /\n"),
     {{4, 5, "rules[0].prefix", "missing required key 'prefix'"}}},

    // Providers: key sources.
    {"no key source",
     cat(upstream_only, "providers:\n  - name: a\n    issuer: https://issuer-a.test\n"),
     {{4, 5, "providers[0]", "no key source"}}},
    {"discovery false is no key source",
     cat(upstream_only,
         "providers:\n  - name: a\n    issuer: https://issuer-a.test\n    discovery: false\n"),
     {{4, 5, "providers[0]", "no key source"}}},
    {"two key sources",
     cat(with_provider, "    jwks_file: keys.json\n"),
     {{7, 5, "providers[0].jwks_file",
       "only one key source is allowed; 'jwks_uri' is already set on line 6"}}},
    {"jwks_uri and discovery",
     cat(with_provider, "    discovery: true\n"),
     {{7, 5, "providers[0].discovery", "only one key source is allowed"}}},
    {"jwks_uri not http",
     cat(upstream_only, "providers:\n  - name: a\n    issuer: https://i.test\n"
                        "    jwks_uri: ftp://i.test/jwks\n"),
     {{6, 15, "providers[0].jwks_uri", "must be an http:// or https:// URL"}}},
    {"discovery with a non-URL issuer",
     cat(upstream_only, "providers:\n  - name: a\n    issuer: my-issuer\n    discovery: true\n"),
     {{5, 13, "providers[0].issuer", "with discovery: true the issuer must be an http(s) URL"}}},
    {"inline jwks without keys",
     cat(upstream_only, "providers:\n  - name: a\n    issuer: https://i.test\n"
                        "    jwks: {\"foo\": []}\n"),
     {{6, 11, "providers[0].jwks", "must have a \"keys\" array"}}},
    {"inline jwks with no usable key",
     cat(upstream_only,
         "providers:\n  - name: a\n    issuer: https://i.test\n"
         "    jwks: {\"keys\": [{\"kty\": \"RSA\", \"n\": \"AQAB\", \"e\": \"AQAB\"}]}\n"),
     {{6, 11, "providers[0].jwks", "holds no usable key"}}},
    {"inline jwks string not JSON",
     cat(upstream_only, "providers:\n  - name: a\n    issuer: https://i.test\n"
                        "    jwks: 'not json'\n"),
     {{6, 11, "providers[0].jwks", "is not valid JSON"}}},
    {"inline jwks as a list",
     cat(upstream_only, "providers:\n  - name: a\n    issuer: https://i.test\n    jwks: [1]\n"),
     {{6, 11, "providers[0].jwks", "expected a JWKS"}}},

    // Providers: identity.
    {"duplicate provider name",
     cat(with_provider, "  - name: a\n    issuer: https://issuer-b.test\n"
                        "    jwks_uri: https://issuer-b.test/jwks\n"),
     {{7, 11, "providers[1].name", "provider 'a' is already defined on line 4"}}},
    {"duplicate issuer",
     cat(with_provider, "  - name: b\n    issuer: https://issuer-a.test\n"
                        "    jwks_uri: https://issuer-b.test/jwks\n"),
     {{8, 13, "providers[1].issuer", "issuer is already used by provider 'a'"}}},
    {"bad provider name",
     cat(upstream_only, "providers:\n  - name: my provider\n    issuer: https://i.test\n"
                        "    jwks_uri: https://i.test/jwks\n"),
     {{4, 11, "providers[0].name", "a name may contain only"}}},
    {"empty issuer",
     cat(upstream_only, "providers:\n  - name: a\n    issuer: ''\n"
                        "    jwks_uri: https://i.test/jwks\n"),
     {{5, 13, "providers[0].issuer", "must not be empty"}}},

    // Providers: algorithms (reported at the entry).
    {"algorithm none, unknown and HS with a remote source",
     cat(with_provider, "    algorithms: [RS256, none, XS1, HS256]\n"),
     {{7, 25, "providers[0].algorithms[1]", "'none' is never allowed"},
      {7, 31, "providers[0].algorithms[2]", "unknown algorithm 'XS1'"},
      {7, 36, "providers[0].algorithms[3]", "HS256 needs a local 'oct' key"}}},
    {"HS384 with discovery",
     cat(upstream_only, "providers:\n  - name: a\n    issuer: https://i.test\n"
                        "    discovery: true\n    algorithms: [HS384]\n"),
     {{7, 18, "providers[0].algorithms[0]", "HS384 needs a local 'oct' key"}}},
    {"empty algorithms",
     cat(with_provider, "    algorithms: []\n"),
     {{7, 17, "providers[0].algorithms", "must not be empty"}}},
    {"algorithms are case-sensitive",
     cat(with_provider, "    algorithms: rs256\n"),
     {{7, 17, "providers[0].algorithms", "unknown algorithm 'rs256'"}}},

    // Providers: policy values and timings.
    {"empty audiences",
     cat(with_provider, "    audiences: []\n"),
     {{7, 16, "providers[0].audiences", "must not be empty"}}},
    {"empty audience string",
     cat(with_provider, "    audiences: [api, '']\n"),
     {{7, 22, "providers[0].audiences[1]", "must not be empty"}}},
    {"sub-second clock skew",
     cat(with_provider, "    clock_skew: 1500ms\n"),
     {{7, 17, "providers[0].clock_skew", "must be a whole number of seconds"}}},
    {"zero max_token_lifetime",
     cat(with_provider, "    max_token_lifetime: 0s\n"),
     {{7, 25, "providers[0].max_token_lifetime", "must be greater than 0"}}},
    {"min refresh above refresh",
     cat(with_provider, "    jwks_refresh_interval: 1m\n    jwks_min_refresh_interval: 5m\n"),
     {{8, 32, "providers[0].jwks_min_refresh_interval", "must not exceed jwks_refresh_interval"}}},
    {"refresh below the default floor",
     cat(with_provider, "    jwks_refresh_interval: 10s\n"),
     {{7, 28, "providers[0].jwks_refresh_interval", "must not exceed jwks_refresh_interval"}}},
    {"zero fetch timeout",
     cat(with_provider, "    jwks_fetch_timeout: 0s\n"),
     {{7, 25, "providers[0].jwks_fetch_timeout", "must be greater than 0"}}},
    {"require_exp not a boolean",
     cat(with_provider, "    require_exp: 1\n"),
     {{7, 18, "providers[0].require_exp", "expected true or false (got '1')"}}},

    // Providers: token sources.
    {"token source without kind",
     cat(with_provider, "    token_sources:\n      - {}\n"),
     {{8, 9, "providers[0].token_sources[0]", "needs one of header, cookie, query"}}},
    {"token source with two kinds",
     cat(with_provider, "    token_sources:\n      - header: X-A\n        cookie: c\n"),
     {{9, 9, "providers[0].token_sources[0].cookie", "exactly one of header, cookie, query"}}},
    {"scheme on a cookie source",
     cat(with_provider, "    token_sources:\n      - cookie: c\n        scheme: Bearer\n"),
     {{9, 9, "providers[0].token_sources[0].scheme", "'scheme' is only for a header source"}}},
    {"bad token header name",
     cat(with_provider, "    token_sources:\n      - header: \"X A\"\n"),
     {{8, 17, "providers[0].token_sources[0].header", "not a valid header name"}}},
    {"bad query name",
     cat(with_provider, "    token_sources:\n      - query: a&b\n"),
     {{8, 16, "providers[0].token_sources[0].query", "not a valid query name"}}},
    {"bad cookie name",
     cat(with_provider, "    token_sources:\n      - cookie: \"a;b\"\n"),
     {{8, 17, "providers[0].token_sources[0].cookie", "not a valid cookie name"}}},
    {"empty token sources",
     cat(with_provider, "    token_sources: []\n"),
     {{7, 20, "providers[0].token_sources", "must not be empty"}}},

    // Providers: claim headers.
    {"claim into Host",
     cat(with_provider, "    claims_to_headers:\n      sub: Host\n"),
     {{8, 12, "providers[0].claims_to_headers.sub", "'Host' cannot carry claims"}}},
    {"claim into Content-Length",
     cat(with_provider, "    claims_to_headers:\n      sub: content-length\n"),
     {{8, 12, "providers[0].claims_to_headers.sub", "cannot carry claims"}}},
    {"claim header not a token",
     cat(with_provider, "    claims_to_headers:\n      sub: X User\n"),
     {{8, 12, "providers[0].claims_to_headers.sub", "not a valid header name"}}},
    {"claim header used twice",
     cat(with_provider, "    claims_to_headers:\n      sub: X-U\n      email: x-u\n"),
     {{9, 14, "providers[0].claims_to_headers.email",
       "already set from providers[0].claims_to_headers.sub"}}},
    {"bad claim path",
     cat(with_provider, "    claims_to_headers:\n      a..b: X-A\n"),
     {{8, 7, "providers[0].claims_to_headers.a..b", "not a valid claim path"}}},
    {"payload header equals a claim header",
     cat(with_provider, "    claims_to_headers:\n      sub: X-U\n    payload_header: X-U\n"),
     {{9, 21, "providers[0].payload_header", "already set from"}}},
    {"claim header is a token header",
     cat(with_provider, "    token_sources:\n      - header: X-Token\n"
                        "    claims_to_headers:\n      sub: x-token\n"),
     {{10, 12, "providers[0].claims_to_headers.sub",
       "'x-token' is a token source header of providers[0]"}}},
    {"claim header is another provider's token header",
     cat(with_provider, "    claims_to_headers:\n      sub: X-Token\n"
                        "  - name: b\n    issuer: https://issuer-b.test\n"
                        "    jwks_uri: https://issuer-b.test/jwks\n"
                        "    token_sources:\n      - header: X-Token\n"),
     {{8, 12, "providers[0].claims_to_headers.sub",
       "'X-Token' is a token source header of providers[1]"}}},

    // Rules.
    {"prefix with dot segments",
     cat(upstream_only, "rules:\n  - prefix: /alpha/beta/../gamma\n"),
     {{4, 13, "rules[0].prefix", "is not a normalised path (write '/alpha/gamma')"}}},
    {"prefix without leading slash",
     cat(upstream_only, "rules:\n  - prefix: alpha//beta\n"),
     {{4, 13, "rules[0].prefix", "is not a normalised path: it must start with '/'"}}},
    {"prefix with double slash",
     cat(upstream_only, "rules:\n  - prefix: /a//b\n"),
     {{4, 13, "rules[0].prefix", "(write '/a/b')"}}},
    {"prefix with encoded slash",
     cat(upstream_only, "rules:\n  - prefix: /a%2Fb\n"),
     {{4, 13, "rules[0].prefix", "is not a normalised path: "}}},
    {"prefix with encoded unreserved",
     cat(upstream_only, "rules:\n  - prefix: /%61pi\n"),
     {{4, 13, "rules[0].prefix", "(write '/api')"}}},
    {"rule names an unknown provider",
     cat(with_provider, "rules:\n  - prefix: /a\n    providers: [a, zuplo]\n"),
     {{9, 20, "rules[0].providers[1]", "unknown provider 'zuplo'"}}},
    {"empty rule providers",
     cat(with_provider, "rules:\n  - prefix: /a\n    providers: []\n"),
     {{9, 16, "rules[0].providers", "must not be empty"}}},
    {"bad method",
     cat(upstream_only, "rules:\n  - prefix: /a\n    methods: [GET, \"G T\"]\n"),
     {{5, 20, "rules[0].methods[1]", "'G T' is not a valid method"}}},
    {"require on a public rule",
     cat(upstream_only, "rules:\n  - prefix: /a\n    auth: none\n    require:\n"
                        "      scopes: [x]\n"),
     {{6, 5, "rules[0].require", "has no effect with auth: none"}}},
    {"require on a deny rule",
     cat(upstream_only, "rules:\n  - prefix: /a\n    auth: deny\n    require:\n"
                        "      claims: {role: admin}\n"),
     {{6, 5, "rules[0].require", "has no effect with auth: deny"}}},
    {"scope with a space",
     cat(upstream_only, "rules:\n  - prefix: /a\n    require:\n      scopes: [\"a b\"]\n"),
     {{6, 16, "rules[0].require.scopes[0]", "a scope cannot contain spaces"}}},
    {"claim value is a list",
     cat(upstream_only, "rules:\n  - prefix: /a\n    require:\n      claims:\n        role: [a]\n"),
     {{7, 15, "rules[0].require.claims.role", "expected a string, boolean or number"}}},
    {"claim value empty",
     cat(upstream_only, "rules:\n  - prefix: /a\n    require:\n      claims:\n        role:\n"),
     {{7, 9, "rules[0].require.claims.role", "expected a string, boolean or number"}}},
    {"duplicate prefix",
     cat(upstream_only, "rules:\n  - prefix: /a\n  - prefix: /a\n    auth: none\n"),
     {{5, 13, "rules[1].prefix", "the rule on line 4 has the same prefix"}}},
    {"duplicate prefix with overlapping methods",
     cat(upstream_only, "rules:\n  - prefix: /a\n    methods: [GET, PUT]\n"
                        "  - prefix: /a\n    methods: [put]\n"),
     {{6, 13, "rules[1].prefix", "the rule on line 4 has the same prefix"}}},
    {"duplicate prefix, second without methods",
     cat(upstream_only, "rules:\n  - prefix: /a\n    methods: [GET]\n  - prefix: /a\n"),
     {{6, 13, "rules[1].prefix", "the rule on line 4 has the same prefix"}}},

    // YAML and environment.
    {"yaml syntax error",
     "upstream:\n  url: http://h\n  timeout: [30s\n",
     {{4, 1, "", "YAML syntax error"}}},
    {"yaml bad indentation",
     "upstream:\n  url: http://h\n timeout: 30s\n",
     {{3, 2, "", "YAML syntax error"}}},
    {"two documents",
     "upstream:\n  url: http://h\n---\nupstream:\n  url: http://h\n",
     {{4, 1, "", "only one YAML document is allowed"}}},
    {"env unset",
     "upstream:\n  url: ${NOPE}\n",
     {{2, 8, "", "environment variable NOPE is not set"}}},
    {"env unset after a set one",
     "upstream:\n  url: http://${HOST}:${NOPE}\n",
     {{2, 23, "", "environment variable NOPE is not set"}},
     {{"HOST", "h"}}},
    {"every env problem",
     "upstream:\n  url: ${A}\nlisten:\n  port: ${1X}\n  address: ${B\n",
     {{2, 8, "", "environment variable A is not set"},
      {4, 9, "", "malformed reference '${1X}'"},
      {5, 12, "", "unterminated ${...} reference"}}},
    {"env value with a newline",
     "upstream:\n  url: ${U}\n",
     {{2, 8, "", "environment variable U contains a line break"}},
     {{"U", "http://h\nlisten: 1"}}},
    {"column after a substitution",
     cat(upstream_only, "limits: {header_timeout: ${T}, idle_timeout: bogus}\n"),
     {{3, 46, "limits.idle_timeout", "'bogus' is not a duration"}},
     {{"T", "10s"}}},
    {"error inside a substituted value",
     cat(upstream_only, "limits: {idle_timeout: 5s, header_timeout: ${T}}\n"),
     {{3, 44, "limits.header_timeout", "'bogus' is not a duration"}},
     {{"T", "bogus"}}},

    // Every problem is reported, in file order.
    {"every problem",
     "listen:\n"                           // 1
     "  port: 0\n"                         // 2
     "upstream:\n"                         // 3
     "  url: http://127.0.0.1:3000\n"      // 4
     "  timeout: soon\n"                   // 5
     "providers:\n"                        // 6
     "  - name: a\n"                       // 7
     "    jwks_uri: https://i.test/jwks\n" // 8
     "    audience: x\n"                   // 9
     "rules:\n"                            // 10
     "  - prefix: /x/./y\n"                // 11
     "    auth: maybe\n"                   // 12
     "    providers: [b]\n"                // 13
     "default_auth: sometimes\n",          // 14
     {{2, 9, "listen.port", "must be between 1 and 65535"},
      {5, 12, "upstream.timeout", "'soon' is not a duration"},
      {7, 5, "providers[0].issuer", "missing required key 'issuer'"},
      {9, 5, "providers[0].audience", "unknown key 'audience'"},
      {11, 13, "rules[0].prefix", "(write '/x/y')"},
      {12, 11, "rules[0].auth", "must be one of"},
      {13, 17, "rules[0].providers[0]", "unknown provider 'b'"},
      {14, 15, "default_auth", "must be one of"}}},
};

BOOST_DATA_TEST_CASE(planted_errors_are_all_reported_where_they_are, bdata::make(error_rows), row) {
    const auto r = load(row.yaml, env_with(row.env));
    BOOST_TEST(!r.cfg.has_value());
    BOOST_TEST_REQUIRE(r.diagnostics.size() == row.diagnostics.size(), all_diagnostics(r));
    for (std::size_t i = 0; i < row.diagnostics.size(); ++i) {
        const auto& got = r.diagnostics[i];
        const auto& exp = row.diagnostics[i];
        BOOST_TEST_CONTEXT(format_diagnostic("test.yaml", got)) {
            BOOST_TEST(got.line == exp.line);
            if (exp.column != 0)
                BOOST_TEST(got.column == exp.column);
            BOOST_TEST(got.key_path == exp.key_path);
            BOOST_TEST(got.message.find(exp.message) != std::string::npos, got.message);
        }
    }
}

// ----------------------------------------------------------------- defaults and values

BOOST_AUTO_TEST_CASE(minimal_config_has_the_spec_defaults) {
    const config c = load_ok(upstream_only);
    BOOST_TEST(c.file == "test.yaml");
    BOOST_TEST(c.listen.address == "0.0.0.0");
    BOOST_TEST(c.listen.port == 8080);
    BOOST_TEST(!c.listen.tls.has_value());
    BOOST_TEST(c.threads == 0u);
    BOOST_TEST(c.token_cache_max_entries == 10000u);
    BOOST_TEST(c.admin.address == "127.0.0.1");
    BOOST_TEST(c.admin.port == 9901);
    BOOST_TEST(c.upstream.url == "http://127.0.0.1:3000");
    BOOST_TEST(!c.upstream.https);
    BOOST_TEST(c.upstream.host == "127.0.0.1");
    BOOST_TEST(c.upstream.port == 3000);
    BOOST_TEST(c.upstream.path_prefix == "");
    BOOST_TEST(c.upstream.connect_timeout.count() == 2000);
    BOOST_TEST(c.upstream.timeout.count() == 30000);
    BOOST_TEST(c.upstream.idle_timeout.count() == 60000);
    BOOST_TEST(c.upstream.max_idle_connections == 256u);
    BOOST_TEST(c.upstream.ca_file == "");
    BOOST_TEST(c.limits.max_header_bytes == 16u * 1024);
    BOOST_TEST(c.limits.max_token_bytes == 8u * 1024);
    BOOST_TEST(c.limits.max_body_bytes == 0u);
    BOOST_TEST(c.limits.header_timeout.count() == 10000);
    BOOST_TEST(c.limits.idle_timeout.count() == 60000);
    BOOST_TEST(c.limits.drain_timeout.count() == 15000);
    BOOST_TEST(c.providers.empty());
    BOOST_TEST(c.strip_request_headers.empty());
    BOOST_TEST(c.rules.ordered().empty());
    BOOST_TEST((c.default_auth == auth_kind::required));
    BOOST_TEST(c.cors_preflight_bypass);
    BOOST_TEST((c.log.level == log_level::info));
    BOOST_TEST(c.log.access_log);
}

BOOST_AUTO_TEST_CASE(provider_defaults_follow_the_spec) {
    const config c = load_ok(with_provider);
    BOOST_TEST_REQUIRE(c.providers.size() == 1u);
    const provider_config& p = c.providers[0];
    BOOST_TEST(p.name == "a");
    BOOST_TEST(p.line == 4);
    BOOST_TEST((p.source == key_source_kind::jwks_uri));
    BOOST_TEST(p.remote());
    BOOST_TEST(p.jwks_uri == "https://issuer-a.test/jwks");
    BOOST_TEST(p.policy.issuer == "https://issuer-a.test");
    BOOST_TEST(p.policy.audiences.empty());
    BOOST_TEST((p.policy.algorithms == asymmetric_algorithms()));
    BOOST_TEST(!p.policy.allows(jws_alg::HS256));
    BOOST_TEST(p.policy.allows(jws_alg::EdDSA));
    BOOST_TEST(p.policy.clock_skew == 30);
    BOOST_TEST(p.policy.require_exp);
    BOOST_TEST(!p.policy.max_token_lifetime.has_value());
    BOOST_TEST(p.policy.token_types.empty());
    BOOST_TEST(p.jwks_refresh_interval.count() == 600000);
    BOOST_TEST(p.jwks_min_refresh_interval.count() == 30000);
    BOOST_TEST(p.jwks_fetch_timeout.count() == 5000);
    BOOST_TEST(p.jwks_max_stale.count() == 24 * 3600 * 1000);
    BOOST_TEST(p.jwks_ca_file == "");
    BOOST_TEST_REQUIRE(p.token_sources.size() == 1u);
    BOOST_TEST((p.token_sources[0].kind == token_source_kind::header));
    BOOST_TEST(p.token_sources[0].name == "Authorization");
    BOOST_TEST(p.token_sources[0].scheme == "Bearer");
    BOOST_TEST(p.claims_to_headers.empty());
    BOOST_TEST(p.payload_header == "");
    BOOST_TEST(p.forward_token);
    BOOST_TEST(c.find_provider("a") == &p);
    BOOST_TEST(c.find_provider("b") == nullptr);
    BOOST_TEST(c.find_issuer("https://issuer-a.test") == &p);
    BOOST_TEST(c.find_issuer("https://issuer-a.test/") == nullptr);
}

// The SPEC's example, verbatim.
constexpr std::string_view spec_example = R"(listen:
  address: 0.0.0.0          # default 0.0.0.0 (accepts IPv6 literals too)
  port: 8080
  tls:                      # optional TLS termination
    cert_file: /etc/jwtgate/tls.crt
    key_file: /etc/jwtgate/tls.key
threads: 0                  # worker threads; 0 = one per core
token_cache:
  max_entries: 10000        # verified-token cache; 0 disables it
admin:                      # separate listener: /healthz /readyz /metrics
  address: 127.0.0.1
  port: 9901
upstream:
  url: http://127.0.0.1:3000          # http:// or https:// origin; path prefix allowed
  connect_timeout: 2s
  timeout: 30s                        # until the response head arrives
  idle_timeout: 60s                   # pooled keep-alive connections
  max_idle_connections: 256
  ca_file: /etc/ssl/certs/ca.pem      # https upstream only; default system store
limits:
  max_header_bytes: 16KiB             # request head; larger -> 431
  max_token_bytes: 8KiB               # larger -> 401 invalid
  max_body_bytes: 0                   # 0 = unlimited; bodies are streamed, never buffered whole
  header_timeout: 10s                 # client must send the whole head within this
  idle_timeout: 60s                   # client keep-alive
  drain_timeout: 15s                  # graceful shutdown
providers:
  - name: zuplo
    issuer: https://my-api-a32f34.zuplo.api/__zuplo/issuer   # exact match on "iss"
    jwks_uri: https://my-api-a32f34.zuplo.api/__zuplo/issuer/.well-known/jwks.json
    # exactly one key source: jwks_uri | discovery: true (read jwks_uri from
    # {issuer}/.well-known/openid-configuration) | jwks_file (watched for changes) | jwks (inline)
    audiences: [my-api]               # optional; if set, "aud" must contain one of them
    algorithms: [RS256]               # allowlist; default all asymmetric: RS256/384/512,
                                      # PS256/384/512, ES256/384/512, EdDSA. HS* only with a
                                      # local "oct" key, never from a remote JWKS.
    clock_skew: 30s
    require_exp: true
    max_token_lifetime: 24h           # optional: reject exp - iat (or exp - now) above this
    token_types: [JWT, at+jwt]        # optional: allowlist for the "typ" header (case-insensitive)
    jwks_refresh_interval: 10m        # upper bound; Cache-Control max-age honoured below it
    jwks_min_refresh_interval: 30s    # floor between fetches, also for unknown-kid refetch
    jwks_fetch_timeout: 5s
    jwks_max_stale: 24h               # keys older than this without a good refresh are dropped
    jwks_ca_file: /etc/ssl/certs/ca.pem   # optional
    token_sources:                    # tried in order; default Authorization: Bearer
      - header: Authorization
        scheme: Bearer
      - cookie: access_token
      - query: access_token           # removed from the forwarded URL
    claims_to_headers:                # claim (dotted path into nested objects) -> header
      sub: X-User-Id
      email: X-User-Email
      scope: X-User-Scope
      org.id: X-Org-Id
    payload_header: X-Jwt-Payload     # optional: whole verified payload, base64url JSON
    forward_token: true               # false strips the token from wherever it was found
strip_request_headers: [X-Internal-Auth]   # also removed from every incoming request
rules:                                # longest matching prefix wins
  - prefix: /protected
    auth: required                    # required | optional | none | deny
    providers: [zuplo]                # default: any provider
    methods: [GET, POST]              # optional; a rule with methods only matches those
    mode: enforce                     # enforce | shadow: decide, log and count, but forward
                                      # as if allowed (no claim headers when the token failed)
    require:                          # optional, checked after a valid token -> else 403
      scopes: [orders:read]           # all must appear in "scope" (space-separated) or "scp" (array)
      claims: {role: admin}           # claim equals the value, or is an array containing it
  - prefix: /
    auth: none
default_auth: required                # when no rule matches
cors_preflight: bypass                # OPTIONS with Origin + Access-Control-Request-Method
                                      # passes without a token; "enforce" to disable
log:
  level: info                         # debug | info | warn | error
  access_log: true                    # one JSON line per request on stdout
)";

BOOST_AUTO_TEST_CASE(spec_example_loads_with_its_values) {
    const config c = load_ok(spec_example);
    BOOST_TEST_REQUIRE(c.listen.tls.has_value());
    BOOST_TEST(c.listen.tls->cert_file == "/etc/jwtgate/tls.crt");
    BOOST_TEST(c.listen.tls->key_file == "/etc/jwtgate/tls.key");
    BOOST_TEST(c.upstream.ca_file == "/etc/ssl/certs/ca.pem");
    BOOST_TEST_REQUIRE(c.providers.size() == 1u);
    const provider_config& p = c.providers[0];
    BOOST_TEST(p.name == "zuplo");
    BOOST_TEST(p.policy.issuer == "https://my-api-a32f34.zuplo.api/__zuplo/issuer");
    BOOST_TEST(p.jwks_uri ==
               "https://my-api-a32f34.zuplo.api/__zuplo/issuer/.well-known/jwks.json");
    BOOST_TEST(p.policy.audiences == std::vector<std::string>{"my-api"});
    BOOST_TEST(p.policy.algorithms.count() == 1u);
    BOOST_TEST(p.policy.allows(jws_alg::RS256));
    BOOST_TEST(p.policy.max_token_lifetime.value_or(0) == 24 * 3600);
    BOOST_TEST(p.policy.token_types == (std::vector<std::string>{"jwt", "at+jwt"}));
    BOOST_TEST(p.jwks_ca_file == "/etc/ssl/certs/ca.pem");
    BOOST_TEST_REQUIRE(p.token_sources.size() == 3u);
    BOOST_TEST((p.token_sources[1].kind == token_source_kind::cookie));
    BOOST_TEST(p.token_sources[1].name == "access_token");
    BOOST_TEST((p.token_sources[2].kind == token_source_kind::query));
    BOOST_TEST(p.token_sources[2].name == "access_token");
    const std::vector<std::pair<std::string, std::string>> headers = {{"sub", "X-User-Id"},
                                                                      {"email", "X-User-Email"},
                                                                      {"scope", "X-User-Scope"},
                                                                      {"org.id", "X-Org-Id"}};
    BOOST_TEST((p.claims_to_headers == headers));
    BOOST_TEST(p.payload_header == "X-Jwt-Payload");
    BOOST_TEST(c.strip_request_headers == std::vector<std::string>{"X-Internal-Auth"});
    const auto& rules = c.rules.ordered();
    BOOST_TEST_REQUIRE(rules.size() == 2u);
    BOOST_TEST(rules[0].prefix == "/protected");
    BOOST_TEST(rules[0].line == 60);
    BOOST_TEST((rules[0].auth == auth_kind::required));
    BOOST_TEST(rules[0].providers == std::vector<std::string>{"zuplo"});
    BOOST_TEST(rules[0].methods == (std::vector<std::string>{"GET", "POST"}));
    BOOST_TEST((rules[0].mode == rule_mode::enforce));
    BOOST_TEST(rules[0].require_scopes == std::vector<std::string>{"orders:read"});
    BOOST_TEST_REQUIRE(rules[0].require_claims.size() == 1u);
    BOOST_TEST(rules[0].require_claims[0].first == "role");
    BOOST_TEST(rules[0].require_claims[0].second == boost::json::value("admin"));
    BOOST_TEST(rules[1].prefix == "/");
    BOOST_TEST((rules[1].auth == auth_kind::none));
}

BOOST_AUTO_TEST_CASE(non_default_values_are_read) {
    const config c = load_ok("listen:\n  address: \"::\"\n  port: 443\n"
                             "admin:\n  address: \"[::1]\"\n  port: 1\n"
                             "threads: 1024\ntoken_cache: {max_entries: 0}\n"
                             "upstream:\n  url: https://[::1]/api/\n  max_idle_connections: 0\n"
                             "limits:\n  max_body_bytes: 1GB\n  drain_timeout: 0s\n"
                             "  max_token_bytes: 512\n"
                             "default_auth: deny\ncors_preflight: enforce\n"
                             "log: {level: warn, access_log: False}\n");
    BOOST_TEST(c.listen.address == "::");
    BOOST_TEST(c.listen.port == 443);
    BOOST_TEST(c.admin.address == "::1");
    BOOST_TEST(c.admin.port == 1);
    BOOST_TEST(c.threads == 1024u);
    BOOST_TEST(c.token_cache_max_entries == 0u);
    BOOST_TEST(c.upstream.https);
    BOOST_TEST(c.upstream.host == "::1");
    BOOST_TEST(c.upstream.port == 443);
    BOOST_TEST(c.upstream.path_prefix == "/api");
    BOOST_TEST(c.upstream.max_idle_connections == 0u);
    BOOST_TEST(c.limits.max_body_bytes == 1000000000u);
    BOOST_TEST(c.limits.drain_timeout.count() == 0);
    BOOST_TEST(c.limits.max_token_bytes == 512u);
    BOOST_TEST((c.default_auth == auth_kind::deny));
    BOOST_TEST(!c.cors_preflight_bypass);
    BOOST_TEST((c.log.level == log_level::warn));
    BOOST_TEST(!c.log.access_log);
}

struct url_row {
    std::string name;
    std::string url;
    bool https;
    std::string host;
    std::uint16_t port;
    std::string prefix;
};

std::ostream& operator<<(std::ostream& os, const url_row& r) {
    return os << r.name;
}

const std::vector<url_row> url_rows = {
    {"http default port", "http://backend", false, "backend", 80, ""},
    {"https default port", "https://backend", true, "backend", 443, ""},
    {"explicit port", "http://127.0.0.1:3000", false, "127.0.0.1", 3000, ""},
    {"port 65535", "http://h:65535", false, "h", 65535, ""},
    {"root path dropped", "http://h/", false, "h", 80, ""},
    {"prefix kept", "http://h/api/v1", false, "h", 80, "/api/v1"},
    {"trailing slash removed", "https://h:8443/api/", true, "h", 8443, "/api"},
    {"IPv6 literal", "http://[::1]:3000", false, "::1", 3000, ""},
    {"scheme case-insensitive", "HTTPS://h", true, "h", 443, ""},
};

BOOST_DATA_TEST_CASE(upstream_url_is_split, bdata::make(url_rows), row) {
    const config c = load_ok("upstream:\n  url: " + row.url + "\n");
    BOOST_TEST(c.upstream.url == row.url);
    BOOST_TEST(c.upstream.https == row.https);
    BOOST_TEST(c.upstream.host == row.host);
    BOOST_TEST(c.upstream.port == row.port);
    BOOST_TEST(c.upstream.path_prefix == row.prefix);
}

// ----------------------------------------------------------------- env substitution

BOOST_AUTO_TEST_CASE(env_variables_are_substituted) {
    const auto env = env_with({{"PORT", "9000"}, {"EMPTY", ""}, {"HOST", "backend"}});
    const config c = load_ok("listen:\n  port: ${PORT}\n"
                             "upstream:\n  url: http://${HOST}:${UPORT:-3001}/${EMPTY:-x}\n"
                             "  ca_file: \"${EMPTY}\"\n",
                             env);
    BOOST_TEST(c.listen.port == 9000);
    BOOST_TEST(c.upstream.host == "backend");
    BOOST_TEST(c.upstream.port == 3001);
    BOOST_TEST(c.upstream.path_prefix == "/x"); // ":-" also applies to an empty variable
    BOOST_TEST(c.upstream.ca_file == "");
}

BOOST_AUTO_TEST_CASE(env_default_may_be_empty_or_contain_colons) {
    const config c = load_ok("upstream:\n  url: ${U:-http://h:81}\n  ca_file: \"${C:-}\"\n");
    BOOST_TEST(c.upstream.port == 81);
    BOOST_TEST(c.upstream.ca_file == "");
}

BOOST_AUTO_TEST_CASE(dollars_without_braces_and_comments_are_left_alone) {
    const config c = load_ok("# ${NOT_SET} in a comment is not substituted\n"
                             "upstream:   # nor ${HERE}\n"
                             "  url: http://h\n"
                             "  ca_file: a$$b$c#${X:-d}\n");
    // '#' inside a plain scalar (no blank before it) is not a comment.
    BOOST_TEST(c.upstream.ca_file == "a$$b$c#d");
}

BOOST_AUTO_TEST_CASE(a_reference_inside_quotes_with_a_hash_is_substituted) {
    const config c =
        load_ok("upstream:\n  url: http://h\n  ca_file: \"a #${X}\"\n", env_with({{"X", "y"}}));
    BOOST_TEST(c.upstream.ca_file == "a #y");
}

BOOST_AUTO_TEST_CASE(process_env_reads_the_environment) {
    const auto env = process_env();
    BOOST_TEST(!env("JWTGATE_TEST_SURELY_UNSET_VARIABLE_42").has_value());
    BOOST_TEST(env("PATH").has_value());
}

// ----------------------------------------------------------------- value parsers

struct duration_row {
    std::string text;
    std::optional<std::int64_t> millis;
};

std::ostream& operator<<(std::ostream& os, const duration_row& r) {
    return os << '"' << r.text << '"';
}

const std::vector<duration_row> duration_rows = {
    {"500ms", 500},
    {"30s", 30000},
    {"10m", 600000},
    {"1h", 3600000},
    {"1h30m", 5400000},
    {"2m30s", 150000},
    {"1h2m3s4ms", 3723004},
    {"0s", 0},
    {"0ms", 0},
    {"90s", 90000},
    {"9223372036854ms", 9223372036854}, // the largest that fits int64 nanoseconds
    {"9223372036855ms", std::nullopt},
    {"2562047h", 2562047LL * 3600000},
    {"2562048h", std::nullopt},
    {"99999999999999999999999s", std::nullopt},
    {"", std::nullopt},
    {"30", std::nullopt},
    {"0", std::nullopt},
    {"s", std::nullopt},
    {"1.5h", std::nullopt},
    {"-1s", std::nullopt},
    {"+1s", std::nullopt},
    {" 1s", std::nullopt},
    {"1s ", std::nullopt},
    {"1 s", std::nullopt},
    {"1d", std::nullopt},
    {"1S", std::nullopt},
    {"1m1h", std::nullopt},
    {"1s1s", std::nullopt},
    {"1h30", std::nullopt},
    {"10 parsecs", std::nullopt},
};

BOOST_DATA_TEST_CASE(parse_duration_table, bdata::make(duration_rows), row) {
    const auto d = parse_duration(row.text);
    BOOST_TEST(d.has_value() == row.millis.has_value());
    if (d && row.millis)
        BOOST_TEST(d->count() == *row.millis);
}

struct size_row {
    std::string text;
    std::optional<std::uint64_t> bytes;
};

std::ostream& operator<<(std::ostream& os, const size_row& r) {
    return os << '"' << r.text << '"';
}

const std::vector<size_row> size_rows = {
    {"512", 512},
    {"0", 0},
    {"512B", 512},
    {"8KiB", 8192},
    {"1MiB", 1048576},
    {"2GiB", 2147483648ull},
    {"1TiB", 1099511627776ull},
    {"16KB", 16000},
    {"16kB", 16000},
    {"3MB", 3000000},
    {"1GB", 1000000000},
    {"18446744073709551615", 18446744073709551615ull},
    {"18446744073709551616", std::nullopt},
    {"16777215TiB", 16777215ull * 1099511627776ull},
    {"16777216TiB", std::nullopt},
    {"", std::nullopt},
    {"KiB", std::nullopt},
    {"8 KiB", std::nullopt},
    {"8kib", std::nullopt},
    {"8K", std::nullopt},
    {"1.5MiB", std::nullopt},
    {"-1", std::nullopt},
    {"sixteen", std::nullopt},
};

BOOST_DATA_TEST_CASE(parse_size_table, bdata::make(size_rows), row) {
    const auto s = parse_size(row.text);
    BOOST_TEST(s.has_value() == row.bytes.has_value());
    if (s && row.bytes)
        BOOST_TEST(*s == *row.bytes);
}

// ----------------------------------------------------------------- providers

BOOST_AUTO_TEST_CASE(inline_jwks_as_a_one_line_flow_mapping) {
    const std::string one_line = example_jwks_one_line();
    BOOST_TEST_REQUIRE(one_line.find('\n') == std::string::npos);
    const config c = load_ok(cat(upstream_only, "providers:\n  - name: local\n"
                                                "    issuer: https://i.test\n"
                                                "    jwks: " +
                                                    one_line + "\n"));
    const provider_config& p = c.providers.at(0);
    BOOST_TEST((p.source == key_source_kind::inline_jwks));
    BOOST_TEST(!p.remote());
    BOOST_TEST((boost::json::parse(p.inline_jwks) == boost::json::parse(example_jwks())));
}

BOOST_AUTO_TEST_CASE(inline_jwks_as_a_block_mapping) {
    const auto jwks = boost::json::parse(example_jwks()).as_object();
    const auto& key = jwks.at("keys").as_array().at(0).as_object();
    std::string yaml = cat(upstream_only, "providers:\n  - name: local\n"
                                          "    issuer: https://i.test\n"
                                          "    jwks:\n      keys:\n");
    bool first = true;
    for (const auto& [name, value] : key) {
        yaml += first ? "        - " : "          ";
        yaml += std::string(name) + ": " + std::string(value.as_string()) + "\n";
        first = false;
    }
    const config c = load_ok(yaml);
    BOOST_TEST((boost::json::parse(c.providers.at(0).inline_jwks) == boost::json::value(jwks)));
}

BOOST_AUTO_TEST_CASE(inline_jwks_as_a_json_string) {
    std::string quoted = "'" + example_jwks_one_line() + "'";
    const config c = load_ok(cat(upstream_only, "providers:\n  - name: local\n"
                                                "    issuer: https://i.test\n"
                                                "    jwks: " +
                                                    quoted + "\n"));
    BOOST_TEST(c.providers.at(0).inline_jwks == example_jwks_one_line());
}

BOOST_AUTO_TEST_CASE(hs_algorithms_are_allowed_with_a_local_oct_key) {
    // A 32-byte secret, base64url.
    const std::string oct = R"({"keys": [{"kty": "oct", "kid": "s1", "alg": "HS256", )"
                            R"("k": "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA"}]})";
    const config c = load_ok(cat(upstream_only, "providers:\n  - name: local\n"
                                                "    issuer: https://i.test\n"
                                                "    jwks: " +
                                                    oct +
                                                    "\n"
                                                    "    algorithms: [HS256, RS256]\n"
                                                    "  - name: file\n"
                                                    "    issuer: https://f.test\n"
                                                    "    jwks_file: keys/hmac.json\n"
                                                    "    algorithms: HS512\n"));
    const auto& local = c.providers.at(0).policy;
    BOOST_TEST(local.algorithms.count() == 2u);
    BOOST_TEST(local.allows(jws_alg::HS256));
    BOOST_TEST(local.allows(jws_alg::RS256));
    const provider_config& file = c.providers.at(1);
    BOOST_TEST((file.source == key_source_kind::jwks_file));
    BOOST_TEST(file.jwks_file == "keys/hmac.json");
    BOOST_TEST(file.policy.algorithms.count() == 1u);
    BOOST_TEST(file.policy.allows(jws_alg::HS512));
}

BOOST_AUTO_TEST_CASE(discovery_provider) {
    const config c = load_ok(cat(upstream_only, "providers:\n  - name: kc\n"
                                                "    issuer: https://kc.test/realms/x\n"
                                                "    discovery: true\n"
                                                "    jwks_min_refresh_interval: 10m\n"));
    const provider_config& p = c.providers.at(0);
    BOOST_TEST((p.source == key_source_kind::discovery));
    BOOST_TEST(p.remote());
    BOOST_TEST(p.jwks_uri == "");
    BOOST_TEST(p.jwks_min_refresh_interval.count() == 600000); // equal to the refresh: allowed
}

BOOST_AUTO_TEST_CASE(discovery_false_next_to_a_key_source_is_not_a_second_source) {
    const config c = load_ok(cat(with_provider, "    discovery: false\n"));
    BOOST_TEST((c.providers.at(0).source == key_source_kind::jwks_uri));
}

BOOST_AUTO_TEST_CASE(provider_policy_values) {
    const config c = load_ok(cat(with_provider, "    audiences: api-a\n"
                                                "    clock_skew: 0s\n"
                                                "    require_exp: false\n"
                                                "    max_token_lifetime: 1h30m\n"
                                                "    token_types: [application/AT+JWT, JWT]\n"
                                                "    forward_token: false\n"
                                                "    token_sources:\n"
                                                "      - header: X-Token\n"
                                                "      - header: authorization\n"
                                                "      - header: X-Raw\n"
                                                "        scheme: Token\n"
                                                "      - header: Authorization\n"
                                                "        scheme: ''\n"
                                                "    claims_to_headers:\n"
                                                "      org.id: X-Org\n"
                                                "    payload_header: X-Payload\n"));
    const provider_config& p = c.providers.at(0);
    BOOST_TEST(p.policy.audiences == std::vector<std::string>{"api-a"});
    BOOST_TEST(p.policy.clock_skew == 0);
    BOOST_TEST(!p.policy.require_exp);
    BOOST_TEST(p.policy.max_token_lifetime.value_or(0) == 5400);
    BOOST_TEST(p.policy.token_types == (std::vector<std::string>{"at+jwt", "jwt"}));
    BOOST_TEST(!p.forward_token);
    BOOST_TEST_REQUIRE(p.token_sources.size() == 4u);
    BOOST_TEST(p.token_sources[0].scheme == ""); // not Authorization: the whole value
    BOOST_TEST(p.token_sources[1].scheme == "Bearer");
    BOOST_TEST(p.token_sources[2].scheme == "Token");
    BOOST_TEST(p.token_sources[3].scheme == "");
    BOOST_TEST(p.claims_to_headers.at(0).first == "org.id");
    BOOST_TEST(p.payload_header == "X-Payload");
}

BOOST_AUTO_TEST_CASE(providers_may_share_claim_headers) {
    const config c = load_ok(cat(with_provider, "    claims_to_headers: {sub: X-User-Id}\n"
                                                "  - name: b\n"
                                                "    issuer: https://issuer-b.test\n"
                                                "    jwks_uri: http://127.0.0.1:1/jwks\n"
                                                "    claims_to_headers: {sub: X-User-Id}\n"));
    BOOST_TEST(c.providers.size() == 2u);
    BOOST_TEST(c.providers[1].line == 8);
}

// ----------------------------------------------------------------- rules

BOOST_AUTO_TEST_CASE(rule_values) {
    const config c = load_ok(cat(with_provider, "rules:\n"
                                                "  - prefix: /api/\n"
                                                "    auth: optional\n"
                                                "    methods: [get, Post]\n"
                                                "    mode: shadow\n"
                                                "    providers: a\n"
                                                "    require:\n"
                                                "      scopes: read\n"
                                                "      claims:\n"
                                                "        role: admin\n"
                                                "        level: 3\n"
                                                "        ratio: 0.5\n"
                                                "        staff: true\n"
                                                "        code: \"3\"\n"
                                                "        org.id: 'x'\n"
                                                "  - prefix: /api/\n"
                                                "    methods: [PUT]\n"
                                                "    auth: deny\n"));
    const auto& rules = c.rules.ordered();
    BOOST_TEST_REQUIRE(rules.size() == 2u);
    const rule& r = rules[0];
    BOOST_TEST(r.line == 8);
    BOOST_TEST((r.auth == auth_kind::optional));
    BOOST_TEST(r.methods == (std::vector<std::string>{"GET", "POST"}));
    BOOST_TEST((r.mode == rule_mode::shadow));
    BOOST_TEST(r.providers == std::vector<std::string>{"a"});
    BOOST_TEST(r.require_scopes == std::vector<std::string>{"read"});
    BOOST_TEST_REQUIRE(r.require_claims.size() == 6u);
    BOOST_TEST(r.require_claims[0].second == boost::json::value("admin"));
    BOOST_TEST(r.require_claims[1].second.is_int64());
    BOOST_TEST(r.require_claims[1].second == boost::json::value(3));
    BOOST_TEST(r.require_claims[2].second.is_double());
    BOOST_TEST(r.require_claims[2].second.as_double() == 0.5);
    BOOST_TEST(r.require_claims[3].second == boost::json::value(true));
    BOOST_TEST(r.require_claims[4].second == boost::json::value("3")); // quoted: a string
    BOOST_TEST(r.require_claims[5].first == "org.id");
    BOOST_TEST(rules[1].methods == std::vector<std::string>{"PUT"});
    BOOST_TEST(rules[1].line == 22);
}

// ----------------------------------------------------------------- summary, files

BOOST_AUTO_TEST_CASE(summary_lists_rules_in_match_order) {
    const config c = load_ok(cat(with_provider, "rules:\n"
                                                "  - prefix: /alpha\n"
                                                "    auth: required\n"
                                                "  - prefix: /alpha/beta/gamma\n"
                                                "    auth: deny\n"
                                                "  - prefix: /alpha/beta\n"
                                                "    auth: none\n"
                                                "    methods: [GET]\n"
                                                "default_auth: optional\n"));
    const std::string s = summarize(c);
    BOOST_TEST_MESSAGE(s);
    BOOST_TEST(s.find("listen: 0.0.0.0:8080") != std::string::npos);
    BOOST_TEST(s.find("admin: 127.0.0.1:9901") != std::string::npos);
    BOOST_TEST(s.find("upstream: http://127.0.0.1:3000") != std::string::npos);
    BOOST_TEST(s.find("a: issuer https://issuer-a.test, keys from jwks_uri "
                      "https://issuer-a.test/jwks") != std::string::npos);
    const auto gamma = s.find("/alpha/beta/gamma ");
    const auto beta = s.find("/alpha/beta ");
    const auto alpha = s.find("/alpha ");
    const auto fallback = s.find("(default)");
    BOOST_TEST_REQUIRE(gamma != std::string::npos);
    BOOST_TEST_REQUIRE(beta != std::string::npos);
    BOOST_TEST_REQUIRE(alpha != std::string::npos);
    BOOST_TEST_REQUIRE(fallback != std::string::npos);
    BOOST_TEST(gamma < beta);
    BOOST_TEST(beta < alpha);
    BOOST_TEST(alpha < fallback);
    BOOST_TEST(s.find("auth=deny", gamma) < beta);
    BOOST_TEST(s.find("methods=GET", beta) < alpha);
    BOOST_TEST(s.find("auth=optional", fallback) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(summary_brackets_ipv6_and_names_tls) {
    const config c = load_ok("listen:\n  address: '::'\n  port: 8443\n"
                             "  tls: {cert_file: c.pem, key_file: k.pem}\n"
                             "upstream: {url: 'http://h'}\n");
    const std::string s = summarize(c);
    BOOST_TEST(s.find("listen: [::]:8443 (TLS") != std::string::npos, s);
}

BOOST_AUTO_TEST_CASE(summary_discovery_url_has_one_slash) {
    const config c = load_ok("upstream: {url: 'http://h'}\n"
                             "providers:\n  - name: a\n    issuer: https://idp.test/realms/x/\n"
                             "    discovery: true\n");
    const std::string s = summarize(c);
    BOOST_TEST(s.find("discovery https://idp.test/realms/x/.well-known/openid-configuration") !=
                   std::string::npos,
               s);
    BOOST_TEST(s.find("x//.well-known") == std::string::npos, s);
}

BOOST_AUTO_TEST_CASE(discovery_url_strips_trailing_slashes) {
    BOOST_TEST(discovery_url("https://a.test") ==
               "https://a.test/.well-known/openid-configuration");
    BOOST_TEST(discovery_url("https://a.test/") ==
               "https://a.test/.well-known/openid-configuration");
    BOOST_TEST(discovery_url("https://a.test/t//") ==
               "https://a.test/t/.well-known/openid-configuration");
}

BOOST_AUTO_TEST_CASE(format_diagnostic_is_file_line_col_path_message) {
    BOOST_TEST(format_diagnostic("cfg.yaml", {14, 5, "rules[2].prefix", "must start with '/'"}) ==
               "cfg.yaml:14:5: rules[2].prefix: must start with '/'");
    BOOST_TEST(format_diagnostic("cfg.yaml", {3, 1, "", "YAML syntax error: x"}) ==
               "cfg.yaml:3:1: YAML syntax error: x");
}

BOOST_AUTO_TEST_CASE(missing_file_is_one_diagnostic) {
    const auto r = load_config_file("/nonexistent-dir/jwtgate-missing.yaml", no_env);
    BOOST_TEST(!r.cfg.has_value());
    BOOST_TEST_REQUIRE(r.diagnostics.size() == 1u);
    BOOST_TEST(r.diagnostics[0].line == 0);
    BOOST_TEST(r.diagnostics[0].column == 0);
    BOOST_TEST(r.diagnostics[0].message.find("No such file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_directory_is_not_a_config_file) {
    const auto r = load_config_file(examples_dir, no_env);
    BOOST_TEST_REQUIRE(r.diagnostics.size() == 1u);
    BOOST_TEST(r.diagnostics[0].message.find("cannot read config file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(example_files_load) {
    const auto full = load_config_file(examples_dir + "/jwtgate.yaml", env_with({}));
    BOOST_TEST_REQUIRE(full.diagnostics.empty(), all_diagnostics(full));
    BOOST_TEST(full.cfg->file == examples_dir + "/jwtgate.yaml");
    BOOST_TEST(full.cfg->listen.port == 8080);
    BOOST_TEST(full.cfg->providers.at(0).jwks_uri.rfind("https://", 0) == 0u);
    const auto ported =
        load_config_file(examples_dir + "/jwtgate.yaml", env_with({{"JWTGATE_PORT", "8181"}}));
    BOOST_TEST_REQUIRE(ported.cfg.has_value());
    BOOST_TEST(ported.cfg->listen.port == 8181);
    const auto local = load_config_file(examples_dir + "/local.yaml", no_env);
    BOOST_TEST_REQUIRE(local.diagnostics.empty(), all_diagnostics(local));
    BOOST_TEST(local.cfg->listen.address == "127.0.0.1");
    BOOST_TEST(local.cfg->upstream.port == 3000);
    BOOST_TEST((local.cfg->providers.at(0).source == key_source_kind::jwks_file));
    BOOST_TEST(local.cfg->providers.at(0).jwks_file == "examples/jwks.json");
}

} // namespace
