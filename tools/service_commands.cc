// File: tools/service_commands.cc
#include "tools/service_commands.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "client/client.h"
#include "data/fashion_mnist.h"
#include "nlohmann/json.hpp"
#include "service/auth.h"
#include "service/log.h"
#include "service/server.h"
#include "tools/client_flags.h"
#include "tools/file_io.h"
#include "tools/load_command.h"

namespace blindfold::tools {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// ------------------------------------------------------------------ serve --

struct ServeArgs {
  service::ServerOptions o;
  std::string ready_file;
};

absl::Status Serve(const ServeArgs& a) {
  // SIGTERM / SIGINT are taken by sigwait below: block them before any
  // thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  service::ServerOptions o = a.o;
  o.redis_password = Env("BLINDFOLD_REDIS_PASSWORD");
  BF_ASSIGN_OR_RETURN(std::unique_ptr<service::Server> server, service::Server::Start(o));
  if (!a.ready_file.empty()) {
    // Written whole, then renamed: a reader never sees half a file.
    const std::string tmp = a.ready_file + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << json{{"port", server->port()}, {"metrics_port", server->metrics_port()},
                {"pid", static_cast<int64_t>(getpid())}}
               .dump()
        << "\n";
    }
    std::error_code ec;
    fs::rename(tmp, a.ready_file, ec);
    if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot write ", a.ready_file));
  }
  int sig = 0;
  sigwait(&signals, &sig);
  service::LogLine("info", "signal").Add("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  server->Drain();
  server.reset();
  return absl::OkStatus();
}

void AddServe(CLI::App& app, ServeArgs* a, CLI::App** cmd) {
  CLI::App* s = app.add_subcommand(
      "serve", "Run a Blindfold server: the models in a plan directory over gRPC");
  *cmd = s;
  service::ServerOptions& o = a->o;
  s->add_option("--models", o.models_dir, "directory of <name>.plan files")
      ->envname("BLINDFOLD_MODELS")
      ->required();
  s->add_option("--listen", o.listen, "gRPC address HOST:PORT (port 0: any free port)")
      ->envname("BLINDFOLD_LISTEN")
      ->capture_default_str();
  s->add_option("--key-store", o.key_store, "sqlite (embedded, in --data-dir) or redis")
      ->envname("BLINDFOLD_KEY_STORE")
      ->capture_default_str();
  s->add_option("--data-dir", o.data_dir, "where the SQLite key store lives")
      ->envname("BLINDFOLD_DATA_DIR")
      ->capture_default_str();
  s->add_option("--redis", o.redis, "Redis HOST:PORT (password: BLINDFOLD_REDIS_PASSWORD)")
      ->envname("BLINDFOLD_REDIS")
      ->capture_default_str();
  s->add_option("--redis-prefix", o.redis_prefix, "prefix of every Redis key")
      ->envname("BLINDFOLD_REDIS_PREFIX")
      ->capture_default_str();
  s->add_option("--key-cache-mb", o.key_cache_mb, "memory for parsed keys (LRU)")
      ->envname("BLINDFOLD_KEY_CACHE_MB")
      ->capture_default_str();
  s->add_option("--key-recheck-seconds", o.key_recheck_seconds,
                "how long a cached key is used before the store confirms it still exists")
      ->envname("BLINDFOLD_KEY_RECHECK_SECONDS")
      ->capture_default_str();
  s->add_option("--plaintext-cache-mb", o.plaintext_cache_mb,
                "memory per model for encoded diagonals")
      ->envname("BLINDFOLD_PLAINTEXT_CACHE_MB")
      ->capture_default_str();
  s->add_option("--tokens", o.tokens_file, "bearer-token file: '<client-id> <hash>' lines")
      ->envname("BLINDFOLD_TOKENS");
  s->add_flag("--allow-unauthenticated", o.allow_unauthenticated,
              "serve without tokens (every caller is 'anonymous'; trusted networks only)")
      ->envname("BLINDFOLD_ALLOW_UNAUTHENTICATED");
  s->add_option("--tls-cert", o.tls_cert, "PEM certificate chain for TLS")
      ->envname("BLINDFOLD_TLS_CERT");
  s->add_option("--tls-key", o.tls_key, "PEM private key for TLS")->envname("BLINDFOLD_TLS_KEY");
  s->add_option("--metrics-listen", o.metrics_listen,
                "HOST:PORT for Prometheus GET /metrics and /healthz (empty: off)")
      ->envname("BLINDFOLD_METRICS_LISTEN");
  s->add_option("--workers", o.workers, "requests run at once (each uses every core)")
      ->envname("BLINDFOLD_WORKERS")
      ->capture_default_str();
  s->add_option("--queue", o.queue, "requests that may wait; beyond: RESOURCE_EXHAUSTED")
      ->envname("BLINDFOLD_QUEUE")
      ->capture_default_str();
  s->add_option("--max-message-mb", o.max_message_mb, "largest gRPC message (a ciphertext)")
      ->envname("BLINDFOLD_MAX_MESSAGE_MB")
      ->capture_default_str();
  s->add_option("--max-key-mb", o.max_key_mb, "largest evaluation-key upload")
      ->envname("BLINDFOLD_MAX_KEY_MB")
      ->capture_default_str();
  s->add_option("--max-uploads", o.max_uploads, "key uploads at once")
      ->envname("BLINDFOLD_MAX_UPLOADS")
      ->capture_default_str();
  s->add_option("--request-timeout", o.request_timeout_seconds,
                "seconds a request may take at most (a shorter client deadline wins)")
      ->envname("BLINDFOLD_REQUEST_TIMEOUT")
      ->capture_default_str();
  s->add_option("--drain-seconds", o.drain_seconds,
                "on SIGTERM: how long calls in flight may finish")
      ->envname("BLINDFOLD_DRAIN_SECONDS")
      ->capture_default_str();
  s->add_option("--ready-file", a->ready_file,
                "write {\"port\",\"metrics_port\",\"pid\"} here once serving");
}

// ------------------------------------------------------------------ token --

struct TokenArgs {
  std::string client, tokens_file;
};

absl::Status Token(const TokenArgs& a, std::ostream& out, std::ostream& err) {
  if (!service::IsValidName(a.client)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--client '", a.client, "' is not 1 to 64 of [A-Za-z0-9._@-]"));
  }
  const std::string token = service::TokenAuthenticator::NewToken();
  const std::string line =
      absl::StrCat(a.client, " ", service::TokenAuthenticator::HashHex(token), "\n");
  if (!a.tokens_file.empty()) {
    std::ofstream f(a.tokens_file, std::ios::app);
    f << line;
    if (!f.good()) return absl::PermissionDeniedError(absl::StrCat("cannot append to ", a.tokens_file));
    err << "added client '" << a.client << "' to " << a.tokens_file
        << " (its hash only); the token is printed once, on stdout\n";
  } else {
    err << "tokens-file line (the server keeps only this hash):\n" << line;
  }
  out << token << "\n";
  return absl::OkStatus();
}

// ----------------------------------------------------------------- health --

// grpc.health.v1 Check against a server: exit 0 when SERVING. For
// container health checks and Kubernetes exec probes (which, unlike the
// kubelet's own gRPC probe, also work when the server speaks TLS).
struct HealthArgs {
  ClientFlags c;
  std::string service;
  HealthArgs() {
    c.timeout_seconds = 5;  // a probe wants an answer soon, or none
    c.attempts = 1;
  }
};

absl::Status Health(const HealthArgs& a, std::ostream& out) {
  BF_ASSIGN_OR_RETURN(client::ConnectionOptions co, ConnectionOptionsFromFlags(a.c));
  BF_ASSIGN_OR_RETURN(auto conn, client::Connection::Open(co));
  BF_ASSIGN_OR_RETURN(bool serving, conn->Serving(a.service));
  if (!serving) {
    return absl::UnavailableError(absl::StrCat(a.c.server, " is NOT_SERVING"));
  }
  out << "SERVING\n";
  return absl::OkStatus();
}

// ------------------------------------------------------------------ infer --

struct InferArgs {
  ClientFlags c;
  std::string model, dir, data_dir{data::kDefaultFashionMnistDir}, key_dir;
  int image = -1, images = 0, first = 0;
  bool json = false, stream = false, fresh_keys = false;
};

struct Input {
  std::string name;
  std::vector<double> x;
  int label = -1;  // -1: unknown
};

// A PGM (P5, 28x28, maxval 255) or a raw file of 784 uint8 pixels.
absl::StatusOr<std::vector<double>> ReadImageFile(const fs::path& p) {
  BF_ASSIGN_OR_RETURN(std::string b, ReadFile(p.string(), 1 << 20, "image"));
  const int n = data::kFashionMnistPixels;
  if (b.rfind("P5", 0) == 0) {
    std::istringstream in(b);
    std::string magic;
    int w = 0, h = 0, maxval = 0;
    in >> magic;
    auto skip = [&] {
      in >> std::ws;
      while (in.peek() == '#') {
        std::string comment;
        std::getline(in, comment);
        in >> std::ws;
      }
    };
    skip();
    in >> w;
    skip();
    in >> h;
    skip();
    in >> maxval;
    in.get();
    if (!in || w != 28 || h != 28 || maxval != 255) {
      return absl::InvalidArgumentError(absl::StrCat(
          p.string(), ": a PGM of ", w, "x", h, " (maxval ", maxval, "), expected 28x28, 255"));
    }
    const size_t at = static_cast<size_t>(in.tellg());
    if (b.size() - at != static_cast<size_t>(n)) {
      return absl::InvalidArgumentError(absl::StrCat(p.string(), ": ", b.size() - at,
                                                     " pixel bytes, expected ", n));
    }
    b = b.substr(at);
  } else if (b.size() != static_cast<size_t>(n)) {
    return absl::InvalidArgumentError(absl::StrCat(
        p.string(), ": ", b.size(), " bytes; expected a 28x28 PGM (P5) or ", n, " raw pixels"));
  }
  std::vector<double> x(n);
  for (int i = 0; i < n; ++i) x[i] = static_cast<uint8_t>(b[i]) / 255.0;
  return x;
}

absl::StatusOr<std::vector<Input>> Inputs(const InferArgs& a) {
  const int sources = (a.image >= 0) + (a.images > 0) + !a.dir.empty();
  if (sources != 1) {
    return absl::InvalidArgumentError(
        "give one of --image K, --images N [--first K] (test set) or --dir DIR");
  }
  std::vector<Input> out;
  if (!a.dir.empty()) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(a.dir, ec)) {
      const auto ext = e.path().extension();
      if (e.is_regular_file() && (ext == ".pgm" || ext == ".raw")) files.push_back(e.path());
    }
    if (ec) return absl::NotFoundError(absl::StrCat("--dir ", a.dir, ": ", ec.message()));
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      return absl::NotFoundError(absl::StrCat("--dir ", a.dir, ": no .pgm or .raw images"));
    }
    for (const auto& f : files) {
      BF_ASSIGN_OR_RETURN(std::vector<double> x, ReadImageFile(f));
      out.push_back({f.filename().string(), std::move(x), -1});
    }
    return out;
  }
  BF_ASSIGN_OR_RETURN(data::FashionMnist test,
                      data::LoadFashionMnist(a.data_dir, data::Split::kTest));
  const int first = a.image >= 0 ? a.image : a.first;
  const int count = a.image >= 0 ? 1 : a.images;
  if (first < 0 || first + count > test.count) {
    return absl::InvalidArgumentError(absl::StrCat("test images ", first, "..",
                                                   first + count - 1, " leave the test set of ",
                                                   test.count));
  }
  for (int i = first; i < first + count; ++i) {
    out.push_back({absl::StrCat("test #", i), test.Preprocessed(i), test.labels[i]});
  }
  return out;
}

