// File: tests/service_testing.cc
#include "tests/service_testing.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "circuits/slot_backend.h"
#include "compiler/lower/compile.h"
#include "compiler/onnx/importer.h"
#include "nlohmann/json.hpp"
#include "runtime/plan_io.h"
#include "runtime/reference_executor.h"
#include "client/http_get.h"
#include "service/auth.h"

extern char** environ;

namespace blindfold::tests {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/blindfold-svc-XXXXXX";
  char* p = mkdtemp(tmpl.data());
  path_ = p ? std::string(p) : std::string();
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty() && !std::getenv("BLINDFOLD_KEEP_TEST_DIRS")) fs::remove_all(path_, ec);
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(
    const std::vector<std::string>& argv, const std::string& log,
    const std::map<std::string, std::string>& env) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const std::string k = kv.substr(0, kv.find('='));
    if (!env.count(k)) envs.push_back(kv);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  auto p = std::unique_ptr<Process>(new Process);
  // A fresh signal mask and default handlers in the child.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int rc = posix_spawn(&p->pid_, argv[0].c_str(), &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": ", strerror(rc)));
  }
  return p;
}

Process::~Process() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool Process::Running() {
  if (reaped_) return false;
  int st = 0;
  const pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = st;
    return false;
  }
  return true;
}

void Process::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

