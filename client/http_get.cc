// File: client/http_get.cc
#include "client/http_get.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace blindfold::client {

absl::StatusOr<std::pair<int, std::string>> HttpGet(const std::string& hostport,
                                                   const std::string& path) {
  const size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("'", hostport, "' is not HOST:PORT"));
  }
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(hostport.substr(0, colon).c_str(), hostport.substr(colon + 1).c_str(), &hints,
                  &res) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", hostport));
  }
  const int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  const bool connected = fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  if (!connected) {
    if (fd >= 0) close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", hostport));
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const std::string req = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", hostport,
                                       "\r\nConnection: close\r\n\r\n");
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || resp.size() < 12 || body == std::string::npos) {
    return absl::DataLossError(absl::StrCat(hostport, path, ": not an HTTP response"));
  }
  return std::make_pair(std::atoi(resp.c_str() + 9), resp.substr(body + 4));
}

double MetricValue(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::atof(line.c_str() + series.size() + 1);
  }
  return -1;
}

}  // namespace blindfold::client
