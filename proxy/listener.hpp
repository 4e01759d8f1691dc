// The accepting socket: binds at startup, hands each connection to a worker round-robin.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jwtgate::proxy {

struct server_state;
struct worker;

// The address to bind for `address`: an IP literal as is, a host name resolved (now,
// synchronously: at startup only) to its first address. Sets `ec` when it does not resolve.
boost::asio::ip::address bind_address(const boost::asio::any_io_executor& ex,
                                      const std::string& address, boost::system::error_code& ec);

class listener {
  public:
    explicit listener(boost::asio::io_context& ctx);

    // Binds `address`:`port` (an IP literal, or a host name: see bind_address) and
    // listens; false with `error` set.
    bool open(const std::string& address, std::uint16_t port, std::string& error);

    // Starts accepting: each connection runs as a session on the next worker, with the
    // server TLS context of the generation current when it was accepted (if any).
    void start(std::vector<std::unique_ptr<worker>>& workers, server_state& st);

    // Stops accepting and closes the socket (new connections are refused at once).
    void close();

    boost::asio::ip::tcp::endpoint local_endpoint() const;

  private:
    boost::asio::awaitable<void> accept_loop(std::vector<std::unique_ptr<worker>>& workers,
                                             server_state& st);

    boost::asio::io_context& ctx_;
    boost::asio::ip::tcp::acceptor acceptor_;
};

} // namespace jwtgate::proxy
