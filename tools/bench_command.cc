// File: tools/bench_command.cc
#include "tools/bench_command.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/cpu_features.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "ckks/parameters.h"
#include "compiler/lower/compile.h"
#include "compiler/onnx/importer.h"
#include "data/fashion_mnist.h"
#include "nlohmann/json.hpp"
#include "runtime/cost_model.h"
#include "runtime/inference.h"
#include "runtime/plan_io.h"

extern char** environ;

namespace blindfold::tools {
namespace {

// Ordered: models and configurations print in the order they ran.
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr const char* kAllModels = "logreg,mlp,cnn-small,cnn,mlp-relu,cnn-deep";
constexpr const char* kBaseline = "baseline";
constexpr const char* kOptimized = "optimized";

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// ------------------------------------------------------------- framing --
// Both directions of the pipe carry frames: u64 length, then the bytes.

absl::Status WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return absl::UnavailableError(absl::StrCat("pipe write: ", std::strerror(errno)));
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

// False at a clean end of stream before the first byte.
absl::StatusOr<bool> ReadAll(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::UnavailableError(absl::StrCat("pipe read: ", std::strerror(errno)));
    if (r == 0) {
      if (got == 0) return false;
      return absl::UnavailableError("pipe read: stream ended inside a frame");
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

absl::Status WriteFrame(int fd, std::string_view bytes) {
  const uint64_t n = bytes.size();
  BF_RETURN_IF_ERROR(WriteAll(fd, &n, sizeof(n)));
  return WriteAll(fd, bytes.data(), bytes.size());
}

// nullopt at a clean end of stream.
absl::StatusOr<std::optional<std::string>> ReadFrame(int fd, uint64_t max_bytes) {
  uint64_t n = 0;
  BF_ASSIGN_OR_RETURN(bool more, ReadAll(fd, &n, sizeof(n)));
  if (!more) return std::optional<std::string>();
  if (n > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("frame of ", n, " bytes"));
  }
  std::string s(n, '\0');
  BF_ASSIGN_OR_RETURN(bool full, ReadAll(fd, s.data(), n));
  if (!full && n > 0) return absl::UnavailableError("pipe read: stream ended inside a frame");
  return std::optional<std::string>(std::move(s));
}

constexpr uint64_t kMaxFrame = uint64_t{1} << 31;

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::Status WriteWholeFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// ---------------------------------------------------------- bench-server --
// Loads a plan and its evaluation keys, says how long that took, then
// answers requests from stdin on stdout: each response frame is the
// result ciphertext followed by a frame of "seconds key_switches".

// This process's peak resident set (VmHWM in /proc/self/status), in KiB.
int64_t VmHwmKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

// CPU time of this process, all its threads (seconds).
double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct ServerArgs {
  std::string plan, eval_keys;
};

absl::Status BenchServer(const ServerArgs& a) {
  const auto start = Clock::now();
  BF_ASSIGN_OR_RETURN(runtime::Plan plan, runtime::ReadPlanFile(a.plan));
  std::unique_ptr<runtime::InferenceServer> server;
  {
    BF_ASSIGN_OR_RETURN(std::string evk, ReadWholeFile(a.eval_keys));
    BF_ASSIGN_OR_RETURN(server, runtime::InferenceServer::Create(plan, evk));
  }
  BF_RETURN_IF_ERROR(WriteFrame(STDOUT_FILENO, absl::StrCat(Seconds(start))));
  for (;;) {
    BF_ASSIGN_OR_RETURN(std::optional<std::string> request, ReadFrame(STDIN_FILENO, kMaxFrame));
    if (!request) {
      // The last frame: this process's peak RSS. VmHWM, not getrusage:
      // ru_maxrss carries the spawning process's peak across exec.
      return WriteFrame(STDOUT_FILENO, absl::StrCat(VmHwmKb()));
    }
    runtime::RunStats stats;
    const double cpu0 = ProcessCpuSeconds();
    BF_ASSIGN_OR_RETURN(std::string response, server->Run(*request, &stats));
    const double cpu = ProcessCpuSeconds() - cpu0;
    BF_RETURN_IF_ERROR(WriteFrame(STDOUT_FILENO, response));
    BF_RETURN_IF_ERROR(WriteFrame(
        STDOUT_FILENO, absl::StrCat(stats.seconds, " ", stats.key_switches, " ", cpu)));
  }
}

// A running bench-server child.
class ServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const std::string& plan,
                                                              const std::string& evk,
                                                              int threads) {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
      return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to_child[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, from_child[1], STDOUT_FILENO);
    // The same binary; BLINDFOLD_THREADS set for the child alone.
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "BLINDFOLD_THREADS=", 18) != 0) env.emplace_back(*e);
    }
    env.push_back(absl::StrCat("BLINDFOLD_THREADS=", threads));
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe", cmd = "bench-server";
    std::string plan_arg = plan, evk_arg = evk, name = "blindfold";
    std::vector<char*> argv = {name.data(), cmd.data(), plan_arg.data(), evk_arg.data(),
                               nullptr};
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(to_child[0]);
    ::close(from_child[1]);
    if (rc != 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      return absl::InternalError(absl::StrCat("posix_spawn: ", std::strerror(rc)));
    }
    auto p = std::unique_ptr<ServerProcess>(new ServerProcess(pid, to_child[1], from_child[0]));
    BF_ASSIGN_OR_RETURN(std::optional<std::string> ready, ReadFrame(p->out_, 64));
    if (!ready) {
      return absl::InternalError(absl::StrCat("the server exited while loading (",
                                              p->Finish().message(), ")"));
    }
    p->setup_seconds_ = std::atof(ready->c_str());
    return p;
  }

  ~ServerProcess() { (void)Finish(); }

  struct Answer {
    std::string response;
    double seconds = 0, cpu_seconds = 0;
    int64_t key_switches = 0;
  };
  absl::StatusOr<Answer> Run(std::string_view request) {
    BF_RETURN_IF_ERROR(WriteFrame(in_, request));
    BF_ASSIGN_OR_RETURN(std::optional<std::string> response, ReadFrame(out_, kMaxFrame));
    BF_ASSIGN_OR_RETURN(std::optional<std::string> stats, ReadFrame(out_, 256));
    if (!response || !stats) {
      return absl::InternalError(absl::StrCat("the server exited (", Finish().message(), ")"));
    }
    Answer a;
    a.response = std::move(*response);
    std::istringstream s(*stats);
    s >> a.seconds >> a.key_switches >> a.cpu_seconds;
    return a;
  }

  // Closes the request stream, reads the child's peak RSS and waits.
  absl::Status Finish() {
    if (pid_ <= 0) return finish_status_;
    ::close(in_);
    auto hwm = ReadFrame(out_, 64);
    if (hwm.ok() && *hwm) peak_rss_mb_ = std::atof((*hwm)->c_str()) / 1024.0;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    ::close(out_);
    pid_ = -1;
    if (WIFSIGNALED(status)) {
      finish_status_ = absl::InternalError(absl::StrCat("killed by signal ", WTERMSIG(status)));
    } else if (WEXITSTATUS(status) != 0) {
      finish_status_ = absl::InternalError(absl::StrCat("exit status ", WEXITSTATUS(status)));
    } else if (peak_rss_mb_ <= 0) {
      finish_status_ = absl::InternalError("the server did not report its peak RSS");
    } else {
      finish_status_ = absl::OkStatus();
    }
    return finish_status_;
  }
  double peak_rss_mb() const { return peak_rss_mb_; }
  double setup_seconds() const { return setup_seconds_; }

 private:
  ServerProcess(pid_t pid, int in, int out) : pid_(pid), in_(in), out_(out) {}
  pid_t pid_;
  int in_, out_;
  double peak_rss_mb_ = 0, setup_seconds_ = 0;
  absl::Status finish_status_ = absl::OkStatus();
};

