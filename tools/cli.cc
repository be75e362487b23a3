// File: tools/cli.cc
#include "tools/cli.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "compiler/ir/analysis.h"
#include "compiler/ir/dump.h"
#include "compiler/ir/graph.h"
#include "compiler/onnx/importer.h"
#include "data/dataset.h"
#include "nlohmann/json.hpp"
#include "runtime/reference_executor.h"
#include "tools/datasets.h"
#include "tools/bench_command.h"
#include "tools/he_commands.h"
#include "tools/service_commands.h"

namespace blindfold::tools {
namespace {

namespace ir = compiler::ir;
using nlohmann::json;

struct InspectArgs {
  std::string model;
  bool json = false;
};

struct EvalArgs {
  std::string model;
  std::string dataset;   // empty: the manifest's, or by input size
  std::string data_dir;  // empty: the dataset's installed location
  int limit = 0;  // 0: all images
  bool json = false;
  std::string logits_out;
};

json DepthJson(const std::optional<int>& d) {
  return d ? json(*d) : json(nullptr);
}

absl::Status Inspect(const InspectArgs& args, std::ostream& out) {
  BF_ASSIGN_OR_RETURN(ir::Graph g, compiler::ImportOnnxFile(args.model));
  const ir::DepthReport depth = ir::AnalyzeDepth(g);
  const int64_t weights = ir::CountWeights(g);
  std::map<std::string, int> op_counts;
  for (const ir::Node& n : g.nodes()) ++op_counts[ir::OpKindName(n.op)];
  const ir::Value& in = g.value(g.inputs()[0]);
  const ir::Value& output = g.value(g.outputs()[0]);
  if (args.json) {
    json j = {{"model", args.model},
              {"input", {{"name", in.name}, {"shape", in.shape}}},
              {"output", {{"name", output.name}, {"shape", output.shape}}},
              {"nodes", g.nodes().size()},
              {"ops", op_counts},
              {"weights", weights},
              {"activation_depth", DepthJson(depth.activation_depth)},
              {"multiplicative_depth", DepthJson(depth.multiplicative_depth)}};
    if (!depth.non_polynomial_op.empty()) {
      j["non_polynomial_op"] = depth.non_polynomial_op;
    }
    out << j.dump() << "\n";
    return absl::OkStatus();
  }
  out << "model: " << args.model << "\n"
      << "input: " << in.name << " " << ir::ShapeString(in.shape) << "\n"
      << "output: " << output.name << " " << ir::ShapeString(output.shape)
      << "\n"
      << "nodes: " << g.nodes().size() << " (";
  bool first = true;
  for (const auto& [op, count] : op_counts) {
    out << (first ? "" : ", ") << op << " " << count;
    first = false;
  }
  out << ")\n"
      << "weights: " << weights << " values\n";
  if (depth.non_polynomial_op.empty()) {
    out << "depth: " << *depth.activation_depth
        << " ciphertext products (activations), "
        << *depth.multiplicative_depth
        << " levels in total with fused plaintext-weight layers\n";
  } else {
    out << "depth: undefined (non-polynomial op " << depth.non_polynomial_op
        << "; needs a polynomial approximation)\n";
  }
  out << "\n" << ir::DumpGraph(g);
  return absl::OkStatus();
}

// Draws "[#####.....] 120/1000  83.3 %" on one terminal line.
void DrawProgress(std::ostream& err, int done, int total, int correct) {
  constexpr int kWidth = 30;
  const int filled = total ? done * kWidth / total : kWidth;
  err << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '.')
      << "] " << done << "/" << total
      << absl::StrFormat("  accuracy %5.2f %%",
                         done ? 100.0 * correct / done : 0.0)
      << std::flush;
}

absl::Status EvalPlain(const EvalArgs& args, std::ostream& out,
                       std::ostream& err, bool err_is_terminal) {
  BF_ASSIGN_OR_RETURN(ir::Graph g, compiler::ImportOnnxFile(args.model));
  const ir::Shape input_shape = g.value(g.inputs()[0]).shape;
  BF_ASSIGN_OR_RETURN(
      const data::DatasetKind kind,
      ChooseDataset(args.dataset, args.model, ir::NumElements(input_shape)));
  const ir::Shape output_shape = g.value(g.outputs()[0]).shape;
  if (args.limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--limit is ", args.limit, ", expected >= 0"));
  }
  BF_ASSIGN_OR_RETURN(data::Examples test,
                      data::LoadExamples(kind, args.data_dir, data::Split::kTest));
  BF_RETURN_IF_ERROR(CheckOutputs(ir::NumElements(output_shape),
                                  static_cast<int>(test.class_names.size())));
  const int n = args.limit == 0 ? test.count : std::min(args.limit, test.count);
  std::vector<double> logits;
  logits.reserve(static_cast<size_t>(n) * ir::NumElements(output_shape));
  int correct = 0;
  double seconds = 0;
  for (int i = 0; i < n; ++i) {
    ir::Tensor x{input_shape, test.input(i)};
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<ir::Tensor> y = runtime::RunReference(g, x);
    seconds += std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - start)
                   .count();
    if (!y.ok()) return AnnotateStatus(y.status(), absl::StrCat(test.unit, " ", i));
    correct += PredictedLabel(y->data) == test.labels[i];
    logits.insert(logits.end(), y->data.begin(), y->data.end());
    if (err_is_terminal && (i % 50 == 0 || i + 1 == n)) {
      DrawProgress(err, i + 1, n, correct);
    }
  }
  if (err_is_terminal) err << "\n";
  if (!args.logits_out.empty()) {
    std::ofstream f(args.logits_out, std::ios::binary);
    f.write(reinterpret_cast<const char*>(logits.data()),
            static_cast<std::streamsize>(logits.size() * sizeof(double)));
    if (!f) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write ", args.logits_out));
    }
  }
  const double accuracy = n ? static_cast<double>(correct) / n : 0.0;
  const std::string from =
      args.data_dir.empty() ? data::DefaultDataPath(kind) : args.data_dir;
  if (args.json) {
    json j = {{"model", args.model},        {"dataset", data::DatasetName(kind)},
              {"images", n},                {"correct", correct},
              {"accuracy", accuracy},       {"seconds", seconds},
              {"ms_per_image", n ? 1e3 * seconds / n : 0.0}};
    out << j.dump() << "\n";
  } else {
    out << "model: " << args.model << "\n"
        << test.unit << "s: " << n << " (" << test.description << ", " << from
        << ")\n"
        << absl::StrFormat("accuracy: %.2f %% (%d/%d)\n", 100 * accuracy,
                           correct, n)
        << absl::StrFormat("time: %.3f s in the reference executor (%.3f "
                           "ms/%s)\n",
                           seconds, n ? 1e3 * seconds / n : 0.0, test.unit);
  }
  return absl::OkStatus();
}

