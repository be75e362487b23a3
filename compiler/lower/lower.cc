// File: compiler/lower/lower.cc
#include "compiler/lower/lower.h"

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "compiler/lower/approx.h"

namespace blindfold::compiler {
namespace {

using ir::Graph;
using ir::NumElements;
using ir::OpKind;
using ir::Shape;
using ir::ShapeString;
using ir::Tensor;
using ir::ValueId;
using ir::BroadcastStrides;

// out = m * in + offset on flat row-major vectors.
struct LinearOp {
  SparseMatrix m;
  std::vector<double> offset;
};

// For every flat index of `out`, the flat index of `in` it reads.
std::vector<int64_t> BroadcastIndex(const Shape& in, const Shape& out) {
  const auto st = BroadcastStrides(in, out);
  std::vector<int64_t> index(NumElements(out));
  std::vector<int64_t> idx(out.size(), 0);
  int64_t pos = 0;
  for (auto& v : index) {
    v = pos;
    for (int k = static_cast<int>(out.size()) - 1; k >= 0; --k) {
      pos += st[k];
      if (++idx[k] < out[k]) break;
      pos -= st[k] * out[k];
      idx[k] = 0;
    }
  }
  return index;
}

std::vector<double> ExpandConstant(const Tensor& c, const Shape& out) {
  const auto index = BroadcastIndex(c.shape, out);
  std::vector<double> v(index.size());
  for (size_t i = 0; i < index.size(); ++i) v[i] = c.data[index[i]];
  return v;
}

void SortRows(SparseMatrix& m) {
  for (auto& r : m.row) {
    std::sort(r.begin(), r.end());
    r.erase(std::remove_if(r.begin(), r.end(),
                           [](const SparseMatrix::Entry& e) { return e.second == 0.0; }),
            r.end());
  }
}

LinearOp BroadcastOp(const Shape& in, const Shape& out) {
  LinearOp op{SparseMatrix::Zero(NumElements(out), NumElements(in)),
              std::vector<double>(NumElements(out), 0.0)};
  const auto index = BroadcastIndex(in, out);
  for (size_t o = 0; o < index.size(); ++o) {
    op.m.row[o] = {{static_cast<int32_t>(index[o]), 1.0}};
  }
  return op;
}

LinearOp GemmOp(const ir::Node& n, const Shape& a, const Tensor& b,
                const Tensor* c, bool is_matmul) {
  const bool ta = !is_matmul && n.IntAttr("transA", 0) != 0;
  const bool tb = !is_matmul && n.IntAttr("transB", 0) != 0;
  const double alpha = is_matmul ? 1.0 : n.FloatAttr("alpha", 1.0);
  const double beta = is_matmul ? 1.0 : n.FloatAttr("beta", 1.0);
  const int64_t m = a[ta ? 1 : 0], k = a[ta ? 0 : 1];
  const int64_t cols = b.shape[tb ? 0 : 1];
  LinearOp op{SparseMatrix::Zero(m * cols, m * k),
              std::vector<double>(m * cols, 0.0)};
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      auto& row = op.m.row[i * cols + j];
      for (int64_t t = 0; t < k; ++t) {
        const double bv = tb ? b.data[j * k + t] : b.data[t * cols + j];
        if (bv == 0.0) continue;
        const int64_t col = ta ? t * m + i : i * k + t;
        row.emplace_back(static_cast<int32_t>(col), alpha * bv);
      }
    }
  }
  if (c != nullptr) {
    const auto cv = ExpandConstant(*c, Shape{m, cols});
    for (size_t i = 0; i < cv.size(); ++i) op.offset[i] = beta * cv[i];
  }
  SortRows(op.m);
  return op;
}

LinearOp ConvOp(const ir::Node& n, const Shape& x, const Shape& y,
                const Tensor& w, const Tensor* b) {
  const auto s = n.IntsAttr("strides", {1, 1});
  const auto p = n.IntsAttr("pads", {0, 0, 0, 0});
  const auto d = n.IntsAttr("dilations", {1, 1});
  const int64_t batch = x[0], c_in = x[1], h = x[2], wd = x[3];
  const int64_t c_out = w.shape[0], kh = w.shape[2], kw = w.shape[3];
  const int64_t oh = y[2], ow = y[3];
  LinearOp op{SparseMatrix::Zero(NumElements(y), NumElements(x)),
              std::vector<double>(NumElements(y), 0.0)};
  int64_t o = 0;
  for (int64_t nb = 0; nb < batch; ++nb) {
    for (int64_t m = 0; m < c_out; ++m) {
      for (int64_t i = 0; i < oh; ++i) {
        for (int64_t j = 0; j < ow; ++j, ++o) {
          auto& row = op.m.row[o];
          op.offset[o] = b ? b->data[m] : 0.0;
          for (int64_t c = 0; c < c_in; ++c) {
            for (int64_t u = 0; u < kh; ++u) {
              const int64_t r = i * s[0] - p[0] + u * d[0];
              if (r < 0 || r >= h) continue;
              for (int64_t v = 0; v < kw; ++v) {
                const int64_t q = j * s[1] - p[1] + v * d[1];
                if (q < 0 || q >= wd) continue;
                const double wv = w.data[((m * c_in + c) * kh + u) * kw + v];
                const int64_t col = ((nb * c_in + c) * h + r) * wd + q;
                row.emplace_back(static_cast<int32_t>(col), wv);
              }
            }
          }
        }
      }
    }
  }
  SortRows(op.m);
  return op;
}

