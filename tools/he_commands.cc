// File: tools/he_commands.cc
#include "tools/he_commands.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/cpu_features.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "ckks/parameters.h"
#include "compiler/lower/compile.h"
#include "compiler/onnx/importer.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "nlohmann/json.hpp"
#include "runtime/cost_model.h"
#include "runtime/inference.h"
#include "runtime/plan_io.h"
#include "tools/datasets.h"
#include "tools/file_io.h"

namespace blindfold::tools {
namespace {

using nlohmann::json;

constexpr size_t kMaxKeyFile = size_t{4} << 30;
constexpr size_t kMaxCiphertextFile = size_t{256} << 20;

double PeakRssMb() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

std::string Bytes(double b) {
  if (b >= 1 << 20) return absl::StrFormat("%.1f MB", b / (1 << 20));
  if (b >= 1 << 10) return absl::StrFormat("%.1f KB", b / (1 << 10));
  return absl::StrFormat("%.0f B", b);
}

void DrawProgress(std::ostream& err, int done, int total, int agree, double ms,
                  const std::string& unit) {
  const int width = 30;
  const int filled = total ? done * width / total : width;
  err << "\r[" << std::string(filled, '#') << std::string(width - filled, '.')
      << "] " << done << "/" << total << "  agree " << agree << "/" << done
      << absl::StrFormat("  %.1f ms/%s", ms, unit) << std::flush;
}

// --------------------------------------------------------------- compile --

struct CompileArgs {
  std::string model, out, mode = "latency", dataset, data_dir;
  int calibration = 256, log_n = 0, scale_bits = 0;
  bool json = false, verbose = false, baseline = false;
  std::vector<std::string> disable;
};

// One line per linear transform: where it runs and what it rotates by.
std::string DescribeTransforms(const runtime::Plan& plan) {
  std::string out;
  auto steps = [](const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t x : v) absl::StrAppend(&s, s.empty() ? "" : ",", x);
    return s.empty() ? std::string("-") : s;
  };
  auto form = [&](const runtime::PlanForm& f, const std::string& what) {
    for (const runtime::PlanPart& p : f.parts) {
      if (p.identity) continue;
      absl::StrAppend(&out, "  ", what, " <- term ", p.term, ": level ",
                      f.level + (f.rescale ? 1 : 0), ", ", p.rows, "x", p.cols, ", ",
                      p.lt.num_diagonals(), " diagonals, period ", p.lt.period,
                      ", baby step ", p.lt.baby_step, "; babies ", steps(p.lt.BabySteps()),
                      "; giants ", steps(p.lt.GiantSteps()), "; sums ",
                      steps(p.lt.SumSteps()), "\n");
    }
  };
  for (size_t k = 1; k < plan.terms.size(); ++k) {
    const runtime::PlanTerm& t = plan.terms[k];
    form(t.a, absl::StrCat("term ", k));
    if (t.kind == runtime::PlanTerm::Kind::kProduct) form(t.b, absl::StrCat("term ", k, " (b)"));
  }
  form(plan.output, "output");
  return out;
}

// " (k to level l, ...)": how many rotation keys reach each level.
// Throughput plans hold every element of a vector as a ciphertext of N/2
// images, so a wide term is large; the executor streams such terms into
// their readers' accumulators (runtime/plan.h, ScheduleBatched). A line
// with the ciphertext bytes alive at the widest point of a run, and a
// warning when that exceeds this machine's memory (`run` would fail
// there); empty for latency plans (one ciphertext per term).
std::string ThroughputMemoryText(const runtime::Plan& plan) {
  if (plan.mode != runtime::PackingMode::kThroughput) return "";
  const runtime::BatchedSchedule s = runtime::ScheduleBatched(plan);
  std::string streamed;
  for (size_t k = 0; k < s.streamed.size(); ++k) {
    if (!s.streamed[k]) continue;
    absl::StrAppend(&streamed, streamed.empty() ? "" : ", ", k, " (", plan.terms[k].dim,
                    " ciphertexts at level ", plan.terms[k].level, ")");
  }
  std::string text = absl::StrCat("ciphertexts in memory: about ", Bytes(s.peak_bytes),
                                  " at the widest point");
  if (streamed.empty()) {
    absl::StrAppend(&text, " (every term held)\n");
  } else {
    absl::StrAppend(&text, "; terms streamed in blocks: ", streamed, "; holding them: ",
                    Bytes(s.held_peak_bytes), "\n");
  }
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                          static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (physical > 0 && s.peak_bytes > physical) {
    absl::StrAppend(&text, "warning: that is more than this machine's memory (", Bytes(physical),
                    "): `run` would fail here; latency mode needs one ciphertext per vector\n");
  }
  return text;
}

std::string RotationLevelsText(const runtime::Plan& plan) {
  std::map<int, int, std::greater<int>> by_level;
  for (const auto& [r, level] : plan.RotationLevels()) ++by_level[level];
  std::string s;
  for (const auto& [level, n] : by_level) {
    absl::StrAppend(&s, s.empty() ? " (" : ", ", n, " to level ", level);
  }
  return s.empty() ? s : s + ")";
}

absl::Status Compile(const CompileArgs& a, std::ostream& out) {
  compiler::CompileOptions o = a.baseline ? compiler::BaselineOptions()
                                          : compiler::CompileOptions{};
  for (const std::string& name : a.disable) {
    BF_ASSIGN_OR_RETURN(compiler::Optimization off, compiler::ParseOptimization(name));
    o.Disable(off);
  }
  if (a.mode == "latency") {
    o.mode = runtime::PackingMode::kLatency;
  } else if (a.mode == "throughput") {
    o.mode = runtime::PackingMode::kThroughput;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--mode is '", a.mode, "', expected latency or throughput"));
  }
  o.log_n = a.log_n;
  o.scale_bits = a.scale_bits;
  o.labels = ReadManifest(a.model).classes;
  if (a.calibration < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--calibration is ", a.calibration,
                                                   ", expected >= 1"));
  }
  BF_ASSIGN_OR_RETURN(compiler::ir::Graph g, compiler::ImportOnnxFile(a.model));
  // Calibration reads the training split of the model's dataset, never test.
  BF_ASSIGN_OR_RETURN(
      const data::DatasetKind kind,
      ChooseDataset(a.dataset, a.model,
                    compiler::ir::NumElements(g.value(g.inputs()[0]).shape)));
  BF_ASSIGN_OR_RETURN(data::Examples train,
                      data::LoadExamples(kind, a.data_dir, data::Split::kTrain));
  std::vector<std::vector<double>> cal;
  for (int i = 0; i < std::min(a.calibration, train.count); ++i) {
    cal.push_back(train.input(i));
  }
  BF_ASSIGN_OR_RETURN(runtime::Plan plan, compiler::Compile(g, cal, o));
  plan.model = std::filesystem::path(a.model).stem().string();
  BF_RETURN_IF_ERROR(runtime::WritePlanFile(plan, a.out));
  BF_ASSIGN_OR_RETURN(ckks::ParametersPtr params, ckks::Parameters::Create(plan.params));
  // Each key at the level the plan uses it (runtime/cost_model.h).
  const double key_bytes = static_cast<double>(runtime::EvaluationKeyBytes(plan));
  std::string chain;
  for (int b : params->literal().log_q) absl::StrAppend(&chain, chain.empty() ? "" : "+", b);
  std::string special;
  for (int b : params->literal().log_p) absl::StrAppend(&special, special.empty() ? "" : "+", b);
  const runtime::CostBreakdown cost = runtime::PredictLatency(plan);
  if (a.json) {
    json j = {{"model", a.model},
              {"plan", a.out},
              {"predicted_ms", cost.total_ms()},
              {"mode", runtime::PackingModeName(plan.mode)},
              {"log_n", plan.params.log_n},
              {"log_qp", params->log_qp()},
              {"q_bits", params->literal().log_q},
              {"p_bits", params->literal().log_p},
              {"scale_bits", plan.input_scale_log2},
              {"depth", plan.depth},
              {"slots", plan.slots},
              {"rotation_keys", plan.Rotations().size()},
              {"eval_key_bytes", key_bytes},
              {"rotations", plan.RotationCount()},
              {"hoisted_rotations", plan.HoistedRotationCount()},
              {"plaintext_products", plan.PlainProductCount()},
              {"ciphertext_products", plan.CiphertextProductCount()}};
    out << j.dump() << "\n";
    return absl::OkStatus();
  }
  out << "plan: " << a.out << " (" << runtime::PackingModeName(plan.mode) << " mode)\n"
      << absl::StrFormat("parameters: N = 2^%d, log2(QP) = %.1f <= %d (128-bit), Q = %s bits, "
                         "P = %s bits, dnum %d, scale 2^%.0f\n",
                         plan.params.log_n, params->log_qp(),
                         ckks::MaxLogQP128(plan.params.log_n), chain, special,
                         params->dnum(), plan.input_scale_log2)
      << "levels: depth " << plan.depth << " (input at level " << plan.depth
      << ", output at level 0), " << plan.slots << " slots\n"
      << "key set: relinearization "
      << (plan.RelinLevel() >= 0 ? absl::StrCat("to level ", plan.RelinLevel()) : "no") << ", "
      << plan.Rotations().size() << " rotation keys" << RotationLevelsText(plan) << ", about "
      << Bytes(key_bytes) << "\n"
      << "work per input: " << plan.RotationCount() << " rotations + "
      << plan.HoistedRotationCount() << " hoisted, " << plan.PlainProductCount()
      << " plaintext products, " << plan.CiphertextProductCount()
      << " ciphertext products\n"
      << absl::StrFormat(
             "predicted server latency: %.1f ms per %s (rotations %.1f, hoisted %.1f, "
             "encoding %.1f, plaintext products %.1f, ciphertext products %.1f, rescales "
             "%.1f; one thread, IFMA costs from docs/benchmarks.md)\n",
             cost.total_ms(),
             plan.mode == runtime::PackingMode::kThroughput
                 ? absl::StrCat("batch of ", plan.slots)
                 : std::string("input"),
             cost.rotations_ms, cost.hoisted_ms, cost.encode_ms, cost.plain_mul_ms,
             cost.ciphertext_mul_ms, cost.rescale_ms)
      << ThroughputMemoryText(plan);
  if (a.verbose) out << "linear transforms:\n" << DescribeTransforms(plan);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- keygen --

