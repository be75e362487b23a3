// File: service/redis_key_store.cc
// The shared key store: Redis (hiredis), for replicas that serve the same
// clients.
//   <prefix>key:<id>            hash: owner model plan_sha256 fingerprint
//                               bytes digest created chunks
//   <prefix>key:<id>:chunk:<i>  string: kKeyStoreChunkBytes of key bytes
// Redis strings stop at 512 MB; chunks keep large key sets storable. A Put
// writes chunks and record in one MULTI/EXEC, so readers see all or none.
// One connection, used under a lock; a dropped connection is reopened once
// per call.
#include <hiredis/hiredis.h>

#include <charconv>
#include <map>
#include <mutex>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status.h"
#include "service/key_store.h"

namespace blindfold::service {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisKeyStore final : public KeyStore {
 public:
  RedisKeyStore(std::string host, int port, std::string password, std::string prefix)
      : host_(std::move(host)),
        port_(port),
        password_(std::move(password)),
        prefix_(std::move(prefix)) {}
  ~RedisKeyStore() override {
    if (ctx_ != nullptr) redisFree(ctx_);
  }

  absl::Status Connect() {
    if (ctx_ != nullptr) redisFree(ctx_);
    timeval tv{5, 0};
    ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
    if (ctx_ == nullptr || ctx_->err) {
      const std::string err = ctx_ ? ctx_->errstr : "out of memory";
      if (ctx_ != nullptr) redisFree(ctx_);
      ctx_ = nullptr;
      return absl::UnavailableError(absl::StrCat("key store: cannot connect to redis at ",
                                                 host_, ":", port_, ": ", err));
    }
    redisSetTimeout(ctx_, timeval{30, 0});
    if (!password_.empty()) {
      Reply r(static_cast<redisReply*>(redisCommand(ctx_, "AUTH %b", password_.data(),
                                                    password_.size())));
      if (!r || r->type == REDIS_REPLY_ERROR) {
        return absl::PermissionDeniedError(
            absl::StrCat("key store: redis at ", host_, ":", port_, " refused AUTH"));
      }
    }
    Reply r(static_cast<redisReply*>(redisCommand(ctx_, "PING")));
    if (!r || r->type == REDIS_REPLY_ERROR) return Down("PING");
    return absl::OkStatus();
  }

  absl::Status Put(const KeyRecord& rec, std::string_view keys) override {
    std::lock_guard<std::mutex> lock(mu_);
    return Retry([&] { return PutLocked(rec, keys); });
  }

