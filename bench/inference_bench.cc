// File: bench/inference_bench.cc
// Server compute of encrypted inference per shipped model and packing mode:
// the plan is compiled once (calibration on 256 training inputs of the
// model's dataset, chosen by its input size: Fashion-MNIST images or
// breast-cancer patients), keys made once, one test input (or one full
// batch) encrypted once; each iteration is one InferenceServer::Run.
// Counters: process CPU ms per request (all threads), predicted ms
// (runtime/cost_model.h), rotations, key switches,
// input/output/evaluation-key bytes, N, depth, slots, threads and kernel
// path. Latency mode reports ms per input; throughput mode also inputs per
// second (images_per_s). A throughput batch of the breast-cancer models is
// a register of N/2 patients: the 142 test patients over and over.
//
//   ./build/bench/inference_bench [--benchmark_filter=cnn] [--threads=T]
//   ./build/bench/inference_bench --models=logreg,cnn --modes=latency
//   ./build/bench/inference_bench --models=bc-logreg,bc-mlp
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "benchmark/benchmark.h"
#include "compiler/lower/compile.h"
#include "compiler/onnx/importer.h"
#include "data/dataset.h"
#include "runtime/cost_model.h"
#include "runtime/inference.h"

namespace {

using namespace blindfold;  // NOLINT

struct Setup {
  runtime::Plan plan;
  std::unique_ptr<runtime::InferenceServer> server;
  std::string request;
  size_t response_bytes = 0;
  int batch = 1;
  std::string error;
};

const data::Examples& Split(data::DatasetKind kind, data::Split s) {
  static std::map<std::pair<int, int>, data::Examples> cache;
  const std::pair<int, int> key(static_cast<int>(kind), static_cast<int>(s));
  auto it = cache.find(key);
  if (it == cache.end()) {
    auto d = data::LoadExamples(kind, "", s);
    if (!d.ok()) {
      std::fprintf(stderr, "inference_bench: %s\n", std::string(d.status().message()).c_str());
      std::exit(1);
    }
    it = cache.emplace(key, *std::move(d)).first;
  }
  return it->second;
}

Setup Make(const std::string& model, runtime::PackingMode mode) {
  Setup s;
  auto g = compiler::ImportOnnxFile(std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + model +
                                    "/" + model + ".onnx");
  if (!g.ok()) {
    s.error = std::string(g.status().message());
    return s;
  }
  auto kind = data::DatasetForInputSize(
      compiler::ir::NumElements(g->value(g->inputs()[0]).shape));
  if (!kind.ok()) {
    s.error = std::string(kind.status().message());
    return s;
  }
  const data::Examples& train = Split(*kind, data::Split::kTrain);
  std::vector<std::vector<double>> cal;
  for (int i = 0; i < std::min(256, train.count); ++i) cal.push_back(train.input(i));
  compiler::CompileOptions o;
  o.mode = mode;
  auto plan = compiler::Compile(*g, cal, o);
  if (!plan.ok()) {
    s.error = std::string(plan.status().message());
    return s;
  }
  s.plan = *std::move(plan);
  auto client = runtime::InferenceClient::Create(s.plan);
  auto evk = (*client)->EvaluationKeys();
  auto server = runtime::InferenceServer::Create(s.plan, *evk);
  if (!server.ok()) {
    s.error = std::string(server.status().message());
    return s;
  }
  s.server = *std::move(server);
  const data::Examples& test = Split(*kind, data::Split::kTest);
  if (mode == runtime::PackingMode::kThroughput) {
    std::vector<std::vector<double>> xs;
    for (int i = 0; i < s.plan.slots; ++i) xs.push_back(test.input(i % test.count));
    s.request = *(*client)->EncryptBatch(xs);
    s.batch = static_cast<int>(s.plan.slots);
  } else {
    s.request = *(*client)->EncryptInput(test.input(17));
  }
  return s;
}

double ProcessCpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

void BM_Inference(benchmark::State& state, std::string model, runtime::PackingMode mode) {
  static std::map<std::string, Setup> setups;
  const std::string key = model + (mode == runtime::PackingMode::kThroughput ? "/t" : "/l");
  if (!setups.count(key)) setups.emplace(key, Make(model, mode));
  Setup& s = setups.at(key);
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  runtime::RunStats stats;
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    auto out = s.server->Run(s.request, &stats);
    if (!out.ok()) {
      state.SkipWithError(std::string(out.status().message()).c_str());
      return;
    }
    s.response_bytes = out->size();
  }
  // CPU time of the whole process (every thread) per request: the work
  // itself, much less sensitive than wall time to other load on the machine.
  state.counters["process_cpu_ms"] =
      1e3 * (ProcessCpuSeconds() - cpu_start) / static_cast<double>(state.iterations());
  const auto cost = runtime::PredictLatency(s.plan);
  state.counters["predicted_ms"] = cost.total_ms();
  state.counters["rotations"] = static_cast<double>(stats.rotations + stats.hoisted_rotations);
  state.counters["key_switches"] = static_cast<double>(stats.key_switches);
  state.counters["input_bytes"] = static_cast<double>(s.request.size());
  state.counters["output_bytes"] = static_cast<double>(s.response_bytes);
  state.counters["eval_key_bytes"] = static_cast<double>(s.server->evaluation_key_bytes());
  state.counters["logN"] = s.plan.params.log_n;
  state.counters["depth"] = s.plan.depth;
  state.counters["slots"] = static_cast<double>(s.plan.slots);
  state.counters["batch"] = s.batch;
  state.counters["threads"] = ThreadCount();
  state.counters["ifma"] = ActiveKernelPath() == KernelPath::kIfma ? 1 : 0;
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(s.batch), benchmark::Counter::kIsIterationInvariantRate);
}

std::vector<std::string> Split(const std::string& csv) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= csv.size()) {
    const size_t comma = csv.find(',', at);
    const std::string item = csv.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string models = "logreg,mlp,cnn-small,cnn,mlp-relu,cnn-deep";
  std::string modes = "latency,throughput";
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--models=", 9) == 0) {
      models = argv[i] + 9;
    } else if (std::strncmp(argv[i], "--modes=", 8) == 0) {
      modes = argv[i] + 8;
    } else if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      SetThreadCount(std::atoi(argv[i] + 10));
    } else {
      rest.push_back(argv[i]);
    }
  }
  for (const std::string& mode : Split(modes)) {
    const auto m = mode == "throughput" ? runtime::PackingMode::kThroughput
                                        : runtime::PackingMode::kLatency;
    for (const std::string& model : Split(models)) {
      // The tabular models take milliseconds a request: more iterations.
      const bool tabular = model.rfind("bc-", 0) == 0;
      benchmark::RegisterBenchmark(("inference/" + model + "/" + mode).c_str(),
                                   BM_Inference, model, m)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()  // throughput requests run on every thread
          ->Iterations(tabular ? (m == runtime::PackingMode::kThroughput ? 20 : 200)
                               : (m == runtime::PackingMode::kThroughput ? 1 : 5));
    }
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