// ---------------------------------------------------------------- bench --

struct BenchArgs {
  std::string models = kAllModels, configs = "all", threads = "1,2", ablation_threads = "1";
  std::string models_dir = "models", data_dir{data::kDefaultFashionMnistDir};
  std::string work_dir;
  int images = 200, calibration = 256;
  double budget_s = 20, max_predicted_s = 60, max_key_gb = 5;
  bool quick = false, json = false;
};

// The configurations: baseline, optimized, then one per optimization off.
std::vector<std::string> AllConfigs() {
  std::vector<std::string> c = {kBaseline, kOptimized};
  for (compiler::Optimization o : compiler::kAllOptimizations) {
    c.push_back(absl::StrCat("no-", compiler::OptimizationName(o)));
  }
  return c;
}

absl::StatusOr<compiler::CompileOptions> ConfigOptions(const std::string& config) {
  if (config == kBaseline) return compiler::BaselineOptions();
  compiler::CompileOptions o;
  if (config == kOptimized) return o;
  if (config.rfind("no-", 0) == 0) {
    auto off = compiler::ParseOptimization(config.substr(3));
    if (off.ok()) {
      o.Disable(*off);
      return o;
    }
  }
  std::string known;
  for (const auto& c : AllConfigs()) absl::StrAppend(&known, known.empty() ? "" : ", ", c);
  return absl::InvalidArgumentError(
      absl::StrCat("--configs: unknown configuration '", config, "', expected ", known));
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipEmpty())) out.emplace_back(p);
  return out;
}

