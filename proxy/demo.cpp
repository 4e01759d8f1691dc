// The zero-setup demo: an issuer whose JWKS the proxy fetches like any remote one.
#include "proxy/demo.hpp"

#include "core/base64url.hpp"
#include "core/config.hpp"
#include "proxy/cli.hpp"
#include "proxy/server.hpp"
#include "proxy/small_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <charconv>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

namespace jwtgate::proxy {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::string_view demo_kid = "demo-key-1";
constexpr std::string_view demo_audience = "demo-api";

struct pkey_free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

std::string bn_param(EVP_PKEY* key, const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
        throw std::runtime_error("cannot read RSA key parameter");
    }
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
}

// The issuer's public key set: one RS256 key.
std::string public_jwks(EVP_PKEY* key) {
    json::object jwk{{"kty", "RSA"},
                     {"kid", demo_kid},
                     {"use", "sig"},
                     {"alg", "RS256"},
                     {"n", core::base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_N))},
                     {"e", core::base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_E))}};
    return json::serialize(json::object{{"keys", json::array{jwk}}});
}

std::string sign_rs256(EVP_PKEY* key, std::string_view input) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t len = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(input.data());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1) {
        throw std::runtime_error("cannot sign the demo token");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                       input.size()) != 1) {
        throw std::runtime_error("cannot sign the demo token");
    }
    sig.resize(len);
    return sig;
}

std::string mint(EVP_PKEY* key, const std::string& issuer, const json::object& extra,
                 std::int64_t lifetime) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", demo_kid}};
    json::object payload{{"iss", issuer},        {"sub", "demo-user"},
                         {"aud", demo_audience}, {"email", "demo@example.com"},
                         {"scope", "read"},      {"iat", now},
                         {"exp", now + lifetime}};
    for (const auto& [k, v] : extra) {
        payload[k] = v;
    }
    std::string input = core::base64url_encode(json::serialize(header)) + "." +
                        core::base64url_encode(json::serialize(payload));
    return input + "." + core::base64url_encode(sign_rs256(key, input));
}

// The echo upstream answers with what it received, so the demo shows the injected headers.
small_response echo(const small_request& req) {
    json::object headers;
    for (const auto& f : req) {
        headers[std::string(f.name_string())] = std::string(f.value());
    }
    json::object o{{"upstream", "echo"},
                   {"method", std::string(req.method_string())},
                   {"path", std::string(req.target())},
                   {"headers", std::move(headers)},
                   {"body_bytes", req.body().size()}};
    return json_response(req, 200, json::serialize(o) + "\n");
}

std::optional<unsigned short> parse_port(std::string_view s) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v == 0 || v > 65535) {
        return std::nullopt;
    }
    return static_cast<unsigned short>(v);
}

std::string demo_config(unsigned short port, unsigned short admin_port, unsigned short upstream,
                        const std::string& issuer) {
    return "listen:\n  address: 127.0.0.1\n  port: " + std::to_string(port) +
           "\nadmin:\n  address: 127.0.0.1\n  port: " + std::to_string(admin_port) +
           "\nupstream:\n  url: http://127.0.0.1:" + std::to_string(upstream) +
           "\nproviders:\n  - name: demo\n    issuer: " + issuer + "\n    jwks_uri: " + issuer +
           "/.well-known/jwks.json\n    audiences: [" + std::string(demo_audience) +
           "]\n    jwks_min_refresh_interval: 1s\n    claims_to_headers:\n"
           "      sub: X-User-Id\n      email: X-User-Email\n      scope: X-User-Scope\n"
           "rules:\n  - prefix: /public\n    auth: none\n  - prefix: /admin\n"
           "    auth: required\n    require:\n      scopes: [admin]\n"
           "default_auth: required\nlog:\n  level: warn\n  access_log: true\n";
}

} // namespace

