// File: tools/file_io.cc
#include "tools/file_io.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace blindfold::tools {

absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes,
                                     const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) return absl::NotFoundError(absl::StrCat("cannot open ", what, " ", path));
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " ", path, " has ", s.str().size(), " bytes, more than the ", max_bytes,
        " accepted"));
  }
  return s.str();
}

absl::Status WriteFile(const std::string& path, const std::string& bytes, bool secret) {
  if (secret) {
    // Created 0600 before any secret byte is written.
    std::ofstream touch(path, std::ios::binary | std::ios::trunc);
    touch.close();
    if (chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0) {
      return absl::PermissionDeniedError(absl::StrCat("cannot chmod 0600 ", path));
    }
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

int ArgMax(const std::vector<double>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace blindfold::tools