struct KeygenArgs {
  std::string plan, secret_key, eval_keys;
};

absl::Status Keygen(const KeygenArgs& a, std::ostream& out) {
  BF_ASSIGN_OR_RETURN(runtime::Plan plan, runtime::ReadPlanFile(a.plan));
  BF_ASSIGN_OR_RETURN(auto client, runtime::InferenceClient::Create(plan));
  BF_RETURN_IF_ERROR(WriteFile(a.secret_key, client->SecretKeyFile(), /*secret=*/true));
  BF_ASSIGN_OR_RETURN(std::string evk, client->EvaluationKeys());
  BF_RETURN_IF_ERROR(WriteFile(a.eval_keys, evk));
  out << "secret key: " << a.secret_key << " (keep it on this machine)\n"
      << "evaluation keys: " << a.eval_keys << " (" << Bytes(evk.size())
      << ", for the server)\n";
  return absl::OkStatus();
}

// --------------------------------------------------------------- encrypt --

struct EncryptArgs {
  std::string plan, secret_key, out, idx, raw, dataset, data_dir;
  int image = -1, index = 0;  // image: a test-split index (image or patient)
  int count = 1;              // throughput plans: consecutive inputs in one batch
};

// The input at `offset` after the one the arguments name (--image K or
// --index K: K + offset; a raw file holds one input, offset 0).
absl::StatusOr<std::vector<double>> InputValues(const EncryptArgs& a, int64_t dim,
                                                int offset = 0) {
  const int sources = (a.image >= 0) + !a.idx.empty() + !a.raw.empty();
  if (sources != 1) {
    return absl::InvalidArgumentError(
        "give exactly one input: --image/--patient K (test split), --idx FILE "
        "[--index K] or --raw FILE");
  }
  auto pixels = [&](const uint8_t* p, int64_t n) {
    std::vector<double> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = p[i] / 255.0;
    return v;
  };
  if (a.image >= 0) {
    BF_ASSIGN_OR_RETURN(const data::DatasetKind kind, ChooseDataset(a.dataset, "", dim));
    BF_ASSIGN_OR_RETURN(data::Examples test,
                        data::LoadExamples(kind, a.data_dir, data::Split::kTest));
    if (a.image + offset >= test.count) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", test.unit, " is ", a.image + offset, ", the ", test.description,
          " split has ", test.count, " ", test.unit, "s"));
    }
    return test.input(a.image + offset);
  }
  if (!a.idx.empty()) {
    BF_ASSIGN_OR_RETURN(data::IdxArray arr, data::ReadIdxFile(a.idx, data::kIdxImagesMagic));
    const int64_t per = static_cast<int64_t>(arr.values.size()) / std::max<uint32_t>(1, arr.dims[0]);
    if (per != dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          a.idx, " holds images of ", per, " pixels, the plan takes ", dim));
    }
    const int at = a.index + offset;
    if (a.index < 0 || at >= static_cast<int>(arr.dims[0])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--index is ", at, ", ", a.idx, " has ", arr.dims[0], " images"));
    }
    return pixels(arr.values.data() + static_cast<int64_t>(at) * per, per);
  }
  BF_ASSIGN_OR_RETURN(std::string raw, ReadFile(a.raw, 64 << 20, "raw input"));
  // One byte per value is an image's pixels; other inputs only as float64.
  const bool images = dim == data::kFashionMnistPixels;
  if (images && static_cast<int64_t>(raw.size()) == dim) {
    return pixels(reinterpret_cast<const uint8_t*>(raw.data()), dim);
  }
  if (static_cast<int64_t>(raw.size()) == 8 * dim) {
    std::vector<double> v(dim);
    std::memcpy(v.data(), raw.data(), raw.size());
    return v;
  }
  if (!images) {
    return absl::InvalidArgumentError(absl::StrCat(
        a.raw, " has ", raw.size(), " bytes; expected ", 8 * dim, " (", dim,
        " float64 values, little-endian)"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      a.raw, " has ", raw.size(), " bytes; expected ", dim, " (uint8 pixels, "
      "divided by 255) or ", 8 * dim, " (float64 values, little-endian)"));
}

