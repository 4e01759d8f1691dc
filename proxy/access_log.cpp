// The access log line.
#include "proxy/access_log.hpp"

#include "proxy/log.hpp"

namespace jwtgate::proxy {

void log_access(const core::config& cfg, const access_entry& e) {
    if (!cfg.log.access_log) {
        return;
    }
    log_line line(core::log_level::info, "access");
    line.str("request_id", e.request_id)
        .str("method", e.method)
        .str("path", e.path)
        .num("status", e.status)
        .str("outcome", e.outcome)
        .str("rule", e.rule)
        .str("provider", e.provider)
        .str("sub", e.sub)
        .real("duration_ms", e.duration_ms);
    if (e.upstream_ms >= 0) {
        line.real("upstream_ms", e.upstream_ms);
    } else {
        line.null("upstream_ms");
    }
    line.num("bytes_in", e.bytes_in).num("bytes_out", e.bytes_out);
    if (e.shadow) {
        line.flag("shadow", true);
    }
    line.emit();
}

} // namespace jwtgate::proxy
