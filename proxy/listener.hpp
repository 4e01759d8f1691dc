// The accepting socket: binds at startup, hands each connection to a worker round-robin.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jwtgate::proxy {

struct worker;

class listener {
  public:
    explicit listener(boost::asio::io_context& ctx);

    // Binds `address`:`port` (IPv4 or IPv6 literal) and listens; false with `error` set.
    bool open(const std::string& address, std::uint16_t port, std::string& error);

    // Starts accepting: each connection runs as a session on the next worker.
    void start(std::vector<std::unique_ptr<worker>>& workers, boost::asio::ssl::context* tls);

    // Stops accepting and closes the socket (new connections are refused at once).
    void close();

    boost::asio::ip::tcp::endpoint local_endpoint() const;

  private:
    boost::asio::awaitable<void> accept_loop(std::vector<std::unique_ptr<worker>>& workers,
                                             boost::asio::ssl::context* tls);

    boost::asio::io_context& ctx_;
    boost::asio::ip::tcp::acceptor acceptor_;
};

} // namespace jwtgate::proxy
