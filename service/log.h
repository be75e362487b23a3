// File: service/log.h
// Structured log lines: one JSON object per line,
//   {"ts":"2025-01-31T12:00:00.123Z","level":"info","event":"request",...}
// written whole (one write per line, under a lock) to stderr or to a sink
// a test installs. Callers add only metadata (method, model, client id,
// key id, sizes, durations, status codes): never ciphertexts, keys or
// tokens (docs/service.md, "Logs").
#ifndef BLINDFOLD_SERVICE_LOG_H_
#define BLINDFOLD_SERVICE_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace blindfold::service {

class LogLine {
 public:
  // level: "info", "warning" or "error".
  LogLine(std::string_view level, std::string_view event);
  ~LogLine();  // writes the line
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Add(std::string_view key, std::string_view value);
  LogLine& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  LogLine& Add(std::string_view key, int64_t value);
  LogLine& Add(std::string_view key, int value) { return Add(key, int64_t{value}); }
  LogLine& Add(std::string_view key, uint64_t value);
  LogLine& Add(std::string_view key, double value);
  LogLine& Add(std::string_view key, bool value);

 private:
  nlohmann::ordered_json j_;
};

// Replaces where lines go (nullptr: back to stderr). For tests.
void SetLogSink(std::function<void(std::string_view line)> sink);

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_LOG_H_
