// File: compiler/ir/dump.cc
#include "compiler/ir/dump.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace blindfold::compiler::ir {
namespace {

std::string ConstantSummary(const Tensor& t) {
  if (t.data.size() == 1) return absl::StrFormat("= %.9g", t.data[0]);
  if (t.data.empty()) return "(empty)";
  auto [lo, hi] = std::minmax_element(t.data.begin(), t.data.end());
  return absl::StrFormat("(%d values in [%.4g, %.4g])", t.data.size(), *lo,
                         *hi);
}

}  // namespace

std::string DumpGraph(const Graph& graph) {
  std::string out = absl::StrCat("graph ", graph.name, "\n");
  for (ValueId id : graph.inputs()) {
    const Value& v = graph.value(id);
    absl::StrAppend(&out, "input %", v.name, " ", ShapeString(v.shape), "\n");
  }
  for (const Value& v : graph.values()) {
    if (!v.constant) continue;
    absl::StrAppend(&out, "const %", v.name, " ", ShapeString(v.shape), " ",
                    ConstantSummary(*v.constant), "\n");
  }
  for (const Node& n : graph.nodes()) {
    const Value& o = graph.value(n.output);
    std::vector<std::string> args;
    for (ValueId in : n.inputs) args.push_back("%" + graph.value(in).name);
    absl::StrAppend(&out, "%", o.name, " ", ShapeString(o.shape), " = ",
                    OpKindName(n.op), "(", absl::StrJoin(args, ", "), ")");
    if (!n.attributes.empty()) {
      std::vector<std::string> attrs;
      for (const auto& [key, value] : n.attributes) {
        attrs.push_back(absl::StrCat(key, "=", AttributeString(value)));
      }
      absl::StrAppend(&out, " {", absl::StrJoin(attrs, ", "), "}");
    }
    if (!n.name.empty()) absl::StrAppend(&out, " name=", n.name);
    absl::StrAppend(&out, "\n");
  }
  for (ValueId id : graph.outputs()) {
    const Value& v = graph.value(id);
    absl::StrAppend(&out, "output %", v.name, " ", ShapeString(v.shape), "\n");
  }
  return out;
}

}  // namespace blindfold::compiler::ir