LinearOp AveragePoolOp(const ir::Node& n, const Shape& x, const Shape& y) {
  const auto k = n.IntsAttr("kernel_shape", {1, 1});
  const auto s = n.IntsAttr("strides", {1, 1});
  const auto p = n.IntsAttr("pads", {0, 0, 0, 0});
  const bool include_pad = n.IntAttr("count_include_pad", 0) != 0;
  const int64_t planes = x[0] * x[1], h = x[2], wd = x[3];
  const int64_t oh = y[2], ow = y[3];
  LinearOp op{SparseMatrix::Zero(NumElements(y), NumElements(x)),
              std::vector<double>(NumElements(y), 0.0)};
  int64_t o = 0;
  for (int64_t pl = 0; pl < planes; ++pl) {
    for (int64_t i = 0; i < oh; ++i) {
      for (int64_t j = 0; j < ow; ++j, ++o) {
        auto& row = op.m.row[o];
        for (int64_t u = 0; u < k[0]; ++u) {
          const int64_t r = i * s[0] - p[0] + u;
          for (int64_t v = 0; v < k[1]; ++v) {
            const int64_t q = j * s[1] - p[1] + v;
            if (r < 0 || r >= h || q < 0 || q >= wd) continue;
            row.emplace_back(static_cast<int32_t>((pl * h + r) * wd + q), 1.0);
          }
        }
        const double count =
            include_pad ? static_cast<double>(k[0] * k[1]) : static_cast<double>(row.size());
        for (auto& e : row) e.second = 1.0 / count;
      }
    }
  }
  SortRows(op.m);
  return op;
}

LinearOp GlobalAveragePoolOp(const Shape& x) {
  const int64_t planes = x[0] * x[1], area = x[2] * x[3];
  LinearOp op{SparseMatrix::Zero(planes, NumElements(x)),
              std::vector<double>(planes, 0.0)};
  for (int64_t pl = 0; pl < planes; ++pl) {
    for (int64_t i = 0; i < area; ++i) {
      op.m.row[pl].emplace_back(static_cast<int32_t>(pl * area + i),
                                1.0 / static_cast<double>(area));
    }
  }
  return op;
}

LinearOp BatchNormOp(const ir::Node& n, const Shape& x, const Tensor& scale,
                     const Tensor& bias, const Tensor& mean, const Tensor& var) {
  const double eps = n.FloatAttr("epsilon", 1e-5);
  const int64_t channels = x[1];
  const int64_t inner = NumElements(x) / (x[0] * channels);
  std::vector<double> g(NumElements(x)), off(NumElements(x));
  for (int64_t nb = 0; nb < x[0]; ++nb) {
    for (int64_t c = 0; c < channels; ++c) {
      const double gc = scale.data[c] / std::sqrt(var.data[c] + eps);
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t at = (nb * channels + c) * inner + i;
        g[at] = gc;
        off[at] = bias.data[c] - gc * mean.data[c];
      }
    }
  }
  return LinearOp{SparseMatrix::Diagonal(g), std::move(off)};
}

LinearForm Apply(const LinearOp& op, const LinearForm& f) {
  LinearForm out;
  out.dim = op.m.rows;
  for (const auto& [t, m] : f.parts) {
    SparseMatrix c = Compose(op.m, m);
    if (c.nnz() > 0) out.parts.emplace(t, std::move(c));
  }
  out.bias = op.offset;
  std::vector<double> mb(out.dim);
  op.m.Apply(f.bias, mb);
  for (int64_t i = 0; i < out.dim; ++i) out.bias[i] += mb[i];
  return out;
}

LinearForm Sum(const LinearForm& a, const LinearForm& b, double sign) {
  LinearForm out = a;
  for (const auto& [t, m] : b.parts) {
    SparseMatrix mb = sign == 1.0 ? m
                                  : ScaleRows(m, std::vector<double>(m.rows, sign));
    auto it = out.parts.find(t);
    if (it == out.parts.end()) {
      out.parts.emplace(t, std::move(mb));
    } else {
      it->second = AddMatrices(it->second, mb);
    }
  }
  for (int64_t i = 0; i < out.dim; ++i) out.bias[i] += sign * b.bias[i];
  return out;
}

