// File: service/log.cc
#include "service/log.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>

#include "absl/strings/str_format.h"

namespace blindfold::service {
namespace {

std::mutex& SinkMutex() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}

std::function<void(std::string_view)>& Sink() {
  static auto* sink = new std::function<void(std::string_view)>;
  return *sink;
}

std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         static_cast<int>(ms));
}

}  // namespace

LogLine::LogLine(std::string_view level, std::string_view event) {
  j_["ts"] = Timestamp();
  j_["level"] = std::string(level);
  j_["event"] = std::string(event);
}

LogLine::~LogLine() {
  // Replace invalid UTF-8 rather than throw (values may echo client input).
  std::string line = j_.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(SinkMutex());
  if (Sink()) {
    Sink()(line);
    return;
  }
  size_t at = 0;
  while (at < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + at, line.size() - at);
    if (n <= 0) break;
    at += static_cast<size_t>(n);
  }
}

LogLine& LogLine::Add(std::string_view key, std::string_view value) {
  j_[std::string(key)] = std::string(value);
  return *this;
}
LogLine& LogLine::Add(std::string_view key, int64_t value) {
  j_[std::string(key)] = value;
  return *this;
}
LogLine& LogLine::Add(std::string_view key, uint64_t value) {
  j_[std::string(key)] = value;
  return *this;
}
LogLine& LogLine::Add(std::string_view key, double value) {
  // Durations in ms: a microsecond is precision enough.
  j_[std::string(key)] = std::round(value * 1e3) / 1e3;
  return *this;
}
LogLine& LogLine::Add(std::string_view key, bool value) {
  j_[std::string(key)] = value;
  return *this;
}

void SetLogSink(std::function<void(std::string_view)> sink) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  Sink() = std::move(sink);
}

}  // namespace blindfold::service
