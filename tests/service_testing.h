// File: tests/service_testing.h
// What the service tests share: temporary directories, plans compiled from
// the shipped models, real `blindfold serve` and `redis-server` processes on
// loopback ports, TLS certificates made with openssl, bearer tokens, a
// plain HTTP GET, and the float64 references a prediction is checked
// against. Nothing here is a mock: every server is the real binary.
#ifndef BLINDFOLD_TESTS_SERVICE_TESTING_H_
#define BLINDFOLD_TESTS_SERVICE_TESTING_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/http_get.h"
#include "compiler/ir/graph.h"
#include "data/fashion_mnist.h"
#include "runtime/plan.h"

namespace blindfold::tests {

// A fresh directory under $TMPDIR, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process with stdout and stderr appended to `log`. Killed (SIGKILL)
// and reaped on destruction if still running.
class Process {
 public:
  static absl::StatusOr<std::unique_ptr<Process>> Start(const std::vector<std::string>& argv,
                                                        const std::string& log,
                                                        const std::map<std::string, std::string>& env = {});
  ~Process();
  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // Waits up to `seconds`; the exit status (WEXITSTATUS, or 128 + signal),
  // or DeadlineExceeded.
  absl::StatusOr<int> Wait(double seconds);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// `blindfold serve` with --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0
// and a ready file; Start returns once it serves (or its log tail if it
// exits first).
class ServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::vector<std::string>& flags, const std::string& dir,
      const std::map<std::string, std::string>& env = {});
  ~ServerProcess();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& log_path() const { return log_; }
  std::string Log() const;
  Process& process() { return *process_; }
  // SIGTERM, then the exit status.
  absl::StatusOr<int> Stop(double seconds = 60);

 private:
  std::unique_ptr<Process> process_;
  int port_ = 0, metrics_port_ = 0;
  std::string log_;
};

// redis-server on a free loopback port, its files in `dir`, append-only
// file on (fsync always) so a restart keeps what it acknowledged.
class RedisProcess {
 public:
  static absl::StatusOr<std::unique_ptr<RedisProcess>> Start(const std::string& dir,
                                                             int port = 0);
  ~RedisProcess();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // SIGTERM (redis flushes and exits), then waits.
  absl::Status Stop();
  // SIGKILL: no chance to flush; only what it had fsynced survives.
  void Kill();

 private:
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

// A loopback port that was free a moment ago.
int FreePort();

// The path of the `blindfold` binary under test.
std::string BlindfoldBinary();

// Compiles models/<name>/<name>.onnx into dir/<name>.plan (latency mode,
// 256 calibration images, as `blindfold compile` does) unless it exists.
absl::Status CompilePlan(const std::string& model, const std::string& dir);

// A test CA and a server certificate for localhost and 127.0.0.1 (P-256
// keys, openssl CLI): dir/ca.pem, dir/server.pem, dir/server.key; and an
// unrelated CA dir/other-ca.pem.
absl::Status MakeTlsFiles(const std::string& dir);

// A fresh token per client, the hashes in dir/tokens.txt; returns tokens.
std::map<std::string, std::string> MakeTokens(const std::string& dir,
                                              const std::vector<std::string>& clients);

// GET http://127.0.0.1:port/path: {status code, body}.
absl::StatusOr<std::pair<int, std::string>> HttpGet(int port, const std::string& path);

using client::MetricValue;  // client/http_get.h

const data::FashionMnist& TestSet();

// The float64 references of one model: the ONNX graph through the
// reference executor, and the plan on exact slot vectors.
class Reference {
 public:
  static absl::StatusOr<Reference> Load(const std::string& model, const std::string& plan_path);
  std::vector<double> Onnx(const std::vector<double>& x) const;
  std::vector<double> Plan(const std::vector<double>& x) const;

 private:
  std::shared_ptr<const compiler::ir::Graph> graph_;
  std::shared_ptr<const runtime::Plan> plan_;
};

int ArgMax(const std::vector<double>& v);

}  // namespace blindfold::tests

#endif  // BLINDFOLD_TESTS_SERVICE_TESTING_H_