double Median(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

std::string CpuName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t c = line.find(':');
      if (c != std::string::npos) return line.substr(c + 2);
    }
  }
  return "unknown";
}

std::vector<double> LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  in >> a >> b >> c;
  return {a, b, c};
}

// What the plan does per input and holds, from the plan alone.
json PlanFacts(const runtime::Plan& plan, const ckks::Parameters& params,
               double compile_s) {
  // Seeded keys, each at the level the plan needs it.
  const double key_bytes = static_cast<double>(runtime::EvaluationKeyBytes(plan));
  const int program_depth = plan.depth - plan.output.level + (plan.output.rescale ? 0 : 1);
  return {{"log_n", plan.params.log_n},
          {"q_primes", params.literal().log_q.size()},
          {"p_primes", params.literal().log_p.size()},
          {"dnum", params.dnum()},
          {"scale_bits", plan.input_scale_log2},
          {"input_level", plan.depth},
          {"levels_used", program_depth},
          {"slots", plan.slots},
          {"terms", plan.terms.size()},
          {"rotation_keys", plan.Rotations().size()},
          {"rotations", plan.RotationCount()},
          {"hoisted_rotations", plan.HoistedRotationCount()},
          {"key_switches", plan.RotationCount() + plan.HoistedRotationCount() +
                               plan.CiphertextProductCount()},
          {"plaintext_products", plan.PlainProductCount()},
          {"ciphertext_products", plan.CiphertextProductCount()},
          {"hoist", plan.execution.hoist},
          {"eager_rescale", plan.execution.eager_rescale},
          {"power_of_two_rotations", plan.execution.power_of_two_rotations},
          {"predicted_ms", runtime::PredictLatency(plan).total_ms()},
          {"eval_key_bytes_estimate", key_bytes},
          {"compile_s", compile_s}};
}

// Keys, shared by every plan on the same parameters: one secret key per
// parameter set, and one evaluation-key file per (parameters, key set).
class KeyStore {
 public:
  explicit KeyStore(std::string dir) : dir_(std::move(dir)) {}
  ~KeyStore() {
    for (const auto& [k, e] : evk_) std::filesystem::remove(e.path);
  }

  struct Keys {
    std::unique_ptr<runtime::InferenceClient> client;
    std::string evk_path;
    int64_t evk_bytes = 0;
    double keygen_s = 0;
  };

  absl::StatusOr<Keys> For(const runtime::Plan& plan, uint64_t fingerprint) {
    Keys k;
    auto sk = secret_.find(fingerprint);
    if (sk == secret_.end()) {
      BF_ASSIGN_OR_RETURN(k.client, runtime::InferenceClient::Create(plan));
      sk = secret_.emplace(fingerprint, k.client->SecretKeyFile()).first;
    } else {
      BF_ASSIGN_OR_RETURN(k.client,
                          runtime::InferenceClient::FromSecretKeyFile(plan, sk->second));
    }
    // The keys a plan needs: its parameters, and each key with the level it
    // is made for (keys are per level: plans with the same rotations at other
    // levels need other keys).
    std::string id = absl::StrCat(
        fingerprint, plan.CiphertextProductCount() > 0 ? absl::StrCat("r", plan.RelinLevel()) : "");
    for (const auto& [r, level] : plan.RotationLevels()) absl::StrAppend(&id, ",", r, "@", level);
    auto it = evk_.find(id);
    if (it == evk_.end()) {
      const auto start = Clock::now();
      BF_ASSIGN_OR_RETURN(std::string evk, k.client->EvaluationKeys());
      Entry e;
      e.keygen_s = Seconds(start);
      e.bytes = static_cast<int64_t>(evk.size());
      e.path = absl::StrCat(dir_, "/keys-", files_++, ".evk");
      e.shared = plan.execution.power_of_two_rotations;
      BF_RETURN_IF_ERROR(WriteWholeFile(e.path, evk));
      it = evk_.emplace(id, std::move(e)).first;
      // Keys of GBs were made here: give the freed heap back, so the client
      // and the server child do not hold two copies' worth of memory.
      evk.clear();
      evk.shrink_to_fit();
      malloc_trim(0);
    }
    k.evk_path = it->second.path;
    k.evk_bytes = it->second.bytes;
    k.keygen_s = it->second.keygen_s;
    return k;
  }

