// File: data/idx.cc
#include "data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"

namespace blindfold::data {
namespace {

uint32_t ReadBigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

absl::StatusOr<std::string> ReadMaybeGzipFile(const std::string& path,
                                              size_t max_bytes) {
  // gzopen reads plain files transparently, so an uncompressed IDX file
  // works as well; gzerror tells a damaged stream from a short one.
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat("ReadFile: cannot open ", path,
                                            ": ", std::strerror(errno)));
  }
  std::string out;
  char buf[1 << 16];
  while (true) {
    int n = gzread(f, buf, sizeof(buf));
    if (n < 0) {
      int code = 0;
      std::string msg = gzerror(f, &code);
      gzclose(f);
      return absl::DataLossError(
          absl::StrCat("ReadFile: ", path, ": damaged gzip stream: ", msg));
    }
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      gzclose(f);
      return absl::ResourceExhaustedError(absl::StrCat(
          "ReadFile: ", path, ": content exceeds ", max_bytes, " bytes"));
    }
    out.append(buf, n);
  }
  // A gzip stream cut short reads as EOF without error; gzclose_r reports
  // Z_BUF_ERROR in that case.
  int rc = gzclose(f);
  if (rc != Z_OK) {
    return absl::DataLossError(absl::StrCat(
        "ReadFile: ", path, ": truncated or damaged gzip stream (zlib ", rc,
        ")"));
  }
  return out;
}

absl::StatusOr<IdxArray> ParseIdx(std::string_view bytes,
                                  uint32_t expected_magic) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ParseIdx: file is ", bytes.size(), " bytes, shorter than the magic"));
  }
  const uint32_t magic = ReadBigEndian32(p);
  if (magic != expected_magic) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ParseIdx: magic 0x%08x, expected 0x%08x", magic,
                        expected_magic));
  }
  const size_t ndim = magic & 0xff;
  const size_t header = 4 + 4 * ndim;
  if (bytes.size() < header) {
    return absl::InvalidArgumentError(
        absl::StrCat("ParseIdx: header truncated: ", bytes.size(),
                     " bytes, need ", header, " for ", ndim, " dimensions"));
  }
  IdxArray out;
  uint64_t total = 1;
  for (size_t i = 0; i < ndim; ++i) {
    const uint32_t d = ReadBigEndian32(p + 4 + 4 * i);
    const uint32_t limit = i == 0 ? kIdxMaxItems : kIdxMaxExtent;
    if (d == 0 || d > limit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ParseIdx: dimension ", i, " is ", d, ", expected 1..", limit));
    }
    out.dims.push_back(d);
    total *= d;  // <= 2^20 * 4096^2 = 2^44: no overflow
  }
  const uint64_t payload = bytes.size() - header;
  if (payload != total) {
    return absl::InvalidArgumentError(
        absl::StrCat("ParseIdx: payload is ", payload,
                     " bytes, expected ", total, " (product of dimensions)"));
  }
  out.values.assign(p + header, p + header + payload);
  return out;
}

absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path,
                                     uint32_t expected_magic) {
  // The largest valid file: header plus kIdxMaxItems 28x28-ish images is far
  // below this bound; it only stops a decompression bomb.
  constexpr size_t kMaxFileBytes = size_t{1} << 30;
  BF_ASSIGN_OR_RETURN(std::string bytes,
                      ReadMaybeGzipFile(path, kMaxFileBytes));
  absl::StatusOr<IdxArray> parsed = ParseIdx(bytes, expected_magic);
  if (!parsed.ok()) {
    return AnnotateStatus(parsed.status(), absl::StrCat("ReadIdxFile ", path));
  }
  return parsed;
}

}  // namespace blindfold::data
