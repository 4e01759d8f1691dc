// A small keep-alive HTTP/1.1 server for the control plane: the admin endpoints and the
// demo's echo upstream and issuer. Whole requests in memory (bounded), one coroutine per
// connection, a timeout on every read and write. Not the proxy's data path.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>
#include <string>

namespace jwtgate::proxy {

using small_request = boost::beast::http::request<boost::beast::http::string_body>;
using small_response = boost::beast::http::response<boost::beast::http::string_body>;

// Builds the response for one request (called on the server's io_context). The server
// sets keep-alive and Content-Length.
using small_handler = std::function<small_response(const small_request&)>;

class small_http_server {
  public:
    small_http_server(boost::asio::io_context& ioc, small_handler handler,
                      std::size_t max_body = 64 * 1024);
    ~small_http_server();
    small_http_server(const small_http_server&) = delete;
    small_http_server& operator=(const small_http_server&) = delete;

    // Binds address:port (port 0: any free port) and starts accepting. A bind failure is
    // returned, not thrown.
    boost::system::error_code start(const std::string& address, unsigned short port);

    // The bound port (after start).
    unsigned short port() const;

    // Closes the listening socket; open connections end after their current response.
    void stop();

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

// A JSON response with the given status.
small_response json_response(const small_request& req, unsigned status, std::string body);

} // namespace jwtgate::proxy