absl::Status Encrypt(const EncryptArgs& a, std::ostream& out) {
  BF_ASSIGN_OR_RETURN(runtime::Plan plan, runtime::ReadPlanFile(a.plan));
  BF_ASSIGN_OR_RETURN(std::string sk, ReadFile(a.secret_key, 4096, "secret-key file"));
  BF_ASSIGN_OR_RETURN(auto client, runtime::InferenceClient::FromSecretKeyFile(plan, sk));
  if (plan.mode == runtime::PackingMode::kThroughput) {
    // A batch: input i of the batch in slot i of every ciphertext.
    if (a.count < 1 || a.count > plan.slots || (a.count > 1 && !a.raw.empty())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--count is ", a.count, "; a throughput plan takes 1 to ", plan.slots,
          " inputs, consecutive ones from --image or --index (a --raw file holds one)"));
    }
    std::vector<std::vector<double>> xs;
    for (int i = 0; i < a.count; ++i) {
      BF_ASSIGN_OR_RETURN(std::vector<double> x, InputValues(a, plan.terms[0].dim, i));
      xs.push_back(std::move(x));
    }
    BF_ASSIGN_OR_RETURN(std::string batch, client->EncryptBatch(xs));
    BF_RETURN_IF_ERROR(WriteFile(a.out, batch));
    out << "encrypted batch: " << a.out << " (" << a.count << " input"
        << (a.count > 1 ? "s" : "") << ", " << Bytes(batch.size())
        << "; decrypt its result with --count " << a.count << ")\n";
    return absl::OkStatus();
  }
  if (a.count != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--count is ", a.count, ": a latency plan encrypts one input (compile with "
        "--mode throughput for batches)"));
  }
  BF_ASSIGN_OR_RETURN(std::vector<double> x, InputValues(a, plan.terms[0].dim));
  BF_ASSIGN_OR_RETURN(std::string ct, client->EncryptInput(x));
  BF_RETURN_IF_ERROR(WriteFile(a.out, ct));
  out << "encrypted input: " << a.out << " (" << Bytes(ct.size()) << ")\n";
  return absl::OkStatus();
}