LinearForm ScaleForm(const LinearForm& f, std::span<const double> s) {
  LinearForm out;
  out.dim = f.dim;
  for (const auto& [t, m] : f.parts) {
    SparseMatrix c = ScaleRows(m, s);
    if (c.nnz() > 0) out.parts.emplace(t, std::move(c));
  }
  out.bias.resize(f.dim);
  for (int64_t i = 0; i < f.dim; ++i) out.bias[i] = f.bias[i] * s[i];
  return out;
}

bool Close(double a, double b) {
  return std::abs(a - b) <= 1e-12 * (std::abs(a) + std::abs(b)) + 1e-300;
}

// If u's linear part is diag(r) times v's, row by row (and, with
// `with_bias`, u.bias = r ⊙ v.bias too), returns r.
std::optional<std::vector<double>> RowRatio(const LinearForm& u,
                                            const LinearForm& v, bool with_bias) {
  if (u.dim != v.dim) return std::nullopt;
  for (const auto& [t, m] : u.parts) {
    if (!v.parts.count(t)) return std::nullopt;
  }
  for (const auto& [t, m] : v.parts) {
    if (!u.parts.count(t)) return std::nullopt;
  }
  std::vector<double> r(u.dim, 0.0);
  for (int64_t i = 0; i < u.dim; ++i) {
    std::optional<double> ratio;
    bool v_empty = true, u_empty = true;
    for (const auto& [t, mv] : v.parts) {
      const auto& ru = u.parts.at(t).row[i];
      const auto& rv = mv.row[i];
      if (ru.size() != rv.size()) return std::nullopt;
      for (size_t k = 0; k < rv.size(); ++k) {
        if (ru[k].first != rv[k].first) return std::nullopt;
        v_empty = false;
        u_empty = false;
        if (!ratio) ratio = ru[k].second / rv[k].second;
        if (!Close(ru[k].second, *ratio * rv[k].second)) return std::nullopt;
      }
    }
    (void)u_empty;
    if (v_empty) {
      // A constant row: only the biases say what the ratio is.
      if (!with_bias) {
        ratio = 0.0;
      } else if (v.bias[i] == 0.0) {
        if (u.bias[i] != 0.0) return std::nullopt;
        ratio = 0.0;
      } else {
        ratio = u.bias[i] / v.bias[i];
      }
    }
    if (with_bias && !Close(u.bias[i], *ratio * v.bias[i])) return std::nullopt;
    r[i] = *ratio;
  }
  return r;
}

// A symbolic value: a constant, a linear form of earlier terms, or the
// quadratic alpha ⊙ v² + beta ⊙ v + gamma of a linear form v.
struct Sym {
  enum class Kind { kConst, kLinear, kQuad };
  Kind kind = Kind::kConst;
  Shape shape;
  const Tensor* constant = nullptr;
  LinearForm lin;  // kLinear: the value; kQuad: v
  std::vector<double> alpha, beta, gamma;
};

class Lowerer {
 public:
  Lowerer(const Graph& g, const LowerOptions& o) : g_(g), opt_(o) {}

