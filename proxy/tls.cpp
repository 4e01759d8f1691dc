// TLS context construction.
#include "proxy/tls.hpp"

#include <openssl/ssl.h>

namespace jwtgate::proxy {

namespace ssl = boost::asio::ssl;

namespace {
constexpr auto hardening = ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use;
}

std::unique_ptr<ssl::context> make_server_tls(const core::tls_config& tls, std::string& error) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    boost::system::error_code ec;
    ctx->set_options(hardening, ec);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) {
        error = "listen.tls.cert_file " + tls.cert_file + ": " + ec.message();
        return nullptr;
    }
    ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec) {
        error = "listen.tls.key_file " + tls.key_file + ": " + ec.message();
        return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        error = "listen.tls.key_file " + tls.key_file + ": does not match the certificate";
        return nullptr;
    }
    return ctx;
}

std::unique_ptr<ssl::context> make_client_tls(const std::string& ca_file, std::string& error) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_options(hardening, ec);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
        if (ec) {
            error = "system certificate store: " + ec.message();
            return nullptr;
        }
    } else {
        ctx->load_verify_file(ca_file, ec);
        if (ec) {
            error = "upstream.ca_file " + ca_file + ": " + ec.message();
            return nullptr;
        }
    }
    return ctx;
}

} // namespace jwtgate::proxy
