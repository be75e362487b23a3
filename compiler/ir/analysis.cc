// File: compiler/ir/analysis.cc
#include "compiler/ir/analysis.h"

#include <algorithm>
#include <vector>

namespace blindfold::compiler::ir {
namespace {

// Per value: levels consumed so far, ciphertext products so far, and whether
// the value ends in a plaintext-weight op another one can fuse into.
struct Level {
  int total = 0;
  int products = 0;
  bool fusable = false;
};

bool HasPlaintextWeights(OpKind op) {
  switch (op) {
    case OpKind::kGemm:
    case OpKind::kMatMul:
    case OpKind::kConv:
    case OpKind::kBatchNormalization:
    case OpKind::kAveragePool:
    case OpKind::kGlobalAveragePool:
      return true;
    default:
      return false;
  }
}

}  // namespace

DepthReport AnalyzeDepth(const Graph& graph) {
  DepthReport report;
  std::vector<Level> level(graph.values().size());
  int best_total = 0, best_products = 0;
  for (const Node& n : graph.nodes()) {
    // Computed (non-constant) inputs: the only ones that carry a level.
    std::vector<const Level*> in;
    for (ValueId id : n.inputs) {
      if (!graph.IsConstant(id)) in.push_back(&level[id]);
    }
    Level out;
    if (in.empty()) {  // constant folding material: no level
      level[n.output] = out;
      continue;
    }
    for (const Level* l : in) {
      out.total = std::max(out.total, l->total);
      out.products = std::max(out.products, l->products);
    }
    const bool all_fusable = std::all_of(
        in.begin(), in.end(), [](const Level* l) { return l->fusable; });
    if (n.op == OpKind::kRelu || n.op == OpKind::kSigmoid) {
      if (report.non_polynomial_op.empty()) {
        report.non_polynomial_op = std::string(OpKindName(n.op));
      }
    } else if (n.op == OpKind::kSquare ||
               (n.op == OpKind::kMul && in.size() == 2)) {
      out.total += 1;
      out.products += 1;
      out.fusable = false;
    } else if (HasPlaintextWeights(n.op) || n.op == OpKind::kMul) {
      if (!all_fusable) out.total += 1;
      out.fusable = true;
    } else {  // Add, Sub, Flatten, Reshape, Identity
      out.fusable = all_fusable;
    }
    level[n.output] = out;
    best_total = std::max(best_total, out.total);
    best_products = std::max(best_products, out.products);
  }
  if (report.non_polynomial_op.empty()) {
    report.activation_depth = best_products;
    report.multiplicative_depth = best_total;
  }
  return report;
}

int64_t CountWeights(const Graph& graph) {
  int64_t n = 0;
  for (const Value& v : graph.values()) {
    if (v.constant) n += static_cast<int64_t>(v.constant->data.size());
  }
  return n;
}

}  // namespace blindfold::compiler::ir
