// Worker lifetime: the io_context is torn down before the pool and the session registry
// that its pending coroutines still reference.
#include "proxy/worker.hpp"

#include "proxy/session.hpp"

namespace jwtgate::proxy {

class session;
void close_if_idle(session& s);

worker::worker(server_state& st, std::shared_ptr<const generation> g, std::size_t max_idle)
    : state(st), gen(std::move(g)), ctx(std::make_unique<net::io_context>(1)),
      pool(ctx->get_executor(), gen->upstream, max_idle) {}

void worker::apply(std::shared_ptr<const generation> g, std::size_t max_idle) {
    pool.retarget(g->upstream, max_idle);
    gen = std::move(g);
}

worker::~worker() {
    pool.shutdown();
    ctx.reset(); // destroys the suspended coroutines while pool and sessions still exist
}

void worker::close_idle_sessions() {
    // close_if_idle only closes sockets; the sessions unregister themselves later.
    for (auto* s : sessions) {
        close_if_idle(*s);
    }
}

} // namespace jwtgate::proxy
