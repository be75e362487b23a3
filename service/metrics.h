// File: service/metrics.h
// Prometheus metrics in the text exposition format (version 0.0.4):
// counters, gauges and histograms with labels, and gauges read at scrape
// time. Thread-safe; Render() is what GET /metrics returns.
#ifndef BLINDFOLD_SERVICE_METRICS_H_
#define BLINDFOLD_SERVICE_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace blindfold::service {

using LabelValues = std::vector<std::string>;

class Family {
 public:
  virtual ~Family() = default;
  virtual void Render(std::string* out) const = 0;
};

// Values by label set: what counters and gauges have in common.
class LabeledValues : public Family {
 public:
  LabeledValues(std::string name, std::string help, std::vector<std::string> labels,
                const char* type);
  double Value(const LabelValues& labels) const;
  void Render(std::string* out) const override;

 protected:
  void AddTo(const LabelValues& labels, double v);
  void SetTo(const LabelValues& labels, double v);

 private:
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const char* const type_;
  mutable std::mutex mu_;
  std::map<LabelValues, double> values_;
};

class Counter final : public LabeledValues {
 public:
  Counter(std::string name, std::string help, std::vector<std::string> labels)
      : LabeledValues(std::move(name), std::move(help), std::move(labels), "counter") {}
  void Inc(const LabelValues& labels, double v = 1) { AddTo(labels, v); }
};

class Gauge final : public LabeledValues {
 public:
  Gauge(std::string name, std::string help, std::vector<std::string> labels)
      : LabeledValues(std::move(name), std::move(help), std::move(labels), "gauge") {}
  void Set(const LabelValues& labels, double v) { SetTo(labels, v); }
  void Add(const LabelValues& labels, double v) { AddTo(labels, v); }
};

// A gauge without labels whose value is read when scraped.
class CallbackGauge final : public Family {
 public:
  CallbackGauge(std::string name, std::string help, std::function<double()> read);
  void Render(std::string* out) const override;

 private:
  const std::string name_, help_;
  const std::function<double()> read_;
};

class Histogram final : public Family {
 public:
  // `bounds`: the buckets' upper bounds, increasing (+Inf is implied).
  Histogram(std::string name, std::string help, std::vector<std::string> labels,
            std::vector<double> bounds);
  void Observe(const LabelValues& labels, double v);
  // Observations so far (for tests).
  uint64_t Count(const LabelValues& labels) const;
  void Render(std::string* out) const override;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // per bound, not cumulative; +Inf last
    double sum = 0;
    uint64_t count = 0;
  };
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

class Registry {
 public:
  // The families live as long as the registry.
  Counter* AddCounter(std::string name, std::string help, std::vector<std::string> labels);
  Gauge* AddGauge(std::string name, std::string help, std::vector<std::string> labels);
  void AddCallbackGauge(std::string name, std::string help, std::function<double()> read);
  Histogram* AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                          std::vector<double> bounds);
  std::string Render() const;

 private:
  template <typename T, typename... Args>
  T* Add(Args&&... args);
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

// This process's resident set size in bytes (/proc/self/statm), 0 if unknown.
double ResidentMemoryBytes();

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_METRICS_H_
