// File: data/breast_cancer.cc
#include "data/breast_cancer.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/check.h"
#include "base/status.h"

namespace blindfold::data {

const char* const kBreastCancerFeatureNames[kBreastCancerFeatures] = {
    "mean radius",          "mean texture",
    "mean perimeter",       "mean area",
    "mean smoothness",      "mean compactness",
    "mean concavity",       "mean concave points",
    "mean symmetry",        "mean fractal dimension",
    "radius error",         "texture error",
    "perimeter error",      "area error",
    "smoothness error",     "compactness error",
    "concavity error",      "concave points error",
    "symmetry error",       "fractal dimension error",
    "worst radius",         "worst texture",
    "worst perimeter",      "worst area",
    "worst smoothness",     "worst compactness",
    "worst concavity",      "worst concave points",
    "worst symmetry",       "worst fractal dimension"};

namespace {

// The CSV's class names in target order (target 0 is malignant).
constexpr const char* kCsvClassNames[kBreastCancerClasses] = {"malignant",
                                                                   "benign"};

// A field as shown in an error: C-escaped, cut at 40 characters.
std::string Shown(std::string_view field) {
  constexpr size_t kMax = 40;
  const std::string_view cut = field.substr(0, kMax);
  std::string s = absl::CHexEscape(absl::string_view(cut.data(), cut.size()));
  if (field.size() > kMax) absl::StrAppend(&s, "...");
  return absl::StrCat("'", s, "'");
}

absl::Status ErrorAt(int line, int field, const std::string& what) {
  return absl::InvalidArgumentError(
      field > 0 ? absl::StrCat("line ", line, " field ", field, ": ", what)
                : absl::StrCat("line ", line, ": ", what));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The plain decimal grammar: -?(digits[.digits?] | .digits)([eE][+-]?digits)?
bool IsDecimal(std::string_view s) {
  size_t i = 0, mantissa_digits = 0;
  if (i < s.size() && s[i] == '-') ++i;
  while (i < s.size() && IsDigit(s[i])) ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exponent_digits;
    if (exponent_digits == 0) return false;
  }
  return i == s.size();
}

absl::StatusOr<double> ParseNumber(std::string_view s, int line, int field) {
  if (!IsDecimal(s)) return ErrorAt(line, field, absl::StrCat(Shown(s), " is not a number"));
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    return ErrorAt(line, field, absl::StrCat(Shown(s), " is out of range"));
  }
  if (ec != std::errc() || end != s.data() + s.size()) {
    return ErrorAt(line, field, absl::StrCat(Shown(s), " is not a number"));
  }
  return v;
}

// A count in the header: 1 to 9 digits.
absl::StatusOr<int> ParseCount(std::string_view s, int field) {
  if (s.empty() || s.size() > 9) {
    return ErrorAt(1, field, absl::StrCat(Shown(s), " is not a count"));
  }
  int v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return ErrorAt(1, field, absl::StrCat(Shown(s), " is not a count"));
    v = v * 10 + (c - '0');
  }
  return v;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (true) {
    const size_t comma = line.find(',', at);
    out.push_back(line.substr(at, comma == std::string_view::npos ? line.npos : comma - at));
    if (comma == std::string_view::npos) return out;
    at = comma + 1;
  }
}