  absl::StatusOr<Program> Run() {
    if (g_.inputs().size() != 1 || g_.outputs().size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Lower: graph has ", g_.inputs().size(), " inputs and ",
          g_.outputs().size(), " outputs, expected 1 and 1"));
    }
    prog_.name = g_.name;
    prog_.free_identity_sums = !opt_.fuse;
    syms_.resize(g_.values().size());
    for (size_t id = 0; id < g_.values().size(); ++id) {
      const auto& v = g_.value(static_cast<ValueId>(id));
      if (v.constant) {
        syms_[id].kind = Sym::Kind::kConst;
        syms_[id].shape = v.shape;
        syms_[id].constant = &*v.constant;
      }
    }
    const ValueId in = g_.inputs()[0];
    const Shape& shape = g_.value(in).shape;
    if (shape.size() >= 2 && shape[0] != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Lower: input '", g_.value(in).name, "' has shape ", ShapeString(shape),
          ", expected batch dimension 1 (the compiler packs batches itself)"));
    }
    const int64_t dim = NumElements(shape);
    Term t0;
    t0.kind = Term::Kind::kInput;
    t0.dim = dim;
    t0.source = g_.value(in).name;
    prog_.terms.push_back(std::move(t0));
    prog_.input_shape = shape;
    if (opt_.calibration != nullptr) {
      for (const auto& c : *opt_.calibration) {
        if (static_cast<int64_t>(c.size()) != dim) {
          return absl::InvalidArgumentError(absl::StrCat(
              "Lower: a calibration input has ", c.size(), " values, expected ", dim));
        }
        cal_terms_.push_back({c});
      }
    }
    Sym& x = syms_[in];
    x.kind = Sym::Kind::kLinear;
    x.shape = shape;
    x.lin.dim = dim;
    x.lin.parts.emplace(0, SparseMatrix::Identity(dim));
    x.lin.bias.assign(dim, 0.0);

    for (const ir::Node& n : g_.nodes()) {
      BF_RETURN_IF_ERROR(Lower(n));
    }
    const ValueId out = g_.outputs()[0];
    if (syms_[out].kind == Sym::Kind::kConst) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Lower: output '", g_.value(out).name, "' does not depend on the input"));
    }
    BF_ASSIGN_OR_RETURN(prog_.output, AsLinear(out, "output"));
    prog_.output_shape = g_.value(out).shape;
    return std::move(prog_);
  }

 private:
  absl::Status Error(const ir::Node& n, absl::string_view msg) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "Lower: node '", n.name, "' (", ir::OpKindName(n.op), "): ", msg));
  }

  absl::Status CheckSize(const ir::Node& n, const LinearForm& f) const {
    if (f.nnz() > opt_.max_nonzeros) {
      return Error(n, absl::StrCat("fused linear map has ", f.nnz(),
                                   " non-zeros, above the bound ",
                                   opt_.max_nonzeros));
    }
    return absl::OkStatus();
  }

  int AddTerm(Term t) {
    prog_.terms.push_back(std::move(t));
    const Term& term = prog_.terms.back();
    // Keep every calibration input's value of every term (activation fits
    // need the values their argument takes).
    std::vector<double> a, b;
    for (auto& values : cal_terms_) {
      EvalForm(term.a, values, a);
      if (term.kind == Term::Kind::kLinear) {
        values.push_back(a);
        continue;
      }
      if (term.kind == Term::Kind::kProduct) {
        EvalForm(term.b, values, b);
      } else {
        b = a;
      }
      for (size_t i = 0; i < a.size(); ++i) a[i] *= b[i];
      values.push_back(a);
    }
    return static_cast<int>(prog_.terms.size()) - 1;
  }

  // Relu / Sigmoid of x: a fitted polynomial, factored (approx.h).
  absl::Status Activation(const ir::Node& n, ValueId x, Sym& out) {
    if (opt_.calibration == nullptr || opt_.calibration->empty()) {
      return Error(n, "not a polynomial; it needs calibration inputs to fit a "
                      "polynomial approximation");
    }
    BF_ASSIGN_OR_RETURN(LinearForm v, Operand(x, n.name, /*single=*/true));
    const int64_t vdim = v.dim;
    // Relu is positively homogeneous, relu(v) = R_i relu(v / R_i): each
    // element is normalised by its own range R_i (folded into v's form and
    // into the next map), so one polynomial serves elements of very
    // different magnitudes. Sigmoid is not: it gets one range for all.
    std::vector<double> range(vdim, 0.0), y;
    for (const auto& values : cal_terms_) {
      EvalForm(v, values, y);
      for (int64_t i = 0; i < vdim; ++i) range[i] = std::max(range[i], std::abs(y[i]));
    }
    const bool homogeneous = n.op == OpKind::kRelu;
    double global = 0;
    for (double r : range) global = std::max(global, r);
    for (double& r : range) {
      r = homogeneous ? std::max(r, 1e-3 * std::max(global, 1e-9)) : global;
      r = std::max(r, 1e-9);
    }
    std::vector<double> inv(vdim);
    for (int64_t i = 0; i < vdim; ++i) inv[i] = 1.0 / range[i];
    const LinearForm normalised = ScaleForm(v, inv);
    std::vector<double> samples;
    const int64_t per_input = std::max<int64_t>(
        1, opt_.max_fit_samples / static_cast<int64_t>(cal_terms_.size()));
    for (const auto& values : cal_terms_) {
      EvalForm(normalised, values, y);
      const int64_t step = std::max<int64_t>(1, static_cast<int64_t>(y.size()) / per_input);
      for (size_t i = 0; i < y.size(); i += step) {
        // Fit the function of u: f(u) = relu(u) (homogeneous) or
        // sigmoid(R u) (one R for all).
        samples.push_back(homogeneous ? y[i] : y[i] * global);
      }
    }
    auto fit = FitActivation(n.op, samples, opt_.activation_degree);
    if (!fit.ok()) return Error(n, fit.status().message());
    // FitActivation normalises by its own range (1.05 max|sample|): compose.
    for (int64_t i = 0; i < vdim; ++i) {
      inv[i] = homogeneous ? inv[i] / fit->range : 1.0 / fit->range;
    }
    const std::vector<double> out_scale = [&] {
      std::vector<double> o(vdim);
      for (int64_t i = 0; i < vdim; ++i) {
        o[i] = homogeneous ? fit->lead * range[i] : fit->lead;
      }
      return o;
    }();
    const int64_t dim = v.dim;
    const std::vector<double> ones(dim, 1.0);
    if (!opt_.fuse) return UnfusedActivation(n, v, inv, out_scale, *fit, out);
    // u = v / R, materialised once.
    Term lin;
    lin.kind = Term::Kind::kLinear;
    lin.dim = dim;
    lin.a = ScaleForm(v, inv);
    lin.depth = prog_.FormDepth(lin.a);
    lin.source = n.name;
    const int u = AddTerm(std::move(lin));
    std::vector<LinearForm> factors;
    for (const auto& [b, c] : fit->quadratics) {
      LinearForm shifted = TermForm(u, dim, ones);
      for (double& z : shifted.bias) z = b / 2;
      const int s = AddSquare(std::move(shifted), n.name);
      LinearForm f = TermForm(s, dim, ones);
      for (double& z : f.bias) z = c - b * b / 4;
      factors.push_back(std::move(f));
    }
    if (fit->linear_root) {
      LinearForm f = TermForm(u, dim, ones);
      for (double& z : f.bias) z = -*fit->linear_root;
      factors.push_back(std::move(f));
    }
    out.kind = Sym::Kind::kLinear;
    out.lin = ScaleForm(ProductTree(std::move(factors), n.name), out_scale);
    fits_.push_back(*fit);
    return absl::OkStatus();
  }

  // The fitted polynomial on v itself (v a bare term plus a constant), as a
  // conventional pipeline evaluates an approximation on its argument: with
  // u = v / D (D = 1/inv per element), each factor (u + b/2)² + k is
  // ((v + D b/2)² + D² k) / D² and (u - r) is (v - D r) / D, so the squares
  // read shifted v (no level for the shift), the product tree multiplies
  // them, and one coefficient per element, lead · R · D^-(2q + l), costs the
  // last level: squares + tree + 1 (3 for degree 4, as a power-basis
  // evaluation with eager coefficient products).
  absl::Status UnfusedActivation(const ir::Node& n, const LinearForm& v,
                                 const std::vector<double>& inv,
                                 const std::vector<double>& out_scale,
                                 const ActivationFit& fit, Sym& out) {
    const int64_t dim = v.dim;
    const std::vector<double> ones(dim, 1.0);
    std::vector<double> coeff = out_scale;
    std::vector<LinearForm> factors;
    for (const auto& [b, c] : fit.quadratics) {
      LinearForm shifted = v;
      for (int64_t i = 0; i < dim; ++i) shifted.bias[i] += b / (2 * inv[i]);
      const int s = AddSquare(std::move(shifted), n.name);
      LinearForm f = TermForm(s, dim, ones);
      for (int64_t i = 0; i < dim; ++i) {
        f.bias[i] = (c - b * b / 4) / (inv[i] * inv[i]);
        coeff[i] *= inv[i] * inv[i];
      }
      factors.push_back(std::move(f));
    }
    if (fit.linear_root) {
      LinearForm f = v;
      for (int64_t i = 0; i < dim; ++i) {
        f.bias[i] -= *fit.linear_root / inv[i];
        coeff[i] *= inv[i];
      }
      factors.push_back(std::move(f));
    }
    out.kind = Sym::Kind::kLinear;
    out.lin = ScaleForm(ProductTree(std::move(factors), n.name), coeff);
    fits_.push_back(fit);
    return absl::OkStatus();
  }

  // The product of `factors` (non-empty, one dim) by a tree of product
  // terms, shallowest factors first: ceil(log2(count)) levels.
  LinearForm ProductTree(std::vector<LinearForm> factors, const std::string& source) {
    const int64_t dim = factors[0].dim;
    const std::vector<double> ones(dim, 1.0);
    while (factors.size() > 1) {
      std::vector<LinearForm> next;
      for (size_t i = 0; i + 1 < factors.size(); i += 2) {
        Term t;
        t.kind = Term::Kind::kProduct;
        t.dim = dim;
        t.depth = std::max(prog_.FormDepth(factors[i]), prog_.FormDepth(factors[i + 1])) + 1;
        t.a = std::move(factors[i]);
        t.b = std::move(factors[i + 1]);
        t.source = source;
        next.push_back(TermForm(AddTerm(std::move(t)), dim, ones));
      }
      if (factors.size() % 2) next.push_back(std::move(factors.back()));
      factors = std::move(next);
    }
    return std::move(factors[0]);
  }

  static LinearForm TermForm(int term, int64_t dim, std::span<const double> scale) {
    LinearForm f;
    f.dim = dim;
    f.parts.emplace(term, SparseMatrix::Diagonal(scale));
    f.bias.assign(dim, 0.0);
    return f;
  }

  int AddSquare(LinearForm a, const std::string& source) {
    Term t;
    t.kind = Term::Kind::kSquare;
    t.dim = a.dim;
    t.depth = prog_.FormDepth(a) + 1;
    t.a = std::move(a);
    t.source = source;
    return AddTerm(std::move(t));
  }

  // The value `id` as a linear form; a quadratic is materialised as a square
  // term first (once: the symbol is replaced by the result).
  absl::StatusOr<LinearForm> AsLinear(ValueId id, const std::string& source) {
    Sym& s = syms_[id];
    if (s.kind == Sym::Kind::kLinear) return s.lin;
    if (s.kind == Sym::Kind::kConst) {
      return absl::InternalError("Lower: constant used as a computed value");
    }
    const int64_t dim = s.lin.dim;
    bool all_zero = true, can_complete = true;
    std::vector<double> shift(dim, 0.0);
    for (int64_t i = 0; i < dim; ++i) {
      all_zero &= s.alpha[i] == 0.0;
      if (s.alpha[i] != 0.0) {
        shift[i] = s.beta[i] / (2 * s.alpha[i]);
        can_complete &= std::abs(shift[i]) <= opt_.max_square_shift;
      } else {
        can_complete &= s.beta[i] == 0.0;
      }
    }
    LinearForm result;
    if (all_zero) {
      result = ScaleForm(s.lin, s.beta);
      for (int64_t i = 0; i < dim; ++i) result.bias[i] += s.gamma[i];
    } else if (can_complete) {
      // a v² + b v + c = a (v + b/2a)² + (c − b²/4a).
      LinearForm shifted = s.lin;
      for (int64_t i = 0; i < dim; ++i) shifted.bias[i] += shift[i];
      const int t = AddSquare(std::move(shifted), source);
      result = TermForm(t, dim, s.alpha);
      for (int64_t i = 0; i < dim; ++i) {
        result.bias[i] = s.gamma[i] - s.alpha[i] * shift[i] * shift[i];
      }
    } else {
      const int t = AddSquare(s.lin, source);
      result = Sum(TermForm(t, dim, s.alpha), ScaleForm(s.lin, s.beta), 1.0);
      for (int64_t i = 0; i < dim; ++i) result.bias[i] += s.gamma[i];
    }
    s.kind = Sym::Kind::kLinear;
    s.lin = result;
    s.alpha.clear();
    s.beta.clear();
    s.gamma.clear();
    return result;
  }

  const Tensor& Const(ValueId id) const { return *syms_[id].constant; }
  bool IsConst(ValueId id) const { return syms_[id].kind == Sym::Kind::kConst; }

  // Unfused lowering: the value `id` as a form without a pending product:
  // a pending plaintext-weight op (a form with a matrix other than the
  // identity) is materialised as a term of its own first, and so, when
  // `single` (the consumer multiplies by a matrix, which reads one
  // ciphertext), is a sum of several terms. The symbol is replaced by the
  // bare term, so every consumer shares it. Fused lowering: AsLinear.
  absl::StatusOr<LinearForm> Operand(ValueId id, const std::string& source, bool single) {
    BF_ASSIGN_OR_RETURN(LinearForm f, AsLinear(id, source));
    if (opt_.fuse || f.IsConstant()) return f;
    if (f.IsIdentitySum() && (!single || f.parts.size() == 1)) return f;
    Term t;
    t.kind = Term::Kind::kLinear;
    t.dim = f.dim;
    t.depth = prog_.FormDepth(f);
    t.a = std::move(f);
    t.source = source;
    const int64_t dim = t.dim;
    const int k = AddTerm(std::move(t));
    LinearForm bare = TermForm(k, dim, std::vector<double>(dim, 1.0));
    syms_[id].lin = bare;
    return bare;
  }

  absl::Status ApplyLinear(const ir::Node& n, ValueId in, const LinearOp& op,
                           Sym& out) {
    BF_ASSIGN_OR_RETURN(LinearForm f, Operand(in, n.name, /*single=*/true));
    out.kind = Sym::Kind::kLinear;
    out.lin = Apply(op, f);
    return CheckSize(n, out.lin);
  }

  static Sym Quad(LinearForm v, std::vector<double> alpha, Shape shape) {
    Sym s;
    s.kind = Sym::Kind::kQuad;
    s.shape = std::move(shape);
    const int64_t dim = v.dim;
    s.lin = std::move(v);
    s.alpha = std::move(alpha);
    s.beta.assign(dim, 0.0);
    s.gamma.assign(dim, 0.0);
    return s;
  }

  absl::Status Multiply(const ir::Node& n, ValueId a, ValueId b, Sym& out) {
    if (syms_[a].shape != out.shape || syms_[b].shape != out.shape) {
      return Error(n, absl::StrCat("product of two computed values with shapes ",
                                   ShapeString(syms_[a].shape), " and ",
                                   ShapeString(syms_[b].shape),
                                   " (broadcasting between computed values is "
                                   "not supported)"));
    }
    BF_ASSIGN_OR_RETURN(LinearForm u, Operand(a, n.name, /*single=*/false));
    BF_ASSIGN_OR_RETURN(LinearForm v, Operand(b, n.name, /*single=*/false));
    // Unfused, as written: x·x is a square, anything else a product of two
    // terms. Fused: a product of v and r ⊙ v is a quadratic of v.
    std::optional<std::vector<double>> r, r2;
    if (opt_.fuse && (r = RowRatio(u, v, true))) {
      out = Quad(std::move(v), std::move(*r), out.shape);
    } else if (opt_.fuse && (r2 = RowRatio(v, u, true))) {
      out = Quad(std::move(u), std::move(*r2), out.shape);
    } else {
      Term t;
      t.kind = !opt_.fuse && a == b ? Term::Kind::kSquare : Term::Kind::kProduct;
      t.dim = u.dim;
      t.depth = std::max(prog_.FormDepth(u), prog_.FormDepth(v)) + 1;
      t.a = std::move(u);
      if (t.kind == Term::Kind::kProduct) t.b = std::move(v);
      t.source = n.name;
      const int64_t dim = t.dim;
      const int id = AddTerm(std::move(t));
      out.kind = Sym::Kind::kLinear;
      out.lin = TermForm(id, dim, std::vector<double>(dim, 1.0));
    }
    return absl::OkStatus();
  }

  absl::Status AddComputed(const ir::Node& n, ValueId a, ValueId b, double sign,
                           Sym& out) {
    if (syms_[a].shape != out.shape || syms_[b].shape != out.shape) {
      return Error(n, absl::StrCat("sum of two computed values with shapes ",
                                   ShapeString(syms_[a].shape), " and ",
                                   ShapeString(syms_[b].shape),
                                   " (broadcasting between computed values is "
                                   "not supported)"));
    }
    const Sym& sa = syms_[a];
    const Sym& sb = syms_[b];
    const int64_t dim = NumElements(out.shape);
    // Keep a quadratic symbolic when the other side is linear in the same v
    // or another quadratic of the same v.
    if (sa.kind == Sym::Kind::kQuad || sb.kind == Sym::Kind::kQuad) {
      const bool a_quad = sa.kind == Sym::Kind::kQuad;
      const Sym& q = a_quad ? sa : sb;
      const Sym& o = a_quad ? sb : sa;
      const double qs = a_quad ? 1.0 : sign;  // sign of the quadratic
      const double os = a_quad ? sign : 1.0;  // sign of the other side
      std::optional<Sym> merged;
      if (o.kind == Sym::Kind::kLinear) {
        if (auto d = RowRatio(o.lin, q.lin, false)) {
          Sym s = q;
          for (int64_t i = 0; i < dim; ++i) {
            s.alpha[i] = qs * q.alpha[i];
            s.beta[i] = qs * q.beta[i] + os * (*d)[i];
            s.gamma[i] = qs * q.gamma[i] +
                         os * (o.lin.bias[i] - (*d)[i] * q.lin.bias[i]);
          }
          merged = std::move(s);
        }
      } else if (o.kind == Sym::Kind::kQuad) {
        if (auto r = RowRatio(o.lin, q.lin, true)) {
          bool same = true;
          for (double x : *r) same &= Close(x, 1.0);
          if (same) {
            Sym s = q;
            for (int64_t i = 0; i < dim; ++i) {
              s.alpha[i] = qs * q.alpha[i] + os * o.alpha[i];
              s.beta[i] = qs * q.beta[i] + os * o.beta[i];
              s.gamma[i] = qs * q.gamma[i] + os * o.gamma[i];
            }
            merged = std::move(s);
          }
        }
      }
      if (merged) {
        merged->shape = out.shape;
        out = std::move(*merged);
        return absl::OkStatus();
      }
    }
    BF_ASSIGN_OR_RETURN(LinearForm u, Operand(a, n.name, /*single=*/false));
    BF_ASSIGN_OR_RETURN(LinearForm v, Operand(b, n.name, /*single=*/false));
    out.kind = Sym::Kind::kLinear;
    out.lin = Sum(u, v, sign);
    return CheckSize(n, out.lin);
  }

  // x (op) c with a constant c: Add, Sub (either side) or Mul.
  absl::Status WithConstant(const ir::Node& n, ValueId x, const Tensor& c,
                            bool const_first, Sym& out) {
    if (!opt_.fuse && n.op == OpKind::kMul) {
      // Unfused: the constant product is its own op on a bare operand.
      BF_RETURN_IF_ERROR(Operand(x, n.name, /*single=*/true).status());
    }
    Sym local;
    const Sym* sp = &syms_[x];
    if (syms_[x].shape != out.shape) {
      // x itself broadcasts: replicate it first (a linear map).
      BF_ASSIGN_OR_RETURN(LinearForm f, Operand(x, n.name, /*single=*/true));
      local.kind = Sym::Kind::kLinear;
      local.shape = out.shape;
      local.lin = Apply(BroadcastOp(syms_[x].shape, out.shape), f);
      sp = &local;
    }
    const Sym& s = *sp;
    const auto cv = ExpandConstant(c, out.shape);
    const int64_t dim = static_cast<int64_t>(cv.size());
    out.kind = s.kind;
    out.lin = s.lin;
    out.alpha = s.alpha;
    out.beta = s.beta;
    out.gamma = s.gamma;
    const bool quad = s.kind == Sym::Kind::kQuad;
    switch (n.op) {
      case OpKind::kMul:
        if (quad) {
          for (int64_t i = 0; i < dim; ++i) {
            out.alpha[i] *= cv[i];
            out.beta[i] *= cv[i];
            out.gamma[i] *= cv[i];
          }
        } else {
          out.lin = ScaleForm(s.lin, cv);
        }
        break;
      case OpKind::kAdd:
      case OpKind::kSub: {
        const double cs = n.op == OpKind::kSub && !const_first ? -1.0 : 1.0;
        const double xs = n.op == OpKind::kSub && const_first ? -1.0 : 1.0;
        if (xs == -1.0) {
          const std::vector<double> neg(dim, -1.0);
          if (quad) {
            for (int64_t i = 0; i < dim; ++i) {
              out.alpha[i] = -out.alpha[i];
              out.beta[i] = -out.beta[i];
              out.gamma[i] = -out.gamma[i];
            }
          } else {
            out.lin = ScaleForm(s.lin, neg);
          }
        }
        auto& bias = quad ? out.gamma : out.lin.bias;
        for (int64_t i = 0; i < dim; ++i) bias[i] += cs * cv[i];
        break;
      }
      default:
        return Error(n, "internal: not an elementwise op");
    }
    return absl::OkStatus();
  }

  absl::Status Lower(const ir::Node& n) {
    Sym out;
    out.shape = g_.value(n.output).shape;
    bool all_const = true;
    for (ValueId in : n.inputs) all_const &= IsConst(in);
    if (all_const) {
      return Error(n, "every input is a constant; fold constant subgraphs "
                      "before lowering");
    }
    const ValueId x = n.inputs[0];
    auto in = [&](size_t i) -> const Tensor* {
      return i < n.inputs.size() ? &Const(n.inputs[i]) : nullptr;
    };
    switch (n.op) {
      case OpKind::kGemm:
      case OpKind::kMatMul:
        if (IsConst(x)) {
          return Error(n, "the computed value must be the first operand (A)");
        }
        BF_RETURN_IF_ERROR(ApplyLinear(
            n, x,
            GemmOp(n, syms_[x].shape, *in(1), n.op == OpKind::kGemm ? in(2) : nullptr,
                   n.op == OpKind::kMatMul),
            out));
        break;
      case OpKind::kConv:
        BF_RETURN_IF_ERROR(
            ApplyLinear(n, x, ConvOp(n, syms_[x].shape, out.shape, *in(1), in(2)), out));
        break;
      case OpKind::kAveragePool:
        BF_RETURN_IF_ERROR(
            ApplyLinear(n, x, AveragePoolOp(n, syms_[x].shape, out.shape), out));
        break;
      case OpKind::kGlobalAveragePool:
        BF_RETURN_IF_ERROR(ApplyLinear(n, x, GlobalAveragePoolOp(syms_[x].shape), out));
        break;
      case OpKind::kBatchNormalization:
        for (size_t i = 1; i < 5; ++i) {
          if (!IsConst(n.inputs[i])) return Error(n, "parameters must be constants");
        }
        BF_RETURN_IF_ERROR(ApplyLinear(
            n, x, BatchNormOp(n, syms_[x].shape, *in(1), *in(2), *in(3), *in(4)), out));
        break;
      case OpKind::kAdd:
      case OpKind::kSub:
      case OpKind::kMul: {
        const ValueId y = n.inputs[1];
        if (IsConst(x) || IsConst(y)) {
          const bool const_first = IsConst(x);
          BF_RETURN_IF_ERROR(WithConstant(n, const_first ? y : x,
                                          Const(const_first ? x : y), const_first,
                                          out));
        } else if (n.op == OpKind::kMul) {
          BF_RETURN_IF_ERROR(Multiply(n, x, y, out));
        } else {
          BF_RETURN_IF_ERROR(
              AddComputed(n, x, y, n.op == OpKind::kSub ? -1.0 : 1.0, out));
        }
        break;
      }
      case OpKind::kSquare:
        BF_RETURN_IF_ERROR(Multiply(n, x, x, out));
        break;
      case OpKind::kFlatten:
      case OpKind::kReshape:
      case OpKind::kIdentity: {
        // Row-major order is unchanged; a quadratic is materialised first so
        // that every consumer shares one square term.
        if (syms_[x].kind == Sym::Kind::kQuad) {
          BF_RETURN_IF_ERROR(AsLinear(x, n.name).status());
        }
        Shape shape = out.shape;
        out = syms_[x];
        out.shape = std::move(shape);
        break;
      }
      case OpKind::kRelu:
      case OpKind::kSigmoid:
        BF_RETURN_IF_ERROR(Activation(n, x, out));
        break;
    }
    syms_[n.output] = std::move(out);
    return absl::OkStatus();
  }

  const Graph& g_;
  LowerOptions opt_;
  Program prog_;
  std::vector<Sym> syms_;
  // Per calibration input: the value of every term so far.
  std::vector<std::vector<std::vector<double>>> cal_terms_;
  std::vector<ActivationFit> fits_;
};

}  // namespace

absl::StatusOr<Program> Lower(const Graph& graph, const LowerOptions& options) {
  Lowerer lowerer(graph, options);
  return lowerer.Run();
}

}  // namespace blindfold::compiler