int Report(const absl::Status& s, const char* command, std::ostream& err) {
  if (s.ok()) return 0;
  err << "blindfold " << command << ": " << s.message() << "\n";
  return 1;
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err, bool err_is_terminal) {
  try {
    CLI::App app{"Blindfold: private ML inference with CKKS"};
    app.name("blindfold");
    app.require_subcommand(1);

    InspectArgs inspect;
    CLI::App* inspect_cmd = app.add_subcommand(
        "inspect", "Import an ONNX model; print its graph, shapes, depth and "
                   "weight count");
    inspect_cmd->add_option("model", inspect.model, "model.onnx")
        ->required();
    inspect_cmd->add_flag("--json", inspect.json,
                          "print one JSON object instead of text");

    EvalArgs eval;
    CLI::App* eval_cmd = app.add_subcommand(
        "eval-plain", "Accuracy of the float64 reference executor on the "
                      "test set (Fashion-MNIST or breast cancer)");
    eval_cmd->add_option("model", eval.model, "model.onnx")->required();
    eval_cmd->add_option("--data", eval.data_dir,
                         "Fashion-MNIST IDX directory or breast-cancer CSV "
                         "(default: where Debian installs it)");
    eval_cmd->add_option("--dataset", eval.dataset,
                         "fashion-mnist or breast-cancer (default: the "
                         "model's manifest, else by input size)");
    eval_cmd->add_option("--limit", eval.limit,
                         "evaluate only the first K images (0: all)");
    eval_cmd->add_flag("--json", eval.json,
                       "print one JSON object (model, images, correct, "
                       "accuracy, seconds, ms_per_image)");
    eval_cmd->add_option("--logits-out", eval.logits_out,
                         "write the logits as raw little-endian float64, "
                         "inputs x outputs");

    auto he = AddHeCommands(app);
    auto service = AddServiceCommands(app);
    auto bench = AddBenchCommands(app);

    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e, out, err);
    }
    if (inspect_cmd->parsed()) {
      return Report(Inspect(inspect, out), "inspect", err);
    }
    if (eval_cmd->parsed()) {
      return Report(EvalPlain(eval, out, err, err_is_terminal), "eval-plain",
                    err);
    }
    absl::Status s = he(out, err, err_is_terminal);
    if (absl::IsNotFound(s) && s.message() == "no encrypted-inference subcommand") {
      s = service(out, err, err_is_terminal);
    }
    if (absl::IsNotFound(s) && s.message() == "no service subcommand") {
      s = bench(out, err, err_is_terminal);
    }
    if (!s.ok()) {
      err << "blindfold " << s.message() << "\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    err << "blindfold: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace blindfold::tools
