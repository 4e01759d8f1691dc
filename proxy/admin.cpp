// Routing of the admin endpoints.
#include "proxy/admin.hpp"

namespace jwtgate::proxy {

namespace http = boost::beast::http;

small_handler make_admin_handler(admin_handlers h) {
    return [h = std::move(h)](const small_request& req) {
        auto target = req.target();
        if (auto q = target.find('?'); q != boost::beast::string_view::npos) {
            target = target.substr(0, q);
        }
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            auto res = json_response(req, 405, R"({"error":"Method not allowed"})");
            res.set(http::field::allow, "GET, HEAD");
            return res;
        }
        if (target == "/healthz") {
            return json_response(req, 200, R"({"status":"ok"})");
        }
        if (target == "/readyz") {
            auto r = h.ready();
            return json_response(req, r.ready ? 200 : 503, std::move(r.body));
        }
        if (target == "/metrics") {
            small_response res{http::status::ok, req.version()};
            res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            res.set(http::field::cache_control, "no-store");
            res.body() = h.metrics();
            return res;
        }
        return json_response(req, 404, R"({"error":"Not found"})");
    };
}

} // namespace jwtgate::proxy
