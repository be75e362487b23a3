// File: service/auth.h
// Bearer tokens: who a call comes from. A token is "bf_" + 64 hex digits
// (256 random bits, NewToken); the server keeps only its BLAKE2b-256 hash
// (libsodium crypto_generichash), in a tokens file of lines
//   <client-id> <64 hex digits of the hash>     # comments and blank lines ok
// and compares a presented token's hash with every entry in constant time
// (sodium_memcmp, no early exit), so neither the file nor the timing gives
// a token away. Tokens are high-entropy, so a fast hash suffices; a slow
// password hash would only add per-call latency (docs/service.md, "Tokens").
#ifndef BLINDFOLD_SERVICE_AUTH_H_
#define BLINDFOLD_SERVICE_AUTH_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace blindfold::service {

class TokenAuthenticator {
 public:
  // Parses a tokens file's text. Errors name the line: a bad client id
  // ([A-Za-z0-9._@-], 1 to 64 characters), a hash that is not 64 hex
  // digits, a client id listed twice, no entries at all.
  static absl::StatusOr<TokenAuthenticator> Parse(std::string_view text);
  static absl::StatusOr<TokenAuthenticator> FromFile(const std::string& path);

  // The client id for an "authorization" metadata value "Bearer <token>".
  // Errors (Unauthenticated): no value, not a bearer token, unknown token.
  // The messages never echo the token.
  absl::StatusOr<std::string> Authenticate(std::string_view authorization) const;

  size_t size() const { return entries_.size(); }

  // A fresh token from the OS CSPRNG, and the hash line to put in the file.
  static std::string NewToken();
  static std::string HashHex(std::string_view token);

 private:
  struct Entry {
    std::string client;
    std::array<uint8_t, 32> hash;
  };
  std::vector<Entry> entries_;
};

// Client ids, model names and key ids share one rule: 1 to 64 of
// [A-Za-z0-9._@-], not starting with '.'.
bool IsValidName(std::string_view s);

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_AUTH_H_
