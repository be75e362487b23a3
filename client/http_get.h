// File: client/http_get.h
// A plain HTTP/1.1 GET, enough to read a server's metrics endpoint
// (`blindfold serve --metrics-listen`): tools and tests scrape
// process_resident_memory_bytes and counters with it.
#ifndef BLINDFOLD_CLIENT_HTTP_GET_H_
#define BLINDFOLD_CLIENT_HTTP_GET_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace blindfold::client {

// GET http://host:port/path (`hostport` as "HOST:PORT"): {status, body}.
// Unavailable when nothing answers; DataLoss for a reply that is not HTTP.
absl::StatusOr<std::pair<int, std::string>> HttpGet(const std::string& hostport,
                                                   const std::string& path);

// The value of one sample line ("name{labels} value") of a Prometheus text
// exposition, or -1 when there is none.
double MetricValue(const std::string& exposition, const std::string& series);

}  // namespace blindfold::client

#endif  // BLINDFOLD_CLIENT_HTTP_GET_H_
