// File: service/sqlite_key_store.cc
// The embedded key store: one SQLite database file.
//   keys(key_id PRIMARY KEY, owner, model, plan_sha256, fingerprint,
//        bytes, digest, created, chunks)
//   key_chunks(key_id, idx, data BLOB)  -- kKeyStoreChunkBytes each
// SQLite limits one value to 1 GB by default; chunks keep large key sets
// (cnn-deep's are 2.6 GB) storable.
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "service/key_store.h"

namespace blindfold::service {
namespace {

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK && stmt_ != nullptr; }
  sqlite3_stmt* get() { return stmt_; }
  void Text(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Blob(int i, std::string_view b) {
    sqlite3_bind_blob64(stmt_, i, b.data(), b.size(), SQLITE_STATIC);
  }
  int Step() { return sqlite3_step(stmt_); }
  std::string ColumnText(int i) {
    const unsigned char* t = sqlite3_column_text(stmt_, i);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  }
  int64_t ColumnInt(int i) { return sqlite3_column_int64(stmt_, i); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

class SqliteKeyStore final : public KeyStore {
 public:
  SqliteKeyStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteKeyStore() override { sqlite3_close(db_); }

  absl::Status Put(const KeyRecord& r, std::string_view keys) override {
    std::lock_guard<std::mutex> lock(mu_);
    BF_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    absl::Status s = PutLocked(r, keys);
    if (!s.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return s;
    }
    return Exec("COMMIT");
  }

  absl::StatusOr<KeyRecord> Info(const std::string& key_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t chunks = 0;
    return InfoLocked(key_id, &chunks);
  }

  absl::StatusOr<std::pair<KeyRecord, std::string>> Get(const std::string& key_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    BF_RETURN_IF_ERROR(Exec("BEGIN"));
    int64_t chunks = 0;
    auto r = InfoLocked(key_id, &chunks);
    if (!r.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return r.status();
    }
    std::string keys;
    keys.reserve(static_cast<size_t>(r->bytes));
    Statement st(db_, "SELECT idx, data FROM key_chunks WHERE key_id = ? ORDER BY idx");
    if (!st.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return Error("read key chunks");
    }
    st.Text(1, key_id);
    int64_t expect = 0;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      const int64_t idx = st.ColumnInt(0);
      const void* data = sqlite3_column_blob(st.get(), 1);
      const int n = sqlite3_column_bytes(st.get(), 1);
      if (idx != expect++ || static_cast<int64_t>(keys.size()) + n > r->bytes) {
        Exec("ROLLBACK").IgnoreError();
        return absl::DataLossError(absl::StrCat("key store: key ", key_id,
                                                ": chunks out of order or too long"));
      }
      keys.append(static_cast<const char*>(data), static_cast<size_t>(n));
    }
    Exec("COMMIT").IgnoreError();
    if (rc != SQLITE_DONE) return Error("read key chunks");
    if (expect != chunks || static_cast<int64_t>(keys.size()) != r->bytes ||
        KeyDigest(keys) != r->digest) {
      return absl::DataLossError(absl::StrCat(
          "key store: key ", key_id, ": stored bytes do not match their record (",
          keys.size(), " bytes in ", expect, " chunks, record says ", r->bytes, " in ",
          chunks, ")"));
    }
    return std::make_pair(*std::move(r), std::move(keys));
  }

  absl::Status Delete(const std::string& key_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    BF_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Statement a(db_, "DELETE FROM keys WHERE key_id = ?");
    Statement b(db_, "DELETE FROM key_chunks WHERE key_id = ?");
    if (!a.ok() || !b.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return Error("delete");
    }
    a.Text(1, key_id);
    b.Text(1, key_id);
    if (a.Step() != SQLITE_DONE) {
      Exec("ROLLBACK").IgnoreError();
      return Error("delete");
    }
    const int deleted = sqlite3_changes(db_);
    if (b.Step() != SQLITE_DONE) {
      Exec("ROLLBACK").IgnoreError();
      return Error("delete");
    }
    BF_RETURN_IF_ERROR(Exec("COMMIT"));
    if (deleted == 0) {
      return absl::NotFoundError(absl::StrCat("key store: no key ", key_id));
    }
    return absl::OkStatus();
  }

  std::string Describe() const override { return absl::StrCat("sqlite:", path_); }

  absl::Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return absl::UnavailableError(absl::StrCat("key store (", path_, "): ", sql, ": ", msg));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(const char* what) {
    return absl::UnavailableError(
        absl::StrCat("key store (", path_, "): ", what, ": ", sqlite3_errmsg(db_)));
  }

  absl::Status PutLocked(const KeyRecord& r, std::string_view keys) {
    const int64_t chunks =
        static_cast<int64_t>((keys.size() + kKeyStoreChunkBytes - 1) / kKeyStoreChunkBytes);
    Statement st(db_,
                 "INSERT INTO keys (key_id, owner, model, plan_sha256, fingerprint, bytes, "
                 "digest, created, chunks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st.ok()) return Error("insert");
    st.Text(1, r.key_id);
    st.Text(2, r.owner);
    st.Text(3, r.model);
    st.Text(4, r.plan_sha256);
    st.Int(5, static_cast<int64_t>(r.fingerprint));
    st.Int(6, r.bytes);
    st.Text(7, r.digest);
    st.Int(8, r.created_unix_seconds);
    st.Int(9, chunks);
    const int rc = st.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(absl::StrCat("key store: key ", r.key_id, " exists"));
    }
    if (rc != SQLITE_DONE) return Error("insert");
    for (int64_t i = 0; i < chunks; ++i) {
      Statement c(db_, "INSERT INTO key_chunks (key_id, idx, data) VALUES (?, ?, ?)");
      if (!c.ok()) return Error("insert chunk");
      c.Text(1, r.key_id);
      c.Int(2, i);
      c.Blob(3, keys.substr(static_cast<size_t>(i) * kKeyStoreChunkBytes,
                            kKeyStoreChunkBytes));
      if (c.Step() != SQLITE_DONE) return Error("insert chunk");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<KeyRecord> InfoLocked(const std::string& key_id, int64_t* chunks) {
    Statement st(db_,
                 "SELECT owner, model, plan_sha256, fingerprint, bytes, digest, created, "
                 "chunks FROM keys WHERE key_id = ?");
    if (!st.ok()) return Error("select");
    st.Text(1, key_id);
    const int rc = st.Step();
    if (rc == SQLITE_DONE) {
      return absl::NotFoundError(absl::StrCat("key store: no key ", key_id));
    }
    if (rc != SQLITE_ROW) return Error("select");
    KeyRecord r;
    r.key_id = std::string(key_id);
    r.owner = st.ColumnText(0);
    r.model = st.ColumnText(1);
    r.plan_sha256 = st.ColumnText(2);
    r.fingerprint = static_cast<uint64_t>(st.ColumnInt(3));
    r.bytes = st.ColumnInt(4);
    r.digest = st.ColumnText(5);
    r.created_unix_seconds = st.ColumnInt(6);
    *chunks = st.ColumnInt(7);
    return r;
  }

  std::mutex mu_;
  sqlite3* db_;
  const std::string path_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KeyStore>> OpenSqliteKeyStore(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("key store: cannot create data directory ", dir, ": ", ec.message()));
    }
    chmod(dir.c_str(), S_IRWXU);
  }
  const std::string path = (std::filesystem::path(dir) / "keys.sqlite3").string();
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("key store: cannot open ", path, ": ", msg));
  }
  sqlite3_busy_timeout(db, 10000);
  auto store = std::make_unique<SqliteKeyStore>(db, path);
  BF_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode = WAL"));
  BF_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous = FULL"));
  BF_RETURN_IF_ERROR(store->Exec(
      "CREATE TABLE IF NOT EXISTS keys (key_id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
      "model TEXT NOT NULL, plan_sha256 TEXT NOT NULL, fingerprint INTEGER NOT NULL, "
      "bytes INTEGER NOT NULL, digest TEXT NOT NULL, created INTEGER NOT NULL, "
      "chunks INTEGER NOT NULL)"));
  BF_RETURN_IF_ERROR(store->Exec(
      "CREATE TABLE IF NOT EXISTS key_chunks (key_id TEXT NOT NULL, idx INTEGER NOT NULL, "
      "data BLOB NOT NULL, PRIMARY KEY (key_id, idx))"));
  chmod(path.c_str(), S_IRUSR | S_IWUSR);
  return std::unique_ptr<KeyStore>(std::move(store));
}

}  // namespace blindfold::service
