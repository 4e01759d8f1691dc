// The pure per-request decision: (request view, config, key sets, now) -> forward or
// answer. No I/O: the proxy and `jwtgate verify-token` both call it.
#pragma once

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/jwks.hpp"
#include "core/path.hpp"
#include "core/token_cache.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jwtgate::core {

struct header_field {
    std::string_view name;
    std::string_view value;
};

// What the decision needs of a request. Views must outlive the call.
struct request_view {
    std::string_view method;
    std::string_view target;               // as sent on the request line
    std::span<const header_field> headers; // in arrival order, duplicates included
};

// The outcome label used in logs and metrics (SPEC "Operations").
enum class outcome {
    allowed,             // verified token, forwarded
    anonymous,           // optional route without a token, forwarded
    public_route,        // auth: none, forwarded
    preflight,           // CORS preflight or "*" OPTIONS, forwarded without auth
    no_token,            // 401
    expired,             // 401
    invalid,             // 401
    insufficient_scope,  // 403
    forbidden,           // 403 (require.claims)
    denied,              // 403 (deny rule)
    key_set_unavailable, // 503
    bad_request,         // 400 (path)
    wait_for_keys,       // not final: refetch the provider's keys, then decide again
};

std::string_view to_string(outcome o) noexcept;

// Where the token was found, so the proxy can strip it (`forward_token: false`).
struct token_origin {
    token_source_kind kind = token_source_kind::header;
    std::string name; // header, cookie or query parameter name
};

struct decision {
    outcome result = outcome::bad_request;
    bool forward = false;                 // send upstream (allowed, or any outcome in shadow mode)
    bool shadow = false;                  // the rule is in shadow mode
    int status = 0;                       // the status jwtgate answers with when !forward
    auth_errc reason = auth_errc::ok;     // for invalid / expired
    path_errc path_error = path_errc::ok; // for bad_request
    std::string forward_target;           // normalised path + query (token query params removed)
    std::string path;                     // normalised path (for logs)
    std::string authority;                // absolute-form authority (replaces Host), else ""
    std::string rule_label;               // the rule's prefix, or "default"
    const rule* matched_rule = nullptr;
    const provider_config* provider = nullptr;                    // the verifying provider, if any
    std::size_t wait_provider = 0;                                // wait_for_keys: provider index
    std::vector<std::pair<std::string, std::string>> add_headers; // claim/payload headers
    std::size_t claim_headers_refused = 0;
    std::optional<token_origin> strip_token;           // forward_token: false
    std::string sub;                                   // for the access log
    std::string required_scopes;                       // insufficient_scope challenge
    std::shared_ptr<const boost::json::object> claims; // verified claims
};

// The per-provider key state the decision reads (index = position in config.providers).
// A null pointer means the provider's key set was never loaded (or was dropped as stale).
using key_sets = std::span<const std::shared_ptr<const key_set>>;

// The result of verifying one token against the providers a rule allows.
struct token_check {
    auth_errc error = auth_errc::ok;
    std::size_t provider_index = 0; // meaningful once the issuer was matched
    bool provider_known = false;
    std::shared_ptr<const cached_token> verified; // set when error == ok
};

// Decides requests for one config. Immutable after construction; thread-safe (the
// token cache is internally synchronised). Reload builds a new authorizer.
class authorizer {
  public:
    authorizer(std::shared_ptr<const config> cfg, std::shared_ptr<token_cache> cache);

    // The decision for one request. `final_attempt` false lets it answer wait_for_keys
    // (the provider's keys are not loaded, or the token's kid is unknown); the caller
    // may then refresh that provider's keys and ask again with `final_attempt` true.
    decision decide(const request_view& req, key_sets keys, std::int64_t now,
                    bool final_attempt) const;

    // Verifies `token` for `r` (nullptr: any provider) through the cache: size, parse,
    // issuer -> provider, then core::verify_jws. Used by decide and by verify-token.
    token_check check_token(std::string_view token, const rule* r, key_sets keys,
                            std::int64_t now) const;

    // Lower-case names of the headers removed from every request (claim headers,
    // payload headers, strip_request_headers).
    const std::vector<std::string>& identity_headers() const noexcept { return identity_; }

    const config& cfg() const noexcept { return *cfg_; }
    const std::shared_ptr<const config>& cfg_ptr() const noexcept { return cfg_; }
    token_cache& cache() const noexcept { return *cache_; }

    // Claim and payload headers for a verified token of `p` (refused values counted).
    void render_headers(const provider_config& p, const cached_token& t, std::string_view token,
                        decision& d) const;

  private:
    std::shared_ptr<const config> cfg_;
    std::shared_ptr<token_cache> cache_;
    std::vector<std::string> identity_;
};

// Checks a rule's `require` against verified claims: nullopt when met, else
// insufficient_scope (with the space-separated required scopes in `scopes_out`) or
// forbidden. A null rule has no requirements.
std::optional<outcome> unmet_requirement(const rule* r, const boost::json::object& claims,
                                         std::string& scopes_out);

// jwtgate's own answer for a decision that is not forwarded (SPEC "Responses").
struct error_response {
    int status = 0;
    std::string body;             // JSON
    std::string www_authenticate; // "" = none
    std::int64_t retry_after = 0; // 503 only
};

// Renders the response for a non-forwarded decision; `retry_after` for 503.
error_response render_error(const decision& d, std::int64_t retry_after = 1);

// A JSON error body {"error":"..."} for transport-level errors (400, 413, 431, 502, 504).
std::string error_body(std::string_view message);

} // namespace jwtgate::core