// ------------------------------------------------------------------- run --

// The largest input file a plan takes: one ciphertext, or for a throughput
// plan a batch of one per input element (cnn-deep's: 530 MB).
size_t MaxInputFile(const runtime::Plan& plan) {
  if (plan.mode != runtime::PackingMode::kThroughput) return kMaxCiphertextFile;
  const double per = runtime::CiphertextBytes(plan, plan.depth) + 4096;
  return std::max(kMaxCiphertextFile,
                  static_cast<size_t>(per * static_cast<double>(plan.terms[0].dim)) + 4096);
}

struct RunArgs {
  std::string plan, eval_keys, in, out;
  bool json = false;
};

absl::Status Run(const RunArgs& a, std::ostream& out) {
  BF_ASSIGN_OR_RETURN(runtime::Plan plan, runtime::ReadPlanFile(a.plan));
  std::unique_ptr<runtime::InferenceServer> server;
  {
    // The file's bytes are dropped once the keys are parsed (peak memory).
    BF_ASSIGN_OR_RETURN(std::string evk,
                        ReadFile(a.eval_keys, kMaxKeyFile, "evaluation-key file"));
    // One request: caching encoded diagonals would only cost memory, unless
    // the environment asks for it.
    const std::optional<size_t> cache =
        std::getenv("BLINDFOLD_PLAINTEXT_CACHE_MB") ? std::nullopt : std::optional<size_t>(0);
    BF_ASSIGN_OR_RETURN(server, runtime::InferenceServer::Create(plan, evk, cache));
  }
  BF_ASSIGN_OR_RETURN(std::string ct,
                      ReadFile(a.in, MaxInputFile(plan), "ciphertext file"));
  runtime::RunStats stats;
  BF_ASSIGN_OR_RETURN(std::string result, server->Run(ct, &stats));
  BF_RETURN_IF_ERROR(WriteFile(a.out, result));
  if (a.json) {
    out << json{{"output", a.out},          {"ms", stats.seconds * 1e3},
                {"rotations", stats.rotations}, {"hoisted_rotations", stats.hoisted_rotations},
                {"key_switches", stats.key_switches}, {"output_bytes", result.size()},
                {"peak_rss_mb", PeakRssMb()}}
               .dump()
        << "\n";
  } else {
    out << absl::StrFormat(
        "encrypted result: %s (%s) in %.1f ms: %lld rotations + %lld hoisted, "
        "%lld key switches, peak RSS %.0f MB\n",
        a.out, Bytes(result.size()), stats.seconds * 1e3,
        static_cast<long long>(stats.rotations),
        static_cast<long long>(stats.hoisted_rotations),
        static_cast<long long>(stats.key_switches), PeakRssMb());
  }
  return absl::OkStatus();
}