absl::StatusOr<int> Process::Wait(double seconds) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(seconds * 1e3));
  while (Running()) {
    if (std::chrono::steady_clock::now() > end) {
      return absl::DeadlineExceededError(absl::StrCat("process ", pid_, " still running"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  return 128 + WTERMSIG(status_);
}

std::string BlindfoldBinary() { return BLINDFOLD_CLI_PATH; }

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::vector<std::string>& flags, const std::string& dir,
    const std::map<std::string, std::string>& env) {
  static int counter = 0;
  const std::string tag = std::to_string(++counter);
  const std::string ready = dir + "/ready-" + tag + ".json";
  auto s = std::unique_ptr<ServerProcess>(new ServerProcess);
  s->log_ = dir + "/server-" + tag + ".log";
  std::vector<std::string> argv = {BlindfoldBinary(), "serve", "--listen", "127.0.0.1:0",
                                   "--metrics-listen", "127.0.0.1:0", "--ready-file", ready};
  argv.insert(argv.end(), flags.begin(), flags.end());
  BF_ASSIGN_OR_RETURN(s->process_, Process::Start(argv, s->log_, env));
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(ready)) {
    if (!s->process_->Running()) {
      return absl::InternalError(absl::StrCat("blindfold serve exited: ", s->Log()));
    }
    if (std::chrono::steady_clock::now() > end) {
      return absl::DeadlineExceededError(absl::StrCat("blindfold serve not ready: ", s->Log()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::ifstream in(ready);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return absl::InternalError("unreadable ready file");
  s->port_ = j["port"].get<int>();
  s->metrics_port_ = j["metrics_port"].get<int>();
  return s;
}

ServerProcess::~ServerProcess() {
  if (process_ && process_->Running()) {
    process_->Signal(SIGTERM);
    if (!process_->Wait(30).ok()) process_->Signal(SIGKILL);
  }
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<int> ServerProcess::Stop(double seconds) {
  process_->Signal(SIGTERM);
  return process_->Wait(seconds);
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

namespace {

bool CanConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

absl::Status Run(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  if (rc != 0) return absl::InternalError(absl::StrCat("'", cmd, "' exited with ", rc));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisProcess>> RedisProcess::Start(const std::string& dir,
                                                                   int port) {
  auto r = std::unique_ptr<RedisProcess>(new RedisProcess);
  r->port_ = port > 0 ? port : FreePort();
  std::vector<std::string> argv = {"/usr/bin/redis-server", "--port", std::to_string(r->port_),
                                   "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes",
                                   "--appendfsync", "always", "--save", "", "--daemonize", "no",
                                   "--protected-mode", "yes"};
  BF_ASSIGN_OR_RETURN(r->process_, Process::Start(argv, dir + "/redis.log"));
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!CanConnect(r->port_)) {
    if (!r->process_->Running() || std::chrono::steady_clock::now() > end) {
      std::ifstream in(dir + "/redis.log");
      std::ostringstream s;
      s << in.rdbuf();
      return absl::InternalError(absl::StrCat("redis-server did not start: ", s.str()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return r;
}

RedisProcess::~RedisProcess() {
  if (process_ && process_->Running()) Stop().IgnoreError();
}

void RedisProcess::Kill() {
  process_->Signal(SIGKILL);
  process_->Wait(30).IgnoreError();
}

absl::Status RedisProcess::Stop() {
  process_->Signal(SIGTERM);
  BF_ASSIGN_OR_RETURN(int rc, process_->Wait(30));
  if (rc != 0) return absl::InternalError(absl::StrCat("redis-server exited with ", rc));
  return absl::OkStatus();
}

absl::Status CompilePlan(const std::string& model, const std::string& dir) {
  const std::string out = dir + "/" + model + ".plan";
  if (fs::exists(out)) return absl::OkStatus();
  const std::string onnx =
      std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + model + "/" + model + ".onnx";
  BF_ASSIGN_OR_RETURN(compiler::ir::Graph g, compiler::ImportOnnxFile(onnx));
  BF_ASSIGN_OR_RETURN(data::FashionMnist train,
                      data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                             data::Split::kTrain));
  std::vector<std::vector<double>> cal;
  for (int i = 0; i < 256; ++i) cal.push_back(train.Preprocessed(i));
  compiler::CompileOptions o;
  o.labels.assign(std::begin(data::kFashionMnistClassNames),
                  std::end(data::kFashionMnistClassNames));
  BF_ASSIGN_OR_RETURN(runtime::Plan plan, compiler::Compile(g, cal, o));
  plan.model = model;
  return runtime::WritePlanFile(plan, out);
}

absl::Status MakeTlsFiles(const std::string& d) {
  const std::string q = " >>" + d + "/openssl.log 2>&1";
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  BF_RETURN_IF_ERROR(Run("openssl req -x509 " + ec + " -keyout " + d + "/ca.key -out " + d +
                         "/ca.pem -days 2 -subj '/CN=Blindfold test CA'" + q));
  BF_RETURN_IF_ERROR(Run("openssl req -x509 " + ec + " -keyout " + d + "/other-ca.key -out " +
                         d + "/other-ca.pem -days 2 -subj '/CN=Unrelated CA'" + q));
  BF_RETURN_IF_ERROR(Run("openssl req " + ec + " -keyout " + d + "/server.key -out " + d +
                         "/server.csr -subj '/CN=localhost'" + q));
  {
    std::ofstream ext(d + "/san.ext");
    ext << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  }
  return Run("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
             "/ca.key -CAcreateserial -out " + d + "/server.pem -days 2 -extfile " + d +
             "/san.ext" + q);
}

std::map<std::string, std::string> MakeTokens(const std::string& dir,
                                              const std::vector<std::string>& clients) {
  std::map<std::string, std::string> tokens;
  std::ofstream f(dir + "/tokens.txt");
  f << "# client-id  BLAKE2b-256 of the token\n";
  for (const auto& c : clients) {
    tokens[c] = service::TokenAuthenticator::NewToken();
    f << c << " " << service::TokenAuthenticator::HashHex(tokens[c]) << "\n";
  }
  return tokens;
}

absl::StatusOr<std::pair<int, std::string>> HttpGet(int port, const std::string& path) {
  return client::HttpGet("127.0.0.1:" + std::to_string(port), path);
}

const data::FashionMnist& TestSet() {
  static const data::FashionMnist* test = [] {
    auto t = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                    data::Split::kTest);
    return t.ok() ? new data::FashionMnist(*std::move(t)) : new data::FashionMnist();
  }();
  return *test;
}

absl::StatusOr<Reference> Reference::Load(const std::string& model,
                                          const std::string& plan_path) {
  Reference r;
  const std::string onnx =
      std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + model + "/" + model + ".onnx";
  BF_ASSIGN_OR_RETURN(compiler::ir::Graph g, compiler::ImportOnnxFile(onnx));
  r.graph_ = std::make_shared<const compiler::ir::Graph>(std::move(g));
  BF_ASSIGN_OR_RETURN(runtime::Plan p, runtime::ReadPlanFile(plan_path));
  r.plan_ = std::make_shared<const runtime::Plan>(std::move(p));
  return r;
}

std::vector<double> Reference::Onnx(const std::vector<double>& x) const {
  auto y = runtime::RunReference(
      *graph_, compiler::ir::Tensor{graph_->value(graph_->inputs()[0]).shape, x});
  return y.ok() ? y->data : std::vector<double>();
}

std::vector<double> Reference::Plan(const std::vector<double>& x) const {
  const runtime::Plan& p = *plan_;
  circuits::SlotBackend slots(p.slots);
  const auto y = runtime::ExecutePlan(
      slots, p,
      circuits::Tile(runtime::LaidOut(x, p.terms[0].layout, p.terms[0].period),
                     p.terms[0].period, p.slots));
  return runtime::Gathered(y, p.output.layout, p.output.dim);
}

int ArgMax(const std::vector<double>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace blindfold::tests