  // Drops the key files of one model; power-of-two key sets on fixed
  // parameters (the baseline's) serve every model and stay.
  void ForgetModelKeys() {
    for (auto it = evk_.begin(); it != evk_.end();) {
      if (it->second.shared) {
        ++it;
      } else {
        std::filesystem::remove(it->second.path);
        it = evk_.erase(it);
      }
    }
  }

 private:
  struct Entry {
    std::string path;
    int64_t bytes = 0;
    double keygen_s = 0;
    bool shared = false;
  };
  std::string dir_;
  int files_ = 0;
  std::map<uint64_t, std::string> secret_;
  std::map<std::string, Entry> evk_;
};

struct Run {
  std::vector<double> server_ms, server_cpu_ms, encrypt_ms, decrypt_ms;
  int images = 0, agree = 0, first = 0;
  double max_err = 0, peak_rss_mb = 0, setup_s = 0;
  int64_t input_bytes = 0, output_bytes = 0, key_switches = 0;
};

// One server child at `threads`, images from `first` until `max_images`
// are done or `budget_s` has passed (at least one image).
absl::StatusOr<Run> Measure(const runtime::Plan& plan, const std::string& plan_path,
                            const KeyStore::Keys& keys, const data::FashionMnist& test,
                            int first, int max_images, int threads, double budget_s,
                            std::ostream& err) {
  SetThreadCount(threads);  // the client's side
  BF_ASSIGN_OR_RETURN(auto server, ServerProcess::Start(plan_path, keys.evk_path, threads));
  Run run;
  run.first = first;
  run.setup_s = server->setup_seconds();
  const auto start = Clock::now();
  for (int i = first; i < first + max_images && i < test.count; ++i) {
    if (run.images > 0 && Seconds(start) > budget_s) break;
    const std::vector<double> x = test.Preprocessed(i);
    auto t = Clock::now();
    BF_ASSIGN_OR_RETURN(std::string request, keys.client->EncryptInput(x));
    run.encrypt_ms.push_back(1e3 * Seconds(t));
    BF_ASSIGN_OR_RETURN(ServerProcess::Answer answer, server->Run(request));
    t = Clock::now();
    BF_ASSIGN_OR_RETURN(std::vector<double> y, keys.client->DecryptOutput(answer.response));
    run.decrypt_ms.push_back(1e3 * Seconds(t));
    run.server_ms.push_back(1e3 * answer.seconds);
    run.server_cpu_ms.push_back(1e3 * answer.cpu_seconds);
    run.input_bytes = static_cast<int64_t>(request.size());
    run.output_bytes = static_cast<int64_t>(answer.response.size());
    run.key_switches = answer.key_switches;
    const std::vector<double> want = runtime::EvaluatePlanInSlots(plan, x);
    int be = 0, bp = 0;
    for (size_t k = 0; k < y.size(); ++k) {
      run.max_err = std::max(run.max_err, std::abs(y[k] - want[k]));
      if (y[k] > y[be]) be = static_cast<int>(k);
      if (want[k] > want[bp]) bp = static_cast<int>(k);
    }
    run.agree += be == bp;
    ++run.images;
  }
  BF_RETURN_IF_ERROR(server->Finish());
  run.peak_rss_mb = server->peak_rss_mb();
  err << absl::StrFormat(
      "    threads %d: %d images, server p50 %.1f ms, agree %d/%d, peak RSS %.0f MB\n",
      threads, run.images, Median(run.server_ms, 0.5), run.agree, run.images,
      run.peak_rss_mb);
  return run;
}

