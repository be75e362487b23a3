// File: base/check.h
// Internal-invariant checks. BF_CHECK aborts with file:line and a message in
// every build; BF_DCHECK only in debug builds. Neither is for caller errors:
// those return absl::Status (see docs/design/errors.md).
#ifndef BLINDFOLD_BASE_CHECK_H_
#define BLINDFOLD_BASE_CHECK_H_

namespace blindfold::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr);
}  // namespace blindfold::internal

#define BF_CHECK(cond)                                                  \
  do {                                                                  \
    if (__builtin_expect(!(cond), 0))                                   \
      ::blindfold::internal::CheckFailed(__FILE__, __LINE__, #cond);    \
  } while (0)

#ifdef NDEBUG
#define BF_DCHECK(cond) \
  do {                  \
  } while (0 && (cond))
#else
#define BF_DCHECK(cond) BF_CHECK(cond)
#endif

#endif  // BLINDFOLD_BASE_CHECK_H_
