// File: base/status.h
// Status helpers used across every layer: early-return macros for absl::Status
// and absl::StatusOr, and an annotator that prefixes an operation name.
#ifndef BLINDFOLD_BASE_STATUS_H_
#define BLINDFOLD_BASE_STATUS_H_

#include "absl/strings/string_view.h"
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace blindfold {

// Returns `s` with "op: " prepended to its message (OK passes through).
inline absl::Status AnnotateStatus(const absl::Status& s, absl::string_view op) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(op, ": ", s.message()));
}

}  // namespace blindfold

#define BF_STATUS_CONCAT_INNER_(a, b) a##b
#define BF_STATUS_CONCAT_(a, b) BF_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status); returns it from the caller if not OK.
#define BF_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    const ::absl::Status bf_status_ = (expr);     \
    if (!bf_status_.ok()) return bf_status_;      \
  } while (0)

// BF_ASSIGN_OR_RETURN(T x, StatusOrExpr): declares/assigns x or returns error.
#define BF_ASSIGN_OR_RETURN(lhs, expr) \
  BF_ASSIGN_OR_RETURN_IMPL_(BF_STATUS_CONCAT_(bf_statusor_, __LINE__), lhs, expr)
#define BF_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // BLINDFOLD_BASE_STATUS_H_
