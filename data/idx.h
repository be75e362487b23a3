// File: data/idx.h
// Reader for IDX files (the format of MNIST and Fashion-MNIST), gzip-compressed
// or not: validates the magic number, the dimensions and the exact payload
// length, and bounds every size before allocating. Untrusted input: a damaged
// file gives an error, never a crash.
#ifndef BLINDFOLD_DATA_IDX_H_
#define BLINDFOLD_DATA_IDX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace blindfold::data {

// IDX magic numbers for unsigned-byte payloads: 0x0000 08 <ndim>.
inline constexpr uint32_t kIdxImagesMagic = 0x00000803;  // [n, rows, cols]
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // [n]

// Largest item count and per-axis extent accepted (bounds allocation).
inline constexpr uint32_t kIdxMaxItems = 1u << 20;
inline constexpr uint32_t kIdxMaxExtent = 4096;

// The decoded contents of an unsigned-byte IDX file.
struct IdxArray {
  std::vector<uint32_t> dims;  // dims[0] is the item count
  std::vector<uint8_t> values;  // row-major, product(dims) bytes
};

// Decompresses `path` (gzip, or plain bytes when the file is not gzip) into
// at most `max_bytes` bytes. Errors: NotFound when the file cannot be opened,
// DataLoss when the gzip stream is damaged or truncated, ResourceExhausted
// when the content exceeds max_bytes.
absl::StatusOr<std::string> ReadMaybeGzipFile(const std::string& path,
                                              size_t max_bytes);

// Parses IDX bytes whose magic must equal `expected_magic` (kIdxImagesMagic or
// kIdxLabelsMagic). Errors: InvalidArgument for a wrong magic, a header
// shorter than the magic says, a zero or out-of-range dimension, or a payload
// whose length differs from the product of the dimensions.
absl::StatusOr<IdxArray> ParseIdx(std::string_view bytes,
                                  uint32_t expected_magic);

// ReadMaybeGzipFile + ParseIdx; errors are those of both, prefixed with the
// path.
absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path,
                                     uint32_t expected_magic);

}  // namespace blindfold::data

#endif  // BLINDFOLD_DATA_IDX_H_