int run_demo(std::span<const std::string_view> args) {
    unsigned short port = 8080;
    unsigned short admin_port = 9901;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const bool is_port = args[i] == "--port";
        if ((is_port || args[i] == "--admin-port") && i + 1 < args.size()) {
            auto p = parse_port(args[++i]);
            if (!p) {
                std::cerr << "jwtgate demo: " << args[i - 1] << " needs a port number\n";
                return exit_config;
            }
            (is_port ? port : admin_port) = *p;
            continue;
        }
        std::cerr << "jwtgate demo: unknown argument '" << args[i]
                  << "'\nusage: jwtgate demo [--port 8080] [--admin-port 9901]\n";
        return exit_config;
    }

    pkey_ptr key(EVP_RSA_gen(2048));
    if (!key) {
        std::cerr << "jwtgate demo: cannot generate a key\n";
        return exit_runtime;
    }
    const std::string jwks = public_jwks(key.get());

    // The echo upstream and the issuer run on their own thread, like remote services.
    net::io_context side;
    std::string issuer;
    small_http_server upstream(side, echo, 1024 * 1024);
    small_http_server idp(side, [&](const small_request& req) {
        if (req.target() == "/.well-known/jwks.json") {
            auto res = json_response(req, 200, jwks);
            res.set(http::field::cache_control, "max-age=300");
            return res;
        }
        if (req.target() == "/.well-known/openid-configuration") {
            return json_response(
                req, 200,
                json::serialize(json::object{{"issuer", issuer},
                                             {"jwks_uri", issuer + "/.well-known/jwks.json"}}));
        }
        return json_response(req, 404, R"({"error":"Not found"})");
    });
    if (auto ec = upstream.start("127.0.0.1", 0); ec) {
        std::cerr << "jwtgate demo: cannot start the echo upstream: " << ec.message() << '\n';
        return exit_runtime;
    }
    if (auto ec = idp.start("127.0.0.1", 0); ec) {
        std::cerr << "jwtgate demo: cannot start the issuer: " << ec.message() << '\n';
        return exit_runtime;
    }
    issuer = "http://127.0.0.1:" + std::to_string(idp.port());
    auto guard = net::make_work_guard(side);
    std::thread side_thread([&side] { side.run(); });
    auto stop_side = [&] {
        upstream.stop();
        idp.stop();
        guard.reset();
        side.stop();
        side_thread.join();
    };

    const std::string text = demo_config(port, admin_port, upstream.port(), issuer);
    auto loaded = core::load_config_text(text, "<demo>", core::process_env());
    if (!loaded.cfg) {
        for (const auto& d : loaded.diagnostics) {
            std::cerr << core::format_diagnostic("<demo>", d) << '\n';
        }
        stop_side();
        return exit_runtime;
    }
    const auto token = mint(key.get(), issuer, {}, 3600);
    const auto admin_token = mint(key.get(), issuer, {{"scope", "read admin"}}, 3600);
    const auto p = std::to_string(port);
    std::cout << "jwtgate demo: proxy on http://127.0.0.1:" << p
              << " -> echo upstream on :" << upstream.port() << "; issuer " << issuer
              << " (JWKS at " << issuer
              << "/.well-known/jwks.json); admin on http://127.0.0.1:" << admin_port
              << "\n\nA valid token (RS256, 1 hour, scope \"read\"):\n\nTOKEN=" << token
              << "\n\nTry:\n"
              << "  # allowed: the upstream sees X-User-Id, X-User-Email, X-User-Scope\n"
              << "  curl -i -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:" << p
              << "/orders\n"
              << "  # missing token: 401 {\"error\":\"No token provided\"}\n"
              << "  curl -i http://127.0.0.1:" << p << "/orders\n"
              << "  # bad token: 401 {\"error\":\"Invalid token\",...}\n"
              << "  curl -i -H \"Authorization: Bearer $TOKEN.x\" http://127.0.0.1:" << p
              << "/orders\n"
              << "  # public route, no token needed\n"
              << "  curl -i http://127.0.0.1:" << p << "/public/hello\n"
              << "  # scope \"admin\" required: 403 with this token; ADMIN_TOKEN passes\n"
              << "  curl -i -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:" << p
              << "/admin\n"
              << "  ADMIN_TOKEN=" << admin_token << "\n"
              << "  curl -s http://127.0.0.1:" << admin_port << "/readyz\n"
              << "\nPress Ctrl-C to stop.\n"
              << std::flush;
    auto cfg = std::make_shared<const core::config>(std::move(*loaded.cfg));
    const int rc = run_server(cfg, "<demo>");
    stop_side();
    return rc;
}

} // namespace jwtgate::proxy
