// File: tools/file_io.h
// Whole-file reads and writes for the CLI, with the path and what the file
// is in every error, and small statistics its reports share.
#ifndef BLINDFOLD_TOOLS_FILE_IO_H_
#define BLINDFOLD_TOOLS_FILE_IO_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace blindfold::tools {

// NotFound when it cannot be opened; InvalidArgument above `max_bytes`.
absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes,
                                     const char* what = "file");

// `secret`: the file is created 0600 before any byte is written.
absl::Status WriteFile(const std::string& path, const std::string& bytes,
                       bool secret = false);

// The p-quantile (0 < p <= 1) by the nearest-rank rule; 0 for no values.
double Percentile(std::vector<double> v, double p);

// Index of the largest value (the first of equals); 0 for none.
int ArgMax(const std::vector<double>& v);

}  // namespace blindfold::tools

#endif  // BLINDFOLD_TOOLS_FILE_IO_H_
