// File: service/key_store.h
// Where registered evaluation keys live: an embedded SQLite database in a
// data directory (the default; survives restarts) or Redis (shared by
// replicas). Keys are validated before they are stored (service/
// inference_service.cc); a store keeps bytes and their record, and checks
// on every read that the bytes are those it was given (length and BLAKE2b
// digest), so a damaged store is DataLoss, never wrong keys.
#ifndef BLINDFOLD_SERVICE_KEY_STORE_H_
#define BLINDFOLD_SERVICE_KEY_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace blindfold::service {

struct KeyRecord {
  std::string key_id;  // 32 hex digits from the CSPRNG
  std::string owner;   // client id (service/auth.h) that registered them
  std::string model;
  std::string plan_sha256;  // the plan they were validated against
  uint64_t fingerprint = 0;  // their CKKS parameters
  int64_t bytes = 0;
  std::string digest;  // hex BLAKE2b-256 of the key bytes
  int64_t created_unix_seconds = 0;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // Stores keys under record.key_id (record.bytes and digest must describe
  // `keys`: KeyDigest). Errors: AlreadyExists, Unavailable (store down).
  virtual absl::Status Put(const KeyRecord& record, std::string_view keys) = 0;
  // NotFound for an unknown id; DataLoss for a damaged record.
  virtual absl::StatusOr<KeyRecord> Info(const std::string& key_id) = 0;
  // The record and the key bytes, checked against the record.
  virtual absl::StatusOr<std::pair<KeyRecord, std::string>> Get(const std::string& key_id) = 0;
  // NotFound for an unknown id.
  virtual absl::Status Delete(const std::string& key_id) = 0;
  // "sqlite:<path>" or "redis:<host>:<port>" (no password).
  virtual std::string Describe() const = 0;
};

// Hex BLAKE2b-256 of key bytes.
std::string KeyDigest(std::string_view keys);

// `dir`/keys.sqlite3 (dir created 0700 if missing), WAL journal,
// synchronous=FULL: a Put that returned is on disk.
absl::StatusOr<std::unique_ptr<KeyStore>> OpenSqliteKeyStore(const std::string& dir);

// Redis at host:port (password from `password`, empty: none), keys under
// `prefix`. Every Put is one MULTI/EXEC transaction. Durability is Redis's
// (docs/service.md: run it with appendonly yes).
absl::StatusOr<std::unique_ptr<KeyStore>> OpenRedisKeyStore(const std::string& address,
                                                            const std::string& password,
                                                            const std::string& prefix);

// Key bytes are stored in chunks of this size (SQLite rows, Redis strings),
// below both stores' value limits.
inline constexpr size_t kKeyStoreChunkBytes = size_t{16} << 20;

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_KEY_STORE_H_