std::string SanitizedName(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
  return out;
}

// The session for `model`: the secret key and key id kept in key_dir from
// an earlier run when they still fit the server's plan, else fresh keys,
// registered and kept there (secret key 0600).
absl::StatusOr<std::unique_ptr<client::ModelSession>> OpenSession(client::Connection* conn,
                                                                  const InferArgs& a,
                                                                  std::ostream& err) {
  std::string dir = a.key_dir;
  if (dir.empty()) dir = Env("BLINDFOLD_KEY_DIR");
  if (dir.empty() && !Env("HOME").empty()) dir = Env("HOME") + "/.blindfold/keys";
  if (dir.empty() || a.fresh_keys) return client::ModelSession::Open(conn, a.model);
  const fs::path base = fs::path(dir) / SanitizedName(a.c.server);
  const fs::path sk_path = base / (a.model + ".secret-key");
  const fs::path id_path = base / (a.model + ".json");
  std::error_code ec;
  if (fs::exists(sk_path, ec) && fs::exists(id_path, ec)) {
    auto sk = ReadFile(sk_path.string(), 4096, "secret-key file");
    auto meta = ReadFile(id_path.string(), 4096, "key file");
    if (sk.ok() && meta.ok()) {
      const json j = json::parse(*meta, nullptr, false);
      if (!j.is_discarded() && j.contains("key_id") && j["key_id"].is_string()) {
        client::ModelSession::Options o;
        o.secret_key_file = *sk;
        o.key_id = j["key_id"].get<std::string>();
        auto s = client::ModelSession::Open(conn, a.model, o);
        // Only a key the server no longer has (or a new build of the
        // model) calls for new keys; any other error is the answer.
        if (s.ok() || !(absl::IsNotFound(s.status()) || absl::IsPermissionDenied(s.status()) ||
                        absl::IsFailedPrecondition(s.status()) ||
                        absl::IsInvalidArgument(s.status()))) {
          return s;
        }
        err << "blindfold infer: the kept keys no longer work (" << s.status().message()
            << "); registering new ones\n";
      }
    }
  }
  BF_ASSIGN_OR_RETURN(auto s, client::ModelSession::Open(conn, a.model));
  fs::create_directories(base, ec);
  chmod(fs::path(dir).c_str(), S_IRWXU);
  chmod(base.c_str(), S_IRWXU);
  if (!ec) {
    BF_RETURN_IF_ERROR(WriteFile(sk_path.string(), s->SecretKeyFile(), /*secret=*/true));
    BF_RETURN_IF_ERROR(WriteFile(
        id_path.string(),
        json{{"key_id", s->key_id()}, {"plan_sha256", s->info().plan_sha256()}}.dump() + "\n",
        /*secret=*/true));
  }
  return s;
}