// --------------------------------------------------------------- decrypt --

struct DecryptArgs {
  std::string plan, secret_key, in, dataset;
  int count = 1;  // throughput plans: how many inputs the batch holds
  bool json = false;
};

// Names of the classes a plan's outputs predict (PredictedLabel): the plan's
// labels, except for a one-logit plan, whose label 0 is named by its
// dataset (`dataset`, or the one with the plan's input size) when known.
std::vector<std::string> ClassNames(const runtime::Plan& plan, const std::string& dataset) {
  if (plan.output.dim == 1) {
    auto kind = ChooseDataset(dataset, "", plan.terms[0].dim);
    if (kind.ok() && data::DatasetClassNames(*kind).size() == 2) {
      return data::DatasetClassNames(*kind);
    }
    if (!plan.labels.empty()) return {absl::StrCat("not ", plan.labels[0]), plan.labels[0]};
  }
  return plan.labels;
}

absl::Status Decrypt(const DecryptArgs& a, std::ostream& out) {
  BF_ASSIGN_OR_RETURN(runtime::Plan plan, runtime::ReadPlanFile(a.plan));
  BF_ASSIGN_OR_RETURN(std::string sk, ReadFile(a.secret_key, 4096, "secret-key file"));
  BF_ASSIGN_OR_RETURN(auto client, runtime::InferenceClient::FromSecretKeyFile(plan, sk));
  BF_ASSIGN_OR_RETURN(std::string ct, ReadFile(a.in, kMaxCiphertextFile, "ciphertext file"));
  std::vector<std::vector<double>> ys;
  if (plan.mode == runtime::PackingMode::kThroughput) {
    BF_ASSIGN_OR_RETURN(ys, client->DecryptBatch(ct, a.count));
  } else {
    if (a.count != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--count is ", a.count, ": a latency plan's result holds one output"));
    }
    BF_ASSIGN_OR_RETURN(std::vector<double> y, client->DecryptOutput(ct));
    ys.push_back(std::move(y));
  }
  const std::vector<std::string> names = ClassNames(plan, a.dataset);
  const std::string positive = names.size() == 2 ? names[1] : "class 1";
  json results = json::array();
  for (size_t i = 0; i < ys.size(); ++i) {
    const std::vector<double>& y = ys[i];
    const int best = PredictedLabel(y);
    const std::string name = best < static_cast<int>(names.size())
                                 ? names[best]
                                 : absl::StrCat("class ", best);
    // Two-class models: the probability of label 1 (sigmoid of the logit).
    const std::optional<double> p = PositiveProbability(y);
    if (a.json) {
      json j = {{"class", best}, {"label", name}, {"logits", y}};
      if (p) j["probability"] = *p;
      results.push_back(std::move(j));
      continue;
    }
    // A batch's results are numbered by their place in it.
    const std::string at = plan.mode == runtime::PackingMode::kThroughput
                               ? absl::StrCat("input ", i, ": ")
                               : std::string();
    out << at << "class: " << best << " (" << name << ")\n";
    if (p) out << at << absl::StrFormat("P(%s) = %.6f\n", positive, *p);
    out << at << "logits:";
    for (double v : y) out << absl::StrFormat(" %.4f", v);
    out << "\n";
  }
  if (a.json) {
    // One object for a latency result; {"results": [...]} for a batch.
    if (plan.mode == runtime::PackingMode::kThroughput) {
      out << json{{"results", results}}.dump() << "\n";
    } else {
      out << results[0].dump() << "\n";
    }
  }
  return absl::OkStatus();
}

// -------------------------------------------------------------- eval-enc --

struct EvalEncArgs {
  std::string plan, dataset, data_dir;
  int images = 0, first = 0;  // images 0: the whole split up to 1,000, else 100
  bool json = false;
};