// Errors name the line and field; the public entry points add their name.
absl::StatusOr<BreastCancer> ParseCsv(std::string_view text) {
  // Bytes first, so that no later message has to show a control byte.
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
    } else if (c >= 0x7f || (c < 0x20 && c != '\r')) {
      return ErrorAt(line, 0, absl::StrFormat("byte 0x%02x is not printable ASCII", c));
    }
  }
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (text.empty()) return absl::InvalidArgumentError("the file is empty");

  BreastCancer out;
  int rows = 0;  // what the header announces
  line = 0;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t nl = text.find('\n', at);
    std::string_view l = text.substr(at, nl == std::string_view::npos ? text.npos : nl - at);
    at = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    const std::vector<std::string_view> f = Fields(l);
    if (line == 1) {
      if (f.size() != 2 + kBreastCancerClasses) {
        return ErrorAt(1, 0, absl::StrCat("the header has ", f.size(),
                                          " fields, expected 4 (rows,30,malignant,benign)"));
      }
      BF_ASSIGN_OR_RETURN(rows, ParseCount(f[0], 1));
      BF_ASSIGN_OR_RETURN(const int features, ParseCount(f[1], 2));
      if (features != kBreastCancerFeatures) {
        return ErrorAt(1, 2, absl::StrCat("the header says ", features,
                                          " features, expected ", kBreastCancerFeatures));
      }
      for (int c = 0; c < kBreastCancerClasses; ++c) {
        if (f[2 + c] != kCsvClassNames[c]) {
          return ErrorAt(1, 3 + c, absl::StrCat("class ", c, " is ", Shown(f[2 + c]),
                                                ", expected '", kCsvClassNames[c], "'"));
        }
      }
      if (rows < 1) return ErrorAt(1, 1, "the header says 0 rows");
      if (rows > kBreastCancerMaxRows) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "line 1 field 1: the header says ", rows, " rows, at most ", kBreastCancerMaxRows,
            " are accepted"));
      }
      continue;
    }
    if (out.count == rows) {
      return ErrorAt(line, 0, absl::StrCat("more rows than the ", rows, " the header says"));
    }
    if (f.size() != kBreastCancerFeatures + 1) {
      return ErrorAt(line, 0, absl::StrCat(f.size(), " fields, expected ",
                                           kBreastCancerFeatures + 1,
                                           " (30 measurements and the target)"));
    }
    for (int c = 0; c < kBreastCancerFeatures; ++c) {
      BF_ASSIGN_OR_RETURN(const double v, ParseNumber(f[c], line, c + 1));
      out.features.push_back(v);
    }
    const std::string_view target = f[kBreastCancerFeatures];
    if (target != "0" && target != "1") {
      return ErrorAt(line, kBreastCancerFeatures + 1,
                     absl::StrCat("target ", Shown(target), ", expected 0 (malignant) or 1 (benign)"));
    }
    out.labels.push_back(target == "0" ? 1 : 0);  // label 1: malignant
    ++out.count;
  }
  if (out.count != rows) {
    return absl::InvalidArgumentError(absl::StrCat("the header says ", rows,
                                                   " rows, the file has ", out.count));
  }
  return out;
}

}  // namespace

std::vector<double> BreastCancer::Patient(int i) const {
  BF_CHECK(i >= 0 && i < count);
  const double* p = features.data() + static_cast<size_t>(i) * kBreastCancerFeatures;
  return std::vector<double>(p, p + kBreastCancerFeatures);
}

absl::StatusOr<BreastCancer> ParseBreastCancerCsv(std::string_view text) {
  absl::StatusOr<BreastCancer> parsed = ParseCsv(text);
  if (!parsed.ok()) return AnnotateStatus(parsed.status(), "ParseBreastCancerCsv");
  return parsed;
}

absl::StatusOr<BreastCancer> LoadBreastCancer(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in.is_open()) {
    return absl::NotFoundError(
        absl::StrCat("LoadBreastCancer: cannot open ", path, ": ", std::strerror(errno)));
  }
  const std::streamoff size = in.tellg();
  if (size < 0 || static_cast<uint64_t>(size) > kBreastCancerMaxFileBytes) {
    return absl::ResourceExhaustedError(absl::StrCat("LoadBreastCancer: ", path, " has ", size,
                                                     " bytes, more than the ",
                                                     kBreastCancerMaxFileBytes, " accepted"));
  }
  std::string text(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(text.data(), size);
  if (!in.good()) {
    return absl::DataLossError(absl::StrCat("LoadBreastCancer: cannot read ", path));
  }
  absl::StatusOr<BreastCancer> parsed = ParseCsv(text);
  if (!parsed.ok()) return AnnotateStatus(parsed.status(), absl::StrCat("LoadBreastCancer ", path));
  return parsed;
}

SplitIndices BreastCancerSplit(const BreastCancer& data) {
  return StratifiedSplit(data.labels, kBreastCancerClasses, kBreastCancerSplitSeed,
                         kBreastCancerTestPercent);
}

}  // namespace blindfold::data
