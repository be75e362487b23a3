// File: service/request_decoding.h
// The first checks on what a client sends, before any work is queued:
// names and ids, sizes, the order of a key upload's messages. Pure
// functions of the request (fuzz/request_decoding_fuzzer.cc runs them, with
// the key and ciphertext deserializers behind them, on arbitrary bytes).
#ifndef BLINDFOLD_SERVICE_REQUEST_DECODING_H_
#define BLINDFOLD_SERVICE_REQUEST_DECODING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/blindfold/v1/inference.pb.h"

namespace blindfold::service {

// A key id: 32 lowercase hex digits (128 bits from the CSPRNG).
bool IsValidKeyId(std::string_view id);
std::string NewKeyId();

// InvalidArgument naming the field: a model name that is not a valid name
// (service/auth.h), a key id that is not 32 hex digits, an empty
// ciphertext; ResourceExhausted for a ciphertext over `max_ciphertext_bytes`.
absl::Status CheckInferRequest(const blindfold::v1::InferRequest& r,
                               int64_t max_ciphertext_bytes);
absl::Status CheckKeyIdField(std::string_view id);

// Reassembles a RegisterKeys stream: one header (a valid model name,
// total_bytes in 1..max_key_bytes), then chunks that sum to exactly
// total_bytes. Memory grows only with bytes received (never reserved from
// the header).
class KeyUpload {
 public:
  explicit KeyUpload(int64_t max_key_bytes) : max_(max_key_bytes) {}
  // InvalidArgument: a chunk before the header, a second header, an empty
  // part, more bytes than announced; ResourceExhausted: total_bytes over
  // the limit.
  absl::Status Add(const blindfold::v1::RegisterKeysRequest& m);
  // The key bytes. InvalidArgument: no header, fewer bytes than announced.
  absl::StatusOr<std::string> Finish();

  const std::string& model() const { return model_; }
  int64_t received() const { return static_cast<int64_t>(bytes_.size()); }

 private:
  const int64_t max_;
  bool header_ = false;
  std::string model_;
  int64_t total_ = 0;
  std::string bytes_;
};

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_REQUEST_DECODING_H_