absl::Status EvalEnc(const EvalEncArgs& a, std::ostream& out, std::ostream& err,
                     bool tty) {
  BF_ASSIGN_OR_RETURN(runtime::Plan plan, runtime::ReadPlanFile(a.plan));
  BF_ASSIGN_OR_RETURN(const data::DatasetKind kind,
                      ChooseDataset(a.dataset, "", plan.terms[0].dim));
  BF_ASSIGN_OR_RETURN(data::Examples test,
                      data::LoadExamples(kind, a.data_dir, data::Split::kTest));
  BF_RETURN_IF_ERROR(CheckOutputs(plan.output.dim, static_cast<int>(test.class_names.size())));
  const int images = a.images != 0 ? a.images
                     : test.count <= 1000 ? test.count - std::max(0, a.first)
                                          : 100;
  if (images < 1 || a.first < 0 || a.first + images > test.count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--images ", images, " from --first ", a.first, " leave the ", test.description,
        " split of ", test.count));
  }
  // Two-class models: the probability of label 1 as well as the class.
  const bool binary = PositiveProbability(std::vector<double>(plan.output.dim)).has_value() &&
                      test.class_names.size() == 2;
  BF_ASSIGN_OR_RETURN(auto client, runtime::InferenceClient::Create(plan));
  BF_ASSIGN_OR_RETURN(std::string evk, client->EvaluationKeys());
  BF_ASSIGN_OR_RETURN(auto server, runtime::InferenceServer::Create(plan, evk));
  int agree = 0, correct = 0, plain_correct = 0;
  double max_err = 0, max_prob_err = 0;
  std::vector<double> ms;
  size_t in_bytes = 0, out_bytes = 0;
  runtime::RunStats stats;
  auto score = [&](int i, const std::vector<double>& y, const std::vector<double>& ys) {
    for (int k = 0; k < plan.output.dim; ++k) max_err = std::max(max_err, std::abs(y[k] - ys[k]));
    if (binary) {
      max_prob_err = std::max(max_prob_err,
                              std::abs(*PositiveProbability(y) - *PositiveProbability(ys)));
    }
    const int be = PredictedLabel(y), bp = PredictedLabel(ys);
    agree += be == bp;
    correct += be == test.labels[i];
    plain_correct += bp == test.labels[i];
  };
  // Plaintext: the same plan in float64 (exact slot vectors; in throughput
  // mode the latency packing of the same program is not at hand, so the
  // batched executor runs on one-slot vectors).
  auto plain = [&](const std::vector<double>& x) {
    return runtime::EvaluatePlanInSlots(plan, x);
  };
  const int batch = plan.mode == runtime::PackingMode::kThroughput
                        ? static_cast<int>(std::min<int64_t>(plan.slots, images))
                        : 1;
  for (int i = a.first; i < a.first + images; i += batch) {
    const int count = std::min(batch, a.first + images - i);
    std::vector<std::vector<double>> xs;
    for (int j = 0; j < count; ++j) xs.push_back(test.input(i + j));
    std::vector<std::vector<double>> ys;
    if (plan.mode == runtime::PackingMode::kThroughput) {
      BF_ASSIGN_OR_RETURN(std::string ct, client->EncryptBatch(xs));
      // A large model's batch runs for minutes: after two seconds, show how
      // far the server is (every 10 % when not on a terminal).
      const auto begun = std::chrono::steady_clock::now();
      const int number = (i - a.first) / batch + 1, batches = (images + batch - 1) / batch;
      int shown = -10;
      auto progress = [&](int64_t done, int64_t total) {
        const int pct = static_cast<int>(100 * done / std::max<int64_t>(1, total));
        if ((tty ? pct == shown : pct / 10 == shown / 10) ||
            std::chrono::steady_clock::now() - begun < std::chrono::seconds(2)) {
          return;
        }
        shown = pct;
        err << (tty ? "\r" : "") << "batch " << number << "/" << batches << " of " << count
            << " " << test.unit << "s: server " << pct << " %" << (tty ? "" : "\n")
            << std::flush;
      };
      BF_ASSIGN_OR_RETURN(std::string res, server->Run(ct, &stats, progress));
      if (tty && shown >= 0) err << "\n";
      BF_ASSIGN_OR_RETURN(ys, client->DecryptBatch(res, count));
      in_bytes = ct.size();
      out_bytes = res.size();
    } else {
      BF_ASSIGN_OR_RETURN(std::string ct, client->EncryptInput(xs[0]));
      BF_ASSIGN_OR_RETURN(std::string res, server->Run(ct, &stats));
      BF_ASSIGN_OR_RETURN(std::vector<double> y, client->DecryptOutput(res));
      ys.push_back(std::move(y));
      in_bytes = ct.size();
      out_bytes = res.size();
    }
    // Latency per image: the request's server time over its images.
    for (int j = 0; j < count; ++j) ms.push_back(stats.seconds * 1e3 / count);
    for (int j = 0; j < count; ++j) score(i + j, ys[j], plain(xs[j]));
    const int done = i - a.first + count;
    if (tty || done == images || done % 10 == 0 || count > 1) {
      DrawProgress(err, done, images, agree, Percentile(ms, 0.5), test.unit);
      if (!tty) err << "\n";
    }
  }
  if (tty) err << "\n";
  const double n = images;
  double total_ms = 0;
  for (double v : ms) total_ms += v;
  const double images_per_second = total_ms > 0 ? 1e3 * n / total_ms : 0.0;
  json j = {{"model", plan.model},
            {"dataset", data::DatasetName(kind)},
            {"mode", runtime::PackingModeName(plan.mode)},
            {"images", images},
            {"agreement", agree / n},
            {"accuracy", correct / n},
            {"plaintext_accuracy", plain_correct / n},
            {"max_logit_error", max_err},
            {"max_probability_error", binary ? json(max_prob_err) : json(nullptr)},
            {"latency_ms", {{"p50", Percentile(ms, 0.5)}, {"p90", Percentile(ms, 0.9)}}},
            {"peak_rss_mb", PeakRssMb()},
            {"input_bytes", in_bytes},
            {"output_bytes", out_bytes},
            {"eval_key_bytes", evk.size()},
            {"rotations", stats.rotations + stats.hoisted_rotations},
            {"key_switches", stats.key_switches},
            {"log_n", plan.params.log_n},
            {"batch", batch},
            {"slots", plan.slots},
            {"images_per_second", images_per_second},
            {"threads", ThreadCount()},
            {"kernel", std::string(KernelPathName(ActiveKernelPath()))}};
  if (a.json) {
    out << j.dump() << "\n";
  } else {
    const char* unit = test.unit.c_str();
    out << absl::StrFormat(
        "model %s (%s mode), %d %s %ss from #%d\n"
        "agreement with plaintext top-1: %.2f %% (%d/%d)\n"
        "accuracy: %.2f %% encrypted, %.2f %% plaintext\n"
        "max |logit error|: %.3g\n",
        plan.model, runtime::PackingModeName(plan.mode), images, test.description, unit,
        a.first, 100 * agree / n, agree, images, 100 * correct / n, 100 * plain_correct / n,
        max_err);
    if (binary) {
      out << absl::StrFormat("max |P(%s) error|: %.3g\n", test.class_names[1], max_prob_err);
    }
    out << absl::StrFormat(
        "server latency: p50 %.2f ms, p90 %.2f ms per %s%s\n"
        "bytes: input %s, output %s, evaluation keys %s; peak RSS %.0f MB\n"
        "per request: %lld rotations (%lld hoisted), %lld key switches\n",
        Percentile(ms, 0.5), Percentile(ms, 0.9), unit,
        batch > 1 ? absl::StrFormat(" (batches of %d in %lld slots)", batch,
                                    static_cast<long long>(plan.slots))
                  : std::string(),
        Bytes(in_bytes), Bytes(out_bytes), Bytes(evk.size()), PeakRssMb(),
        static_cast<long long>(stats.rotations + stats.hoisted_rotations),
        static_cast<long long>(stats.hoisted_rotations),
        static_cast<long long>(stats.key_switches));
  }
  return absl::OkStatus();
}

}  // namespace