absl::Status Infer(const InferArgs& a, std::ostream& out, std::ostream& err, bool tty) {
  BF_ASSIGN_OR_RETURN(std::vector<Input> inputs, Inputs(a));
  BF_ASSIGN_OR_RETURN(client::ConnectionOptions co, ConnectionOptionsFromFlags(a.c));
  BF_ASSIGN_OR_RETURN(auto conn, client::Connection::Open(co));
  const auto t0 = std::chrono::steady_clock::now();
  BF_ASSIGN_OR_RETURN(auto session, OpenSession(conn.get(), a, err));
  const double setup_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto& labels = session->interface().labels;
  auto label = [&](int k) {
    return k < static_cast<int>(labels.size()) ? labels[k] : absl::StrCat("class ", k);
  };
  std::vector<std::vector<double>> ys;
  std::vector<double> round_ms, server_ms;
  client::InferTiming tm;
  if (a.stream && inputs.size() > 1) {
    std::vector<std::vector<double>> xs;
    for (const auto& in : inputs) xs.push_back(in.x);
    const auto t = std::chrono::steady_clock::now();
    BF_ASSIGN_OR_RETURN(ys, session->InferMany(xs));
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
    for (size_t i = 0; i < ys.size(); ++i) round_ms.push_back(ms / ys.size());
  } else {
    int correct = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      absl::StatusOr<std::vector<double>> y = session->Infer(inputs[i].x, &tm);
      if (!y.ok()) return AnnotateStatus(y.status(), inputs[i].name);
      round_ms.push_back(1e3 * (tm.encrypt_seconds + tm.call_seconds + tm.decrypt_seconds));
      server_ms.push_back(1e3 * tm.server_seconds);
      correct += inputs[i].label >= 0 && ArgMax(*y) == inputs[i].label;
      ys.push_back(*std::move(y));
      if (inputs.size() > 1 && (tty || i + 1 == inputs.size() || (i + 1) % 10 == 0)) {
        const int width = 30;
        const int filled = static_cast<int>((i + 1) * width / inputs.size());
        err << (tty ? "\r" : "") << "[" << std::string(filled, '#')
            << std::string(width - filled, '.') << "] " << i + 1 << "/" << inputs.size()
            << absl::StrFormat("  %.0f ms/image", Percentile(round_ms, 0.5));
        if (inputs[0].label >= 0) err << "  correct " << correct << "/" << i + 1;
        err << (tty ? "" : "\n") << std::flush;
      }
    }
    if (tty && inputs.size() > 1) err << "\n";
  }
  int known = 0, correct = 0;
  json results = json::array();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int k = ArgMax(ys[i]);
    if (inputs[i].label >= 0) {
      ++known;
      correct += k == inputs[i].label;
    }
    results.push_back({{"input", inputs[i].name}, {"class", k}, {"label", label(k)}});
    if (inputs[i].label >= 0) results.back()["expected"] = inputs[i].label;
    if (inputs.size() == 1) results.back()["logits"] = ys[i];
  }
  if (a.json) {
    json j = {{"model", a.model},
              {"server", a.c.server},
              {"key_id", session->key_id()},
              {"images", inputs.size()},
              {"results", results},
              {"setup_seconds", setup_s},
              {"round_trip_ms", {{"p50", Percentile(round_ms, 0.5)},
                                 {"p90", Percentile(round_ms, 0.9)},
                                 {"p99", Percentile(round_ms, 0.99)}}},
              {"retries", conn->retries()}};
    if (!server_ms.empty()) {
      j["server_ms"] = {{"p50", Percentile(server_ms, 0.5)}, {"p90", Percentile(server_ms, 0.9)}};
    }
    if (known) j["accuracy"] = static_cast<double>(correct) / known;
    out << j.dump() << "\n";
    return absl::OkStatus();
  }
  if (inputs.size() == 1) {
    const int k = ArgMax(ys[0]);
    out << inputs[0].name << ": class " << k << " (" << label(k) << ")";
    if (inputs[0].label >= 0) out << ", expected " << inputs[0].label << " (" << label(inputs[0].label) << ")";
    out << "\nlogits:";
    for (double v : ys[0]) out << absl::StrFormat(" %.4f", v);
    out << absl::StrFormat("\nround trip %.1f ms (encrypt %.1f, call %.1f of which server %.1f, "
                           "decrypt %.1f); request %.1f KB, response %.1f KB\n",
                           round_ms[0], 1e3 * tm.encrypt_seconds, 1e3 * tm.call_seconds,
                           1e3 * tm.server_seconds, 1e3 * tm.decrypt_seconds,
                           tm.request_bytes / 1024.0, tm.response_bytes / 1024.0);
    return absl::OkStatus();
  }
  out << "model " << a.model << " on " << a.c.server << ", " << inputs.size() << " images"
      << (a.stream ? " (one stream)" : "") << "\n";
  if (known) {
    out << absl::StrFormat("accuracy: %.2f %% (%d/%d)\n", 100.0 * correct / known, correct,
                           known);
  } else {
    for (const auto& r : results) {
      out << r["input"].get<std::string>() << ": " << r["class"].get<int>() << " ("
          << r["label"].get<std::string>() << ")\n";
    }
  }
  out << absl::StrFormat("round trip per image: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms\n",
                         Percentile(round_ms, 0.5), Percentile(round_ms, 0.9),
                         Percentile(round_ms, 0.99));
  if (!server_ms.empty()) {
    out << absl::StrFormat("server time per image: p50 %.1f ms, p90 %.1f ms\n",
                           Percentile(server_ms, 0.5), Percentile(server_ms, 0.9));
  }
  out << absl::StrFormat("keys %s, setup %.2f s, retries %d\n", session->key_id(), setup_s,
                         static_cast<int>(conn->retries()));
  return absl::OkStatus();
}

}  // namespace

