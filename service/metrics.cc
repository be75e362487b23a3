// File: service/metrics.cc
#include "service/metrics.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace blindfold::service {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::abs(v) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  return absl::StrFormat("%.17g", v);
}

// {a="x",b="y"} (with `extra` appended), or "" without labels.
std::string Labels(const std::vector<std::string>& names, const LabelValues& values,
                   const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "" : ",", names[i], "=\"", Escape(values[i]), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&out, out.empty() ? "" : ",", extra);
  return out.empty() ? "" : absl::StrCat("{", out, "}");
}

void Header(std::string* out, const std::string& name, const std::string& help,
            const char* type) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

LabeledValues::LabeledValues(std::string name, std::string help,
                             std::vector<std::string> labels, const char* type)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), type_(type) {}

void LabeledValues::AddTo(const LabelValues& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  values_[labels] += v;
}

void LabeledValues::SetTo(const LabelValues& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  values_[labels] = v;
}

double LabeledValues::Value(const LabelValues& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

void LabeledValues::Render(std::string* out) const {
  Header(out, name_, help_, type_);
  std::lock_guard<std::mutex> lock(mu_);
  if (values_.empty() && labels_.empty()) absl::StrAppend(out, name_, " 0\n");
  for (const auto& [labels, v] : values_) {
    absl::StrAppend(out, name_, Labels(labels_, labels), " ", Number(v), "\n");
  }
}

CallbackGauge::CallbackGauge(std::string name, std::string help,
                             std::function<double()> read)
    : name_(std::move(name)), help_(std::move(help)), read_(std::move(read)) {}

void CallbackGauge::Render(std::string* out) const {
  Header(out, name_, help_, "gauge");
  absl::StrAppend(out, name_, " ", Number(read_()), "\n");
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> labels,
                     std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      bounds_(std::move(bounds)) {}

void Histogram::Observe(const LabelValues& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[labels];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size() + 1, 0);
  size_t b = 0;
  while (b < bounds_.size() && v > bounds_[b]) ++b;
  ++s.buckets[b];
  s.sum += v;
  ++s.count;
}

uint64_t Histogram::Count(const LabelValues& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second.count;
}

void Histogram::Render(std::string* out) const {
  Header(out, name_, help_, "histogram");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, s] : series_) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= bounds_.size(); ++b) {
      cumulative += s.buckets[b];
      const std::string le =
          b < bounds_.size() ? Number(bounds_[b]) : std::string("+Inf");
      absl::StrAppend(out, name_, "_bucket", Labels(labels_, labels, "le=\"" + le + "\""),
                      " ", cumulative, "\n");
    }
    absl::StrAppend(out, name_, "_sum", Labels(labels_, labels), " ", Number(s.sum), "\n");
    absl::StrAppend(out, name_, "_count", Labels(labels_, labels), " ", s.count, "\n");
  }
}

template <typename T, typename... Args>
T* Registry::Add(Args&&... args) {
  auto f = std::make_unique<T>(std::forward<Args>(args)...);
  T* p = f.get();
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(std::move(f));
  return p;
}

Counter* Registry::AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels) {
  return Add<Counter>(std::move(name), std::move(help), std::move(labels));
}

Gauge* Registry::AddGauge(std::string name, std::string help,
                          std::vector<std::string> labels) {
  return Add<Gauge>(std::move(name), std::move(help), std::move(labels));
}

void Registry::AddCallbackGauge(std::string name, std::string help,
                                std::function<double()> read) {
  Add<CallbackGauge>(std::move(name), std::move(help), std::move(read));
}

Histogram* Registry::AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels,
                                  std::vector<double> bounds) {
  return Add<Histogram>(std::move(name), std::move(help), std::move(labels), std::move(bounds));
}

std::string Registry::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) f->Render(&out);
  return out;
}

double ResidentMemoryBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace blindfold::service
