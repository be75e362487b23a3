// File: runtime/reference_executor.cc
#include "runtime/reference_executor.h"

#include <cmath>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/status.h"

namespace blindfold::runtime {
namespace {

using compiler::ir::Graph;
using compiler::ir::Node;
using compiler::ir::NumElements;
using compiler::ir::OpKind;
using compiler::ir::Shape;
using compiler::ir::ShapeString;
using compiler::ir::Tensor;
using compiler::ir::BroadcastStrides;

// out[i] = f(a[ia], b[ib]) over the broadcast index space of `out`.
template <typename F>
void BroadcastBinary(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const Shape& s = out.shape;
  const auto sa = BroadcastStrides(a.shape, s);
  const auto sb = BroadcastStrides(b.shape, s);
  std::vector<int64_t> idx(s.size(), 0);
  int64_t ia = 0, ib = 0;
  for (double& y : out.data) {
    y = f(a.data[ia], b.data[ib]);
    for (int k = static_cast<int>(s.size()) - 1; k >= 0; --k) {
      ia += sa[k];
      ib += sb[k];
      if (++idx[k] < s[k]) break;
      ia -= sa[k] * s[k];
      ib -= sb[k] * s[k];
      idx[k] = 0;
    }
  }
}

void Gemm(const Node& n, const Tensor& a, const Tensor& b, const Tensor* c,
          Tensor& y) {
  const bool ta = n.IntAttr("transA", 0) != 0;
  const bool tb = n.IntAttr("transB", 0) != 0;
  const double alpha = n.FloatAttr("alpha", 1.0);
  const double beta = n.FloatAttr("beta", 1.0);
  const int64_t m = y.shape[0], cols = y.shape[1];
  const int64_t k = a.shape[ta ? 0 : 1];
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      double sum = 0;
      for (int64_t t = 0; t < k; ++t) {
        const double av = ta ? a.data[t * m + i] : a.data[i * k + t];
        const double bv = tb ? b.data[j * k + t] : b.data[t * cols + j];
        sum += av * bv;
      }
      y.data[i * cols + j] = alpha * sum;
    }
  }
  if (c != nullptr) {
    Tensor scaled = y;
    BroadcastBinary(scaled, *c, y,
                    [beta](double v, double cv) { return v + beta * cv; });
  }
}

void Conv(const Node& n, const Tensor& x, const Tensor& w, const Tensor* b,
          Tensor& y) {
  const auto s = n.IntsAttr("strides", {1, 1});
  const auto p = n.IntsAttr("pads", {0, 0, 0, 0});
  const auto d = n.IntsAttr("dilations", {1, 1});
  const int64_t batch = x.shape[0], c_in = x.shape[1], h = x.shape[2],
                wd = x.shape[3];
  const int64_t c_out = w.shape[0], kh = w.shape[2], kw = w.shape[3];
  const int64_t oh = y.shape[2], ow = y.shape[3];
  double* out = y.data.data();
  for (int64_t nb = 0; nb < batch; ++nb) {
    for (int64_t m = 0; m < c_out; ++m) {
      for (int64_t i = 0; i < oh; ++i) {
        for (int64_t j = 0; j < ow; ++j) {
          double sum = b ? b->data[m] : 0.0;
          for (int64_t c = 0; c < c_in; ++c) {
            const double* xc = &x.data[(nb * c_in + c) * h * wd];
            const double* wc = &w.data[(m * c_in + c) * kh * kw];
            for (int64_t u = 0; u < kh; ++u) {
              const int64_t r = i * s[0] - p[0] + u * d[0];
              if (r < 0 || r >= h) continue;
              for (int64_t v = 0; v < kw; ++v) {
                const int64_t q = j * s[1] - p[1] + v * d[1];
                if (q < 0 || q >= wd) continue;
                sum += xc[r * wd + q] * wc[u * kw + v];
              }
            }
          }
          *out++ = sum;
        }
      }
    }
  }
}

void AveragePool(const Node& n, const Tensor& x, Tensor& y) {
  const auto k = n.IntsAttr("kernel_shape", {1, 1});
  const auto s = n.IntsAttr("strides", {1, 1});
  const auto p = n.IntsAttr("pads", {0, 0, 0, 0});
  const bool include_pad = n.IntAttr("count_include_pad", 0) != 0;
  const int64_t planes = x.shape[0] * x.shape[1], h = x.shape[2],
                wd = x.shape[3];
  const int64_t oh = y.shape[2], ow = y.shape[3];
  double* out = y.data.data();
  for (int64_t pl = 0; pl < planes; ++pl) {
    const double* xp = &x.data[pl * h * wd];
    for (int64_t i = 0; i < oh; ++i) {
      for (int64_t j = 0; j < ow; ++j) {
        double sum = 0;
        int64_t count = 0;
        for (int64_t u = 0; u < k[0]; ++u) {
          const int64_t r = i * s[0] - p[0] + u;
          for (int64_t v = 0; v < k[1]; ++v) {
            const int64_t q = j * s[1] - p[1] + v;
            if (r < 0 || r >= h || q < 0 || q >= wd) continue;
            sum += xp[r * wd + q];
            ++count;
          }
        }
        // count_include_pad counts the padded cells inside the padded
        // input (the window never leaves it in floor mode).
        *out++ = sum / static_cast<double>(include_pad ? k[0] * k[1] : count);
      }
    }
  }
}

