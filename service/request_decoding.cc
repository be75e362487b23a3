// File: service/request_decoding.cc
#include "service/request_decoding.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "service/auth.h"

namespace blindfold::service {

namespace v1 = ::blindfold::v1;

bool IsValidKeyId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string NewKeyId() {
  if (sodium_init() < 0) return "";
  uint8_t raw[16];
  randombytes_buf(raw, sizeof(raw));
  char hex[33];
  sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
  return std::string(hex, 32);
}

absl::Status CheckKeyIdField(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("key_id is empty");
  if (!IsValidKeyId(id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key_id is not 32 lowercase hex digits (", id.size(), " characters)"));
  }
  return absl::OkStatus();
}

absl::Status CheckInferRequest(const v1::InferRequest& r, int64_t max_ciphertext_bytes) {
  if (!IsValidName(r.model())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model name is not 1 to 64 of [A-Za-z0-9._@-] (", r.model().size(), " bytes)"));
  }
  if (absl::Status s = CheckKeyIdField(r.key_id()); !s.ok()) return s;
  if (r.request_id().size() > 128) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request_id has ", r.request_id().size(), " bytes, at most 128 allowed"));
  }
  if (r.ciphertext().empty()) return absl::InvalidArgumentError("ciphertext is empty");
  if (static_cast<int64_t>(r.ciphertext().size()) > max_ciphertext_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "ciphertext has ", r.ciphertext().size(), " bytes, more than the server's limit of ",
        max_ciphertext_bytes));
  }
  return absl::OkStatus();
}

absl::Status KeyUpload::Add(const v1::RegisterKeysRequest& m) {
  switch (m.part_case()) {
    case v1::RegisterKeysRequest::kHeader: {
      if (header_) return absl::InvalidArgumentError("RegisterKeys: a second header");
      const v1::KeysHeader& h = m.header();
      if (!IsValidName(h.model())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "RegisterKeys: model name is not 1 to 64 of [A-Za-z0-9._@-] (",
            h.model().size(), " bytes)"));
      }
      if (h.total_bytes() < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "RegisterKeys: header announces ", h.total_bytes(), " key bytes"));
      }
      if (h.total_bytes() > max_) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "RegisterKeys: ", h.total_bytes(), " key bytes, more than the server's limit of ",
            max_));
      }
      header_ = true;
      model_ = h.model();
      total_ = h.total_bytes();
      return absl::OkStatus();
    }
    case v1::RegisterKeysRequest::kChunk: {
      if (!header_) {
        return absl::InvalidArgumentError(
            "RegisterKeys: a key chunk before the header (send the header first)");
      }
      if (m.chunk().empty()) return absl::InvalidArgumentError("RegisterKeys: an empty chunk");
      if (static_cast<int64_t>(m.chunk().size()) > total_ - received()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "RegisterKeys: ", received() + static_cast<int64_t>(m.chunk().size()),
            " key bytes received, the header announced ", total_));
      }
      bytes_ += m.chunk();
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("RegisterKeys: a message with neither header nor chunk");
  }
}

absl::StatusOr<std::string> KeyUpload::Finish() {
  if (!header_) return absl::InvalidArgumentError("RegisterKeys: no header");
  if (received() != total_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RegisterKeys: the stream ended after ", received(), " of ", total_,
        " announced key bytes (truncated upload)"));
  }
  return std::move(bytes_);
}

}  // namespace blindfold::service
