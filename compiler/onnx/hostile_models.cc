// File: compiler/onnx/hostile_models.cc
#include "absl/strings/str_cat.h"
#include "compiler/onnx/hostile_models.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "compiler/onnx/model_builder.h"

namespace blindfold::compiler {
namespace {

using onnx_build::ModelBuilder;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// x [1,1,4,4] -> Conv "conv" with a [1,1,kh,kw] weight of ones.
ModelBuilder Conv(int64_t kh, int64_t kw) {
  ModelBuilder b({1, 1, 4, 4});
  b.Init("W", {1, 1, kh, kw}, std::vector<float>(kh * kw, 1.0f));
  b.Node("Conv", {"x", "W"}, "y", "conv");
  b.Output("y");
  return b;
}

ModelBuilder ConvWith(int64_t kh, int64_t kw, const std::string& key,
                      std::vector<int64_t> v) {
  ModelBuilder b = Conv(kh, kw);
  ModelBuilder::Ints(b.graph()->mutable_node(0), key, std::move(v));
  return b;
}

// x [1,4] -> Reshape "reshape" to a FLOAT target holding `v`.
ModelBuilder FloatReshape(float v) {
  ModelBuilder b({1, 4});
  b.Init("target", {1}, {v});
  b.Node("Reshape", {"x", "target"}, "y", "reshape");
  b.Output("y");
  return b;
}

}  // namespace

std::vector<HostileModel> HostileOnnxModels() {
  std::vector<HostileModel> out;
  auto add = [&](std::string name, const ModelBuilder& b, std::string error) {
    out.push_back({std::move(name), b.Bytes(), std::move(error)});
  };
  // Conv window attributes: 4 + 2 * INT64_MAX wrapped to 2; (3-1) * 2^62
  // overflowed the window span.
  add("conv_pads_int64_max",
      ConvWith(1, 1, "pads", {kInt64Max, 0, kInt64Max, 0}),
      "node 'conv' (Conv): attribute pads");
  add("conv_dilation_overflow", ConvWith(3, 3, "dilations", {int64_t{1} << 62, 1}),
      "node 'conv' (Conv): attribute dilations");
  add("conv_stride_int64_max", ConvWith(1, 1, "strides", {kInt64Max, 1}),
      "node 'conv' (Conv): attribute strides");
  {
    ModelBuilder b = Conv(1, 1);
    ModelBuilder::Int(b.graph()->mutable_node(0), "pads", 1);  // INT, not INTS
    add("conv_pads_wrong_type", b, "node 'conv' (Conv): attribute pads has type");
  }
  add("conv_empty_kernel", Conv(0, 3),
      "node 'conv' (Conv): input 1 ('W') has shape [1,1,0,3]");
  {
    // 2^24 outputs of 2^12 multiply-adds.
    ModelBuilder b({1, 1, 4096, 4096});
    b.Init("W", {1, 1, 64, 64}, std::vector<float>(4096, 1.0f));
    b.Node("Conv", {"x", "W"}, "y", "conv");
    b.Output("y");
    add("conv_work_cap", b, "node 'conv' (Conv): running the graph");
  }
  {
    // 5 * 5581 * 8681 * 49477 * 384773 * 4 = 2^64 + 4, which wrapped to 4.
    ModelBuilder b({1, 4});
    b.InitInt64("target", {5, 5581, 8681, 49477, 384773, 4});
    b.Node("Reshape", {"x", "target"}, "r", "reshape");
    b.Node("Flatten", {"r"}, "y", "flatten");
    b.Output("y");
    add("reshape_product_wraps", b, "node 'reshape' (Reshape)");
  }
  add("reshape_float_nan", FloatReshape(std::numeric_limits<float>::quiet_NaN()),
      "node 'reshape' (Reshape): target shape value nan");
  add("reshape_float_fraction", FloatReshape(4.7f),
      "node 'reshape' (Reshape): target shape value 4.7");
  add("reshape_float_huge", FloatReshape(1e30f),
      "node 'reshape' (Reshape): target shape value 1e+30");
  {
    ModelBuilder b({1, 4});
    b.InitInt64("target", {1, 1, 1, 1, 1, 1, 1, 1, 4});
    b.Node("Reshape", {"x", "target"}, "y", "reshape");
    b.Output("y");
    add("reshape_rank_9", b, "node 'reshape' (Reshape): target shape has 9");
  }
  {
    ModelBuilder b(std::vector<int64_t>(9, 1));
    b.Node("Relu", {"x"}, "y", "relu");
    b.Output("y");
    add("input_rank_9", b, "input 'x': has 9 dimensions");
  }
  {
    // [1024,1,1] + [1,1024,1] + [1,1,1024]: 2^30 elements from 8 KB.
    ModelBuilder b({1024, 1, 1});
    b.Init("c1", {1, 1024, 1}, std::vector<float>(1024, 1.0f));
    b.Init("c2", {1, 1, 1024}, std::vector<float>(1024, 1.0f));
    b.Node("Add", {"x", "c1"}, "a1", "add1");
    b.Node("Add", {"a1", "c2"}, "y", "add2");
    b.Output("y");
    add("broadcast_blowup", b, "node 'add2' (Add): output shape [1024,1024,1024]");
  }
  {
    // Eight axes of 256: 2^64 elements, which wrapped to 0.
    ModelBuilder b({256, 1, 1, 1, 1, 1, 1, 1});
    std::string prev = "x";
    for (int axis = 1; axis < 8; ++axis) {
      std::vector<int64_t> shape(8, 1);
      shape[axis] = 256;
      const std::string c = absl::StrCat("c", axis);
      const std::string a = absl::StrCat("mul", axis);
      b.Init(c, shape, std::vector<float>(256, 1.0f));
      b.Node("Mul", {prev, c}, a, a);
      prev = a;
    }
    b.Output(prev);
    add("broadcast_wraps", b, "node 'mul3' (Mul): output shape");
  }
  {
    ModelBuilder b({16384, 16384});
    b.Node("Relu", {"x"}, "r", "relu1");
    b.Node("Relu", {"r"}, "y", "relu2");
    b.Output("y");
    add("graph_elements_cap", b, "node 'relu2' (Relu): the graph's values");
  }
  {
    ModelBuilder b({1, 1, 4, 4});
    auto* n = b.Node("AveragePool", {"x"}, "y", "pool");
    ModelBuilder::Ints(n, "kernel_shape", {2, 2});
    ModelBuilder::Ints(n, "pads", {0, 2, 0, 2});
    b.Output("y");
    add("avgpool_pads_ge_kernel", b,
        "node 'pool' (AveragePool): pads [0,2,0,2] must be smaller");
  }
  {
    ModelBuilder b({1, 4});
    b.Init("empty", {1, 1, 0, 2}, {});
    b.Node("GlobalAveragePool", {"empty"}, "y", "gap");
    b.Output("y");
    add("gap_empty_constant", b, "node 'gap' (GlobalAveragePool): input 0");
  }
  {
    // kMaxOnnxNodes + 1 unnamed Relu nodes with short value names.
    ModelBuilder b({1, 4});
    std::string prev = "x";
    for (int i = 0; i <= 10000; ++i) {
      const std::string v = std::to_string(i);
      b.Node("Relu", {prev}, v)->clear_name();
      prev = v;
    }
    b.Output(prev);
    add("node_chain_10001", b, "graph has 10001 nodes, limit 10000");
  }
  return out;
}

}  // namespace blindfold::compiler