void BatchNorm(const Node& n, const Tensor& x, const Tensor& scale,
               const Tensor& bias, const Tensor& mean, const Tensor& var,
               Tensor& y) {
  const double eps = n.FloatAttr("epsilon", 1e-5);
  const int64_t channels = x.shape[1];
  const int64_t inner = NumElements(x.shape) / (x.shape[0] * channels);
  for (int64_t nb = 0; nb < x.shape[0]; ++nb) {
    for (int64_t c = 0; c < channels; ++c) {
      const double g = scale.data[c] / std::sqrt(var.data[c] + eps);
      const int64_t base = (nb * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        y.data[base + i] = g * (x.data[base + i] - mean.data[c]) + bias.data[c];
      }
    }
  }
}

}  // namespace

absl::StatusOr<Tensor> RunReference(const Graph& graph, const Tensor& input) {
  if (graph.inputs().size() != 1 || graph.outputs().size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RunReference: graph has ", graph.inputs().size(), " inputs and ",
        graph.outputs().size(), " outputs, expected 1 and 1"));
  }
  // Every index below relies on the shapes InferShapes computes and the
  // bounds it enforces; a graph changed or built by hand since is rejected.
  BF_RETURN_IF_ERROR(AnnotateStatus(compiler::ir::CheckShapes(graph),
                                    "RunReference"));
  const Shape& want = graph.value(graph.inputs()[0]).shape;
  if (input.shape != want ||
      static_cast<int64_t>(input.data.size()) != NumElements(want)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RunReference: input has shape ", ShapeString(input.shape), " and ",
        input.data.size(), " values, expected shape ", ShapeString(want),
        " and ", NumElements(want), " values"));
  }
  std::vector<std::optional<Tensor>> computed(graph.values().size());
  computed[graph.inputs()[0]] = input;
  auto get = [&](compiler::ir::ValueId id) -> const Tensor& {
    const auto& c = graph.value(id).constant;
    return c ? *c : *computed[id];
  };
  for (const Node& n : graph.nodes()) {
    Tensor y;
    y.shape = graph.value(n.output).shape;
    y.data.assign(NumElements(y.shape), 0.0);
    const Tensor& x = get(n.inputs[0]);
    auto in = [&](size_t i) -> const Tensor* {
      return i < n.inputs.size() ? &get(n.inputs[i]) : nullptr;
    };
    switch (n.op) {
      case OpKind::kGemm:
        Gemm(n, x, *in(1), in(2), y);
        break;
      case OpKind::kMatMul: {
        Node plain = n;
        plain.attributes.clear();
        Gemm(plain, x, *in(1), nullptr, y);
        break;
      }
      case OpKind::kAdd:
        BroadcastBinary(x, *in(1), y, [](double a, double b) { return a + b; });
        break;
      case OpKind::kSub:
        BroadcastBinary(x, *in(1), y, [](double a, double b) { return a - b; });
        break;
      case OpKind::kMul:
        BroadcastBinary(x, *in(1), y, [](double a, double b) { return a * b; });
        break;
      case OpKind::kSquare:
        for (size_t i = 0; i < y.data.size(); ++i) y.data[i] = x.data[i] * x.data[i];
        break;
      case OpKind::kConv:
        Conv(n, x, *in(1), in(2), y);
        break;
      case OpKind::kAveragePool:
        AveragePool(n, x, y);
        break;
      case OpKind::kGlobalAveragePool: {
        const int64_t area = x.shape[2] * x.shape[3];
        for (size_t pl = 0; pl < y.data.size(); ++pl) {
          double sum = 0;
          for (int64_t i = 0; i < area; ++i) sum += x.data[pl * area + i];
          y.data[pl] = sum / static_cast<double>(area);
        }
        break;
      }
      case OpKind::kBatchNormalization:
        BatchNorm(n, x, *in(1), *in(2), *in(3), *in(4), y);
        break;
      case OpKind::kFlatten:
      case OpKind::kReshape:
      case OpKind::kIdentity:
        y.data = x.data;
        break;
      case OpKind::kRelu:
        for (size_t i = 0; i < y.data.size(); ++i) {
          y.data[i] = x.data[i] > 0 ? x.data[i] : 0.0;
        }
        break;
      case OpKind::kSigmoid:
        for (size_t i = 0; i < y.data.size(); ++i) {
          y.data[i] = 1.0 / (1.0 + std::exp(-x.data[i]));
        }
        break;
    }
    computed[n.output] = std::move(y);
  }
  const compiler::ir::ValueId out = graph.outputs()[0];
  if (graph.value(out).constant) return *graph.value(out).constant;
  BF_CHECK(computed[out].has_value());
  return *std::move(computed[out]);
}

}  // namespace blindfold::runtime
