// File: service/http_server.h
// A minimal HTTP/1.1 endpoint for Prometheus scrapes: GET /metrics returns
// the text exposition, GET /healthz "ok" (503 "draining" once draining),
// anything else 404. One connection at a time, one request per connection,
// requests bounded to 8 KiB and 2 s; nothing else is parsed.
#ifndef BLINDFOLD_SERVICE_HTTP_SERVER_H_
#define BLINDFOLD_SERVICE_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace blindfold::service {

class MetricsHttpServer {
 public:
  // Listens on `host:port` (port 0: any free port).
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& host, int port, std::function<std::string()> metrics,
      std::function<bool()> healthy);
  ~MetricsHttpServer();  // stops and joins

  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;
  void Loop();
  void Serve(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::function<std::string()> metrics_;
  std::function<bool()> healthy_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_HTTP_SERVER_H_