json RunJson(const Run& r) {
  return {{"images", r.images},
          {"first_image", r.first},
          {"latency_ms", {{"p50", Median(r.server_ms, 0.5)}, {"p90", Median(r.server_ms, 0.9)}}},
          // CPU time of the server process per image, all threads: at one
          // thread, the latency without other processes' interference.
          {"server_cpu_ms",
           {{"p50", Median(r.server_cpu_ms, 0.5)}, {"p90", Median(r.server_cpu_ms, 0.9)}}},
          {"encrypt_ms", Median(r.encrypt_ms, 0.5)},
          {"decrypt_ms", Median(r.decrypt_ms, 0.5)},
          {"peak_rss_mb", r.peak_rss_mb},
          {"server_setup_s", r.setup_s},
          {"agreement", r.images ? static_cast<double>(r.agree) / r.images : 0.0},
          {"max_logit_error", r.max_err}};
}

absl::Status Bench(BenchArgs a, std::ostream& out, std::ostream& err) {
  if (a.quick) {
    // CI: one small model with a product (the unfused activation), every
    // configuration, a few images, one thread count.
    a.models = "mlp";
    a.images = std::min(a.images, 3);
    a.threads = "1";
    a.ablation_threads = "1";
    a.budget_s = std::min(a.budget_s, 5.0);
  }
  const std::vector<std::string> models = SplitList(a.models);
  std::vector<std::string> configs = a.configs == "all" ? AllConfigs() : SplitList(a.configs);
  auto thread_list = [](const std::string& flag,
                        const std::string& list) -> absl::StatusOr<std::vector<int>> {
    std::vector<int> out;
    for (const auto& t : SplitList(list)) {
      int v = 0;
      if (!absl::SimpleAtoi(t, &v) || v < 1 || v > 256) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, ": '", t, "' is not a thread count (1 to 256)"));
      }
      out.push_back(v);
    }
    if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, " is empty"));
    return out;
  };
  BF_ASSIGN_OR_RETURN(const std::vector<int> threads, thread_list("--threads", a.threads));
  BF_ASSIGN_OR_RETURN(const std::vector<int> ablation_threads,
                      thread_list("--ablation-threads", a.ablation_threads));
  if (models.empty() || configs.empty()) {
    return absl::InvalidArgumentError("--models and --configs must not be empty");
  }
  if (a.images < 1 || a.budget_s <= 0 || a.calibration < 1) {
    return absl::InvalidArgumentError("--images, --budget-s and --calibration must be positive");
  }
  for (const auto& c : configs) BF_RETURN_IF_ERROR(ConfigOptions(c).status());
  // The optimized plan first: the others name it when they are identical.
  std::stable_partition(configs.begin(), configs.end(),
                        [](const std::string& c) { return c == kOptimized; });
  BF_ASSIGN_OR_RETURN(data::FashionMnist train,
                      data::LoadFashionMnist(a.data_dir, data::Split::kTrain));
  BF_ASSIGN_OR_RETURN(data::FashionMnist test,
                      data::LoadFashionMnist(a.data_dir, data::Split::kTest));
  std::vector<std::vector<double>> cal;
  for (int i = 0; i < std::min(a.calibration, train.count); ++i) {
    cal.push_back(train.Preprocessed(i));
  }
  std::string work = a.work_dir;
  if (work.empty()) {
    work = (std::filesystem::temp_directory_path() /
            absl::StrCat("blindfold-bench-", getpid()))
               .string();
  }
  std::filesystem::create_directories(work);
  // A dead server child must not kill the bench with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  const int saved_threads = ThreadCount();
  const auto started = Clock::now();
  json result;
  {
    const std::time_t now = std::time(nullptr);
    char date[64];
    std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
    result["date"] = date;
  }
  result["cpu"] = CpuName();
  result["cores"] = std::thread::hardware_concurrency();
  result["kernel"] = std::string(KernelPathName(ActiveKernelPath()));
  result["threads"] = threads;
  result["ablation_threads"] = ablation_threads;
  result["images"] = a.images;
  result["budget_s"] = a.budget_s;
  result["max_predicted_s"] = a.max_predicted_s;
  result["max_key_gb"] = a.max_key_gb;
  result["load_average_start"] = LoadAverage();
  result["models"] = json::object();
  KeyStore store(work);
  for (const std::string& model : models) {
    const std::string path = (std::filesystem::path(a.models_dir) / model /
                              absl::StrCat(model, ".onnx")).string();
    BF_ASSIGN_OR_RETURN(compiler::ir::Graph graph, compiler::ImportOnnxFile(path));
    err << model << "\n";
    std::string optimized_bytes;
    json& rows = result["models"][model];
    rows = json::object();
    for (const std::string& config : configs) {
      json row;
      BF_ASSIGN_OR_RETURN(compiler::CompileOptions options, ConfigOptions(config));
      const auto t0 = Clock::now();
      auto compiled = compiler::Compile(graph, cal, options);
      const double compile_s = Seconds(t0);
      if (!compiled.ok()) {
        row["skipped"] = absl::StrCat("does not compile: ", compiled.status().message());
        rows[config] = row;
        err << "  " << config << ": " << row["skipped"].get<std::string>() << "\n";
        continue;
      }
      runtime::Plan plan = *std::move(compiled);
      plan.model = model;
      BF_ASSIGN_OR_RETURN(ckks::ParametersPtr params, ckks::Parameters::Create(plan.params));
      row["plan"] = PlanFacts(plan, *params, compile_s);
      const std::string bytes = runtime::SerializePlan(plan);
      if (config == kOptimized) optimized_bytes = bytes;
      if (config != kOptimized && bytes == optimized_bytes) {
        // Nothing to measure twice: the switch changes nothing here.
        row["same_as"] = kOptimized;
        for (const auto& [k, v] : rows[kOptimized].items()) {
          if (k != "plan") row[k] = v;
        }
        rows[config] = row;
        err << "  " << config << ": the same plan as optimized\n";
        continue;
      }
      const double predicted_s = row["plan"]["predicted_ms"].get<double>() / 1e3;
      // Keys in memory: twice the seeded bytes (both halves expanded).
      const double key_gb = 2 * row["plan"]["eval_key_bytes_estimate"].get<double>() / (1 << 30);
      if (predicted_s > a.max_predicted_s || key_gb > a.max_key_gb) {
        row["skipped"] = absl::StrFormat(
            predicted_s > a.max_predicted_s
                ? "not run: predicted %.0f s per image (runtime/cost_model.h, which "
                  "underestimates large key-switching digit counts), above --max-predicted-s %.0f"
                : "not run: its evaluation keys take about %.1f GB in memory, above --max-key-gb %.1f",
            predicted_s > a.max_predicted_s ? predicted_s : key_gb,
            predicted_s > a.max_predicted_s ? a.max_predicted_s : a.max_key_gb);
        rows[config] = row;
        err << "  " << config << ": " << row["skipped"].get<std::string>() << "\n";
        continue;
      }
      err << "  " << config << absl::StrFormat(": N = 2^%d, %d key switches per image\n",
                                                 plan.params.log_n,
                                                 row["plan"]["key_switches"].get<int64_t>());
      const std::string plan_path = absl::StrCat(work, "/", model, ".", config, ".plan");
      BF_RETURN_IF_ERROR(runtime::WritePlanFile(plan, plan_path));
      BF_ASSIGN_OR_RETURN(KeyStore::Keys keys, store.For(plan, params->fingerprint()));
      row["keygen_s"] = keys.keygen_s;
      // Each thread count gets images of its own: agreement counts them all.
      int next = 0, images = 0, agree = 0;
      double max_err = 0, peak = 0;
      json by_threads = json::object();
      std::optional<Run> headline;
      // The baseline and the optimized plan at every thread count (scaling
      // with cores); each ablation at --ablation-threads.
      const bool headline_row = config == kBaseline || config == kOptimized;
      for (int t : headline_row ? threads : ablation_threads) {
        auto run = Measure(plan, plan_path, keys, test, next, a.images, t, a.budget_s, err);
        if (!run.ok()) {
          row["error"] = absl::StrCat("threads ", t, ": ", run.status().message());
          break;
        }
        next += run->images;
        images += run->images;
        agree += run->agree;
        max_err = std::max(max_err, run->max_err);
        peak = std::max(peak, run->peak_rss_mb);
        by_threads[absl::StrCat(t)] = RunJson(*run);
        if (!headline) headline = *run;
      }
      std::filesystem::remove(plan_path);
      if (!headline) {
        rows[config] = row;
        continue;
      }
      // The first run's timings head the row; memory is the largest of any
      // run, agreement and error over every image.
      row["latency_ms"] = by_threads.begin().value()["latency_ms"];
      row["encrypt_ms"] = Median(headline->encrypt_ms, 0.5);
      row["decrypt_ms"] = Median(headline->decrypt_ms, 0.5);
      row["peak_rss_mb"] = peak;
      row["eval_key_bytes"] = keys.evk_bytes;
      row["input_bytes"] = headline->input_bytes;
      row["output_bytes"] = headline->output_bytes;
      row["agreement"] = images ? static_cast<double>(agree) / images : 0.0;
      row["agreement_images"] = images;
      row["max_logit_error"] = max_err;
      row["key_switches_measured"] = headline->key_switches;
      row["by_threads"] = by_threads;
      rows[config] = row;
    }
    store.ForgetModelKeys();
  }
  SetThreadCount(saved_threads);
  result["load_average_end"] = LoadAverage();
  result["wall_s"] = Seconds(started);
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  if (a.json) {
    out << result.dump(1) << "\n";
  } else {
    for (const auto& [model, rows] : result["models"].items()) {
      out << model << "\n";
      for (const auto& [config, r] : rows.items()) {
        if (r.contains("skipped") || r.contains("error")) {
          out << absl::StrFormat("  %-20s %s\n", config,
                                 r.value("skipped", r.value("error", std::string())));
          continue;
        }
        out << absl::StrFormat(
            "  %-20s p50 %9.1f ms  p90 %9.1f ms  RSS %7.0f MB  keys %9.1f MB  agree %.3f (%d)\n",
            config, r["latency_ms"]["p50"].get<double>(), r["latency_ms"]["p90"].get<double>(),
            r["peak_rss_mb"].get<double>(), r["eval_key_bytes"].get<double>() / (1 << 20),
            r["agreement"].get<double>(), r["agreement_images"].get<int>());
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::function<absl::Status(std::ostream&, std::ostream&, bool)> AddBenchCommands(
    CLI::App& app) {
  auto bench = std::make_shared<BenchArgs>();
  CLI::App* b = app.add_subcommand(
      "bench", "The paper's table: baseline vs optimized vs each optimization off, "
               "per model and thread count (docs/results/paper_table.md)");
  b->add_option("--models", bench->models, "comma-separated model names")
      ->capture_default_str();
  b->add_option("--configs", bench->configs,
                "comma-separated: baseline, optimized, no-fusion, no-input-layout, "
                "no-level-planning, no-bsgs, no-param-selection, no-minimal-keys; or all")
      ->capture_default_str();
  b->add_option("--images", bench->images,
                "test images per run (at most; see --budget-s)")
      ->capture_default_str();
  b->add_option("--threads", bench->threads,
                "comma-separated thread counts for the baseline and the optimized plan")
      ->capture_default_str();
  b->add_option("--ablation-threads", bench->ablation_threads,
                "comma-separated thread counts for each optimization off")
      ->capture_default_str();
  b->add_option("--budget-s", bench->budget_s,
                "seconds per run after which no further image starts (one always runs)")
      ->capture_default_str();
  b->add_option("--max-predicted-s", bench->max_predicted_s,
                "skip a configuration predicted slower than this per image")
      ->capture_default_str();
  b->add_option("--max-key-gb", bench->max_key_gb,
                "skip a configuration whose keys take more memory than this")
      ->capture_default_str();
  b->add_option("--calibration", bench->calibration, "training images for calibration")
      ->capture_default_str();
  b->add_option("--models-dir", bench->models_dir, "directory holding <name>/<name>.onnx")
      ->capture_default_str();
  b->add_option("--data", bench->data_dir, "Fashion-MNIST IDX directory")
      ->capture_default_str();
  b->add_option("--work-dir", bench->work_dir,
                "where plans and key files go while running (default: a temporary "
                "directory, removed at the end)");
  b->add_flag("--quick", bench->quick,
              "CI: mlp only, at most 3 images per run, one thread, 5 s budget");
  b->add_flag("--json", bench->json,
              "print one JSON object {\"models\": {NAME: {CONFIG: {...}}}, ...}");

  auto server = std::make_shared<ServerArgs>();
  CLI::App* s = app.add_subcommand("bench-server", "");  // internal: the bench's server
  s->group("");
  s->add_option("plan", server->plan)->required();
  s->add_option("eval_keys", server->eval_keys)->required();

  return [=](std::ostream& out, std::ostream& err, bool) -> absl::Status {
    auto named = [](const absl::Status& st, const char* cmd) {
      if (st.ok()) return st;
      return absl::Status(st.code(), absl::StrCat(cmd, ": ", st.message()));
    };
    if (b->parsed()) return named(Bench(*bench, out, err), "bench");
    if (s->parsed()) return named(BenchServer(*server), "bench-server");
    return absl::NotFoundError("no bench subcommand");
  };
}

}  // namespace blindfold::tools
