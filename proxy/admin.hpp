// The admin endpoints: GET /healthz, /readyz, /metrics (served by small_http_server on
// their own address and port, never on the proxy port).
#pragma once

#include "proxy/small_server.hpp"

#include <functional>
#include <string>

namespace jwtgate::proxy {

struct readiness {
    bool ready = false;
    std::string body; // {"ready":...,"providers":{...}}
};

struct admin_handlers {
    std::function<readiness()> ready;
    std::function<std::string()> metrics;
};

// The request handler of the admin listener.
small_handler make_admin_handler(admin_handlers h);

} // namespace jwtgate::proxy