std::function<absl::Status(std::ostream&, std::ostream&, bool)> AddServiceCommands(
    CLI::App& app) {
  auto serve = std::make_shared<ServeArgs>();
  CLI::App* s = nullptr;
  AddServe(app, serve.get(), &s);

  auto token = std::make_shared<TokenArgs>();
  CLI::App* t = app.add_subcommand(
      "token", "Make a bearer token for a client: the token on stdout, its hash for the "
               "server's tokens file");
  t->add_option("--client", token->client, "the client's id")->required();
  t->add_option("--tokens", token->tokens_file, "append the hash line to this tokens file");

  auto health = std::make_shared<HealthArgs>();
  CLI::App* h = app.add_subcommand(
      "health", "Client: grpc.health.v1 check of a server (exit 0 when SERVING; for "
                "container health checks and probes)");
  AddClientFlags(h, &health->c);
  h->add_option("--service", health->service,
                "service to check (default: the whole server; blindfold.v1.Inference)");

  auto infer = std::make_shared<InferArgs>();
  CLI::App* i = app.add_subcommand(
      "infer", "Client: encrypt images, classify them on a server, decrypt the results");
  AddClientFlags(i, &infer->c);
  i->add_option("--model", infer->model, "model name on the server")->required();
  i->add_option("--image", infer->image, "one test-set image");
  i->add_option("--images", infer->images, "this many test-set images (from --first)");
  i->add_option("--first", infer->first, "first test-set image")->capture_default_str();
  i->add_option("--dir", infer->dir, "every .pgm (28x28, P5) or .raw (784 bytes) image here");
  i->add_option("--data", infer->data_dir, "Fashion-MNIST IDX directory")->capture_default_str();
  i->add_option("--key-dir", infer->key_dir,
                "where the secret key and key id are kept between runs (default: "
                "$BLINDFOLD_KEY_DIR or ~/.blindfold/keys)");
  i->add_flag("--fresh-keys", infer->fresh_keys, "make and register new keys, keep nothing");
  i->add_flag("--stream", infer->stream, "send many images over one InferStream call");
  i->add_flag("--json", infer->json, "print one JSON object");

  auto load = AddLoadCommand(app);

  return [=](std::ostream& out, std::ostream& err, bool tty) -> absl::Status {
    auto named = [](const absl::Status& st, const char* cmd) {
      if (st.ok()) return st;
      return absl::Status(st.code(), absl::StrCat(cmd, ": ", st.message()));
    };
    if (s->parsed()) return named(Serve(*serve), "serve");
    if (t->parsed()) return named(Token(*token, out, err), "token");
    if (h->parsed()) return named(Health(*health, out), "health");
    if (i->parsed()) return named(Infer(*infer, out, err, tty), "infer");
    absl::Status l = load(out, err, tty);
    if (!(absl::IsNotFound(l) && l.message() == "no load subcommand")) return named(l, "load");
    return absl::NotFoundError("no service subcommand");
  };
}

}  // namespace blindfold::tools
