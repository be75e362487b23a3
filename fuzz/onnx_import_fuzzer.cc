// libFuzzer target: the ONNX front end (compiler/onnx/importer.h) on
// arbitrary bytes, then the IR dump, the depth analysis and, for graphs small
// enough to run quickly, the float64 reference executor on a zero input.
// Whatever the bytes, the importer must return a graph or an error; an
// accepted graph must verify, pass CheckShapes (every cap and checked shape
// rule), dump, analyse and run without a sanitizer report (it is well formed
// by contract).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "compiler/ir/analysis.h"
#include "compiler/ir/dump.h"
#include "compiler/onnx/importer.h"
#include "runtime/reference_executor.h"

namespace {

// Work bound for running a graph: every value's elements, plus the weight
// elements each node reads, summed. Fuzzed models may legally describe huge
// convolutions; those are imported and analysed but not run.
constexpr int64_t kMaxRunElements = int64_t{1} << 22;

bool SmallEnoughToRun(const blindfold::compiler::ir::Graph& g) {
  using blindfold::compiler::ir::NumElements;
  int64_t total = 0;
  for (const auto& v : g.values()) {
    total += NumElements(v.shape);
    if (total > kMaxRunElements) return false;
  }
  for (const auto& node : g.nodes()) {
    int64_t reads = 0;
    for (auto in : node.inputs) reads += NumElements(g.value(in).shape);
    // A node's work is at most (its output) x (what it reads) for the ops
    // supported; bound that product too.
    const int64_t out = NumElements(g.value(node.output).shape);
    if (reads > 0 && out > kMaxRunElements / reads) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace blindfold;
  auto graph = compiler::ImportOnnx(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!graph.ok()) return 0;
  if (!compiler::ir::Verify(*graph).ok()) std::abort();  // contract
  // ... and within every cap of compiler/ir/graph.h, with the shapes stored.
  if (!compiler::ir::CheckShapes(*graph).ok()) std::abort();
  (void)compiler::ir::DumpGraph(*graph);
  (void)compiler::ir::AnalyzeDepth(*graph);
  if (!SmallEnoughToRun(*graph)) return 0;
  const auto& in = graph->value(graph->inputs()[0]);
  compiler::ir::Tensor x{in.shape, std::vector<double>(
                                       compiler::ir::NumElements(in.shape), 0.0)};
  auto y = runtime::RunReference(*graph, x);
  if (!y.ok()) std::abort();  // an imported graph runs by contract
  return 0;
}
