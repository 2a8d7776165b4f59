#include "adapters/http/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace tillroll::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

std::string HttpReply::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return "";
}

namespace {

// Beast's deadlines apply to asynchronous operations only: the blocking reads and writes here
// get the socket's own timeouts.
void SetSocketTimeouts(tcp::socket& socket, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

struct HttpClient::Impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  std::string host;
  std::chrono::milliseconds timeout{0};
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
  beast::error_code ec;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

Result<std::unique_ptr<HttpClient>> HttpClient::Connect(const std::string& host,
                                                        std::uint16_t port,
                                                        std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->host = host;
  impl->timeout = timeout;
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("not an IP address: " + host);
  impl->stream.connect(tcp::endpoint(address, port), ec);
  if (ec) {
    return Status::Unavailable("cannot connect to " + host + ":" + std::to_string(port) + ": " +
                               ec.message());
  }
  impl->stream.socket().set_option(tcp::no_delay(true), ec);
  SetSocketTimeouts(impl->stream.socket(), timeout);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<HttpReply> HttpClient::Send(std::string_view method, std::string_view target,
                                   std::string_view body,
                                   const std::vector<std::pair<std::string, std::string>>& headers) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(bhttp::field::host, impl_->host);
  bool has_type = false;
  for (const auto& [name, value] : headers) {
    req.set(name, value);
    has_type = has_type || strcasecmp(name.c_str(), "Content-Type") == 0;
  }
  if (!body.empty() && !has_type) req.set(bhttp::field::content_type, "application/json");
  req.body() = std::string(body);
  req.prepare_payload();
  beast::error_code ec;
  bhttp::write(impl_->stream, req, ec);
  if (ec) return Status::Unavailable("write: " + ec.message());
  return ReadReply();
}

Status HttpClient::WriteRaw(std::string_view bytes) {
  beast::error_code ec;
  asio::write(impl_->stream, asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec) return Status::Unavailable("write: " + ec.message());
  return Status::Ok();
}

Result<HttpReply> HttpClient::ReadReply() {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1ULL << 30);
  beast::error_code ec;
  bhttp::read(impl_->stream, impl_->buffer, parser, ec);
  if (ec) return Status::Unavailable("read: " + ec.message());
  bhttp::response<bhttp::string_body> res = parser.release();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.keep_alive = res.keep_alive();
  for (const auto& field : res) {
    reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  reply.body = std::move(res.body());
  return reply;
}

bool HttpClient::ClosedByServer(std::chrono::milliseconds wait) {
  SetSocketTimeouts(impl_->stream.socket(), wait);
  char byte = 0;
  beast::error_code ec;
  impl_->stream.socket().read_some(asio::buffer(&byte, 1), ec);
  SetSocketTimeouts(impl_->stream.socket(), impl_->timeout);
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

}  // namespace tillroll::http