std::function<absl::Status(std::ostream&, std::ostream&, bool)> AddHeCommands(
    CLI::App& app) {
  auto compile = std::make_shared<CompileArgs>();
  CLI::App* c = app.add_subcommand(
      "compile", "Compile an ONNX model into an encrypted-inference plan "
                 "(parameters, packing, levels, key set)");
  c->add_option("model", compile->model, "model.onnx")->required();
  c->add_option("-o,--out", compile->out, "plan file to write")->required();
  c->add_option("--mode", compile->mode, "latency (one input per ciphertext) or throughput")
      ->capture_default_str();
  c->add_option("--calibration", compile->calibration,
                "training inputs used to measure value ranges")
      ->capture_default_str();
  c->add_option("--dataset", compile->dataset,
                "fashion-mnist or breast-cancer (default: the model's manifest, else by "
                "input size)");
  c->add_option("--data", compile->data_dir,
                "Fashion-MNIST IDX directory or breast-cancer CSV (default: where Debian "
                "installs it)");
  c->add_option("--log-n", compile->log_n, "force the ring degree 2^k (still 128-bit)");
  c->add_flag("-v,--verbose", compile->verbose,
              "also print every linear transform: level, diagonals, rotations");
  c->add_option("--scale-bits", compile->scale_bits, "force the scale 2^k");
  c->add_flag("--json", compile->json, "print one JSON object");
  c->add_flag("--baseline", compile->baseline,
              "the conventional pipeline: every optimization off "
              "(docs/design/baseline.md)");
  c->add_option("--disable", compile->disable,
                "turn optimizations off: fusion, input-layout, level-planning, bsgs, "
                "param-selection, minimal-keys")
      ->delimiter(',');

  auto keygen = std::make_shared<KeygenArgs>();
  CLI::App* k = app.add_subcommand(
      "keygen", "Client: a secret key and the evaluation keys a plan needs");
  k->add_option("plan", keygen->plan, "plan file")->required();
  k->add_option("--secret-key", keygen->secret_key, "secret-key file to write (0600)")
      ->required();
  k->add_option("--eval-keys", keygen->eval_keys, "evaluation-key file to write")
      ->required();

  auto encrypt = std::make_shared<EncryptArgs>();
  CLI::App* e = app.add_subcommand(
      "encrypt", "Client: encrypt one input for a plan (a throughput plan: a batch, --count)");
  e->add_option("plan", encrypt->plan, "plan file")->required();
  e->add_option("--secret-key", encrypt->secret_key, "secret-key file")->required();
  e->add_option("-o,--out", encrypt->out, "ciphertext file to write")->required();
  e->add_option("--image,--patient", encrypt->image,
                "index in the test split (a Fashion-MNIST image, a breast-cancer patient)");
  e->add_option("--dataset", encrypt->dataset,
                "fashion-mnist or breast-cancer (default: by the plan's input size)");
  e->add_option("--data", encrypt->data_dir,
                "Fashion-MNIST IDX directory or breast-cancer CSV (default: where Debian "
                "installs it)");
  e->add_option("--idx", encrypt->idx, "an IDX images file (with --index)");
  e->add_option("--index", encrypt->index, "image index in --idx")->capture_default_str();
  e->add_option("--raw", encrypt->raw,
                "raw input: uint8 pixels (one byte per value) or float64 values");
  e->add_option("--count", encrypt->count,
                "throughput plans: this many consecutive inputs in one batch, from --image "
                "or --index")
      ->capture_default_str();

  auto run = std::make_shared<RunArgs>();
  CLI::App* r = app.add_subcommand(
      "run", "Server: run a plan on an encrypted input (no secret key involved)");
  r->add_option("plan", run->plan, "plan file")->required();
  r->add_option("--eval-keys", run->eval_keys, "evaluation-key file")->required();
  r->add_option("input", run->in, "input ciphertext file")->required();
  r->add_option("-o,--out", run->out, "result ciphertext file to write")->required();
  r->add_flag("--json", run->json, "print one JSON object");

  auto decrypt = std::make_shared<DecryptArgs>();
  CLI::App* d = app.add_subcommand(
      "decrypt", "Client: decrypt a result: class, logits (and a two-class model's probability)");
  d->add_option("plan", decrypt->plan, "plan file")->required();
  d->add_option("--secret-key", decrypt->secret_key, "secret-key file")->required();
  d->add_option("input", decrypt->in, "result ciphertext file")->required();
  d->add_option("--dataset", decrypt->dataset,
                "names a one-logit plan's classes (default: by the plan's input size)");
  d->add_option("--count", decrypt->count,
                "throughput plans: how many inputs the batch holds (as given to encrypt)")
      ->capture_default_str();
  d->add_flag("--json", decrypt->json,
              "print one JSON object (a batch: {\"results\": [one per input]})");

  auto eval = std::make_shared<EvalEncArgs>();
  CLI::App* v = app.add_subcommand(
      "eval-enc", "Whole flow (keys, encrypt, run, decrypt) over the test split "
                  "(images or patients), against the plaintext plan");
  v->add_option("plan", eval->plan, "plan file")->required();
  v->add_option("--images,--patients", eval->images,
                "number of test inputs (default: the whole split when it has at most "
                "1,000, else 100)");
  v->add_option("--first", eval->first, "first test input")->capture_default_str();
  v->add_option("--dataset", eval->dataset,
                "fashion-mnist or breast-cancer (default: by the plan's input size)");
  v->add_option("--data", eval->data_dir,
                "Fashion-MNIST IDX directory or breast-cancer CSV (default: where Debian "
                "installs it)");
  v->add_flag("--json", eval->json,
              "print one JSON object (model, dataset, mode, images, agreement, accuracy, "
              "plaintext_accuracy, max_logit_error, max_probability_error, latency_ms, "
              "peak_rss_mb, input_bytes, output_bytes, eval_key_bytes, rotations, "
              "key_switches)");

  return [=](std::ostream& out, std::ostream& err, bool tty) -> absl::Status {
    auto named = [](const absl::Status& s, const char* cmd) {
      if (s.ok()) return s;
      return absl::Status(s.code(), absl::StrCat(cmd, ": ", s.message()));
    };
    if (c->parsed()) return named(Compile(*compile, out), "compile");
    if (k->parsed()) return named(Keygen(*keygen, out), "keygen");
    if (e->parsed()) return named(Encrypt(*encrypt, out), "encrypt");
    if (r->parsed()) return named(Run(*run, out), "run");
    if (d->parsed()) return named(Decrypt(*decrypt, out), "decrypt");
    if (v->parsed()) return named(EvalEnc(*eval, out, err, tty), "eval-enc");
    return absl::NotFoundError("no encrypted-inference subcommand");
  };
}

}  // namespace blindfold::tools