  absl::StatusOr<KeyRecord> Info(const std::string& key_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<KeyRecord> out;
    absl::Status s = Retry([&] {
      int64_t chunks = 0;
      out = InfoLocked(key_id, &chunks);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  absl::StatusOr<std::pair<KeyRecord, std::string>> Get(const std::string& key_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<std::pair<KeyRecord, std::string>> out;
    absl::Status s = Retry([&] {
      out = GetLocked(key_id);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  absl::Status Delete(const std::string& key_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return Retry([&] { return DeleteLocked(key_id); });
  }

  std::string Describe() const override { return absl::StrCat("redis:", host_, ":", port_); }

 private:
  // Runs `f`; on a dropped connection reconnects and runs it once more.
  template <typename F>
  absl::Status Retry(F f) {
    if (ctx_ == nullptr || ctx_->err) BF_RETURN_IF_ERROR(Connect());
    absl::Status s = f();
    if (s.code() == absl::StatusCode::kUnavailable) {
      BF_RETURN_IF_ERROR(Connect());
      s = f();
    }
    return s;
  }

  absl::Status Down(const char* what) {
    const std::string err = ctx_ && ctx_->err ? ctx_->errstr : "error reply";
    if (ctx_ != nullptr && ctx_->err) {
      redisFree(ctx_);
      ctx_ = nullptr;
    }
    return absl::UnavailableError(absl::StrCat("key store: redis at ", host_, ":", port_,
                                               ": ", what, ": ", err));
  }

  std::string RecordKey(const std::string& id) const { return absl::StrCat(prefix_, "key:", id); }
  std::string ChunkKey(const std::string& id, int64_t i) const {
    return absl::StrCat(prefix_, "key:", id, ":chunk:", i);
  }

  // Appends a command given as binary-safe arguments.
  void Append(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (std::string_view a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data());
  }

  Reply Next() {
    void* r = nullptr;
    if (redisGetReply(ctx_, &r) != REDIS_OK) return nullptr;
    return Reply(static_cast<redisReply*>(r));
  }

  absl::Status PutLocked(const KeyRecord& r, std::string_view keys) {
    const std::string rk = RecordKey(r.key_id);
    Reply exists(static_cast<redisReply*>(
        redisCommand(ctx_, "EXISTS %b", rk.data(), rk.size())));
    if (!exists) return Down("EXISTS");
    if (exists->type == REDIS_REPLY_INTEGER && exists->integer > 0) {
      return absl::AlreadyExistsError(absl::StrCat("key store: key ", r.key_id, " exists"));
    }
    const int64_t chunks =
        static_cast<int64_t>((keys.size() + kKeyStoreChunkBytes - 1) / kKeyStoreChunkBytes);
    std::vector<std::string> chunk_keys;
    for (int64_t i = 0; i < chunks; ++i) chunk_keys.push_back(ChunkKey(r.key_id, i));
    const std::string fp = absl::StrCat(r.fingerprint), bytes = absl::StrCat(r.bytes),
                      created = absl::StrCat(r.created_unix_seconds),
                      nchunks = absl::StrCat(chunks);
    Append({"MULTI"});
    for (int64_t i = 0; i < chunks; ++i) {
      Append({"SET", chunk_keys[i],
              keys.substr(static_cast<size_t>(i) * kKeyStoreChunkBytes, kKeyStoreChunkBytes)});
    }
    Append({"HSET", rk, "owner", r.owner, "model", r.model, "plan_sha256", r.plan_sha256,
            "fingerprint", fp, "bytes", bytes, "digest", r.digest, "created", created,
            "chunks", nchunks});
    Append({"EXEC"});
    // MULTI, one QUEUED per command, then EXEC's array.
    for (int64_t i = 0; i < chunks + 2; ++i) {
      Reply q = Next();
      if (!q) return Down("MULTI");
      if (q->type == REDIS_REPLY_ERROR) {
        const std::string err(q->str, q->len);
        Reply drain = Next();  // EXEC (aborted)
        for (int64_t j = i + 1; j < chunks + 2 && drain; ++j) drain = Next();
        return absl::UnavailableError(
            absl::StrCat("key store: redis refused the write: ", err));
      }
    }
    Reply exec = Next();
    if (!exec) return Down("EXEC");
    if (exec->type != REDIS_REPLY_ARRAY) {
      return absl::UnavailableError("key store: redis transaction aborted");
    }
    for (size_t i = 0; i < exec->elements; ++i) {
      if (exec->element[i]->type == REDIS_REPLY_ERROR) {
        return absl::UnavailableError(absl::StrCat("key store: redis write failed: ",
                                                   std::string(exec->element[i]->str,
                                                               exec->element[i]->len)));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<KeyRecord> InfoLocked(const std::string& key_id, int64_t* chunks) {
    const std::string rk = RecordKey(key_id);
    Reply r(static_cast<redisReply*>(redisCommand(ctx_, "HGETALL %b", rk.data(), rk.size())));
    if (!r) return Down("HGETALL");
    if (r->type != REDIS_REPLY_ARRAY) {
      return absl::UnavailableError("key store: redis HGETALL: unexpected reply");
    }
    if (r->elements == 0) {
      return absl::NotFoundError(absl::StrCat("key store: no key ", key_id));
    }
    std::map<std::string, std::string> f;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
      f[std::string(r->element[i]->str, r->element[i]->len)] =
          std::string(r->element[i + 1]->str, r->element[i + 1]->len);
    }
    KeyRecord rec;
    rec.key_id = std::string(key_id);
    rec.owner = f["owner"];
    rec.model = f["model"];
    rec.plan_sha256 = f["plan_sha256"];
    rec.digest = f["digest"];
    if (!absl::SimpleAtoi(f["fingerprint"], &rec.fingerprint) ||
        !absl::SimpleAtoi(f["bytes"], &rec.bytes) ||
        !absl::SimpleAtoi(f["created"], &rec.created_unix_seconds) ||
        !absl::SimpleAtoi(f["chunks"], chunks) || rec.owner.empty() || rec.bytes < 0 ||
        *chunks < 0 || *chunks > (int64_t{1} << 20)) {
      return absl::DataLossError(absl::StrCat("key store: key ", key_id,
                                              ": damaged record in redis"));
    }
    return rec;
  }

  absl::StatusOr<std::pair<KeyRecord, std::string>> GetLocked(const std::string& key_id) {
    int64_t chunks = 0;
    BF_ASSIGN_OR_RETURN(KeyRecord rec, InfoLocked(key_id, &chunks));
    std::string keys;
    keys.reserve(static_cast<size_t>(rec.bytes));
    for (int64_t i = 0; i < chunks; ++i) {
      const std::string ck = ChunkKey(key_id, i);
      Append({"GET", ck});
    }
    bool damaged = false;
    for (int64_t i = 0; i < chunks; ++i) {
      Reply c = Next();
      if (!c) return Down("GET");
      if (c->type != REDIS_REPLY_STRING ||
          static_cast<int64_t>(keys.size() + c->len) > rec.bytes) {
        damaged = true;
        continue;
      }
      keys.append(c->str, c->len);
    }
    if (damaged || static_cast<int64_t>(keys.size()) != rec.bytes ||
        KeyDigest(keys) != rec.digest) {
      return absl::DataLossError(absl::StrCat(
          "key store: key ", key_id, ": stored bytes in redis do not match their record"));
    }
    return std::make_pair(std::move(rec), std::move(keys));
  }

  absl::Status DeleteLocked(const std::string& key_id) {
    int64_t chunks = 0;
    BF_ASSIGN_OR_RETURN(KeyRecord rec, InfoLocked(key_id, &chunks));
    std::vector<std::string> names = {RecordKey(key_id)};
    for (int64_t i = 0; i < chunks; ++i) names.push_back(ChunkKey(key_id, i));
    std::vector<std::string_view> args = {"DEL"};
    for (const auto& n : names) args.push_back(n);
    Append(args);
    Reply r = Next();
    if (!r) return Down("DEL");
    if (r->type == REDIS_REPLY_ERROR) {
      return absl::UnavailableError(absl::StrCat("key store: redis DEL: ",
                                                 std::string(r->str, r->len)));
    }
    return absl::OkStatus();
  }

  std::mutex mu_;
  redisContext* ctx_ = nullptr;
  const std::string host_;
  const int port_;
  const std::string password_, prefix_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KeyStore>> OpenRedisKeyStore(const std::string& address,
                                                            const std::string& password,
                                                            const std::string& prefix) {
  const size_t colon = address.rfind(':');
  int port = 6379;
  std::string host = address;
  if (colon != std::string::npos) {
    host = address.substr(0, colon);
    if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 1 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--redis: '", address, "' is not HOST:PORT"));
    }
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--redis: '", address, "' has no host"));
  }
  auto store = std::make_unique<RedisKeyStore>(host, port, password, prefix);
  BF_RETURN_IF_ERROR(store->Connect());
  return std::unique_ptr<KeyStore>(std::move(store));
}

}  // namespace blindfold::service
