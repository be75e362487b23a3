// File: compiler/lower/program.cc
#include "compiler/lower/program.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace blindfold::compiler {

SparseMatrix SparseMatrix::Identity(int64_t n) {
  SparseMatrix m;
  m.rows = m.cols = n;
  m.row.resize(n);
  for (int64_t i = 0; i < n; ++i) m.row[i] = {{static_cast<int32_t>(i), 1.0}};
  return m;
}

SparseMatrix SparseMatrix::Diagonal(std::span<const double> d) {
  SparseMatrix m;
  m.rows = m.cols = static_cast<int64_t>(d.size());
  m.row.resize(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] != 0.0) m.row[i] = {{static_cast<int32_t>(i), d[i]}};
  }
  return m;
}

SparseMatrix SparseMatrix::Zero(int64_t rows, int64_t cols) {
  SparseMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.row.resize(rows);
  return m;
}

int64_t SparseMatrix::nnz() const {
  int64_t n = 0;
  for (const auto& r : row) n += static_cast<int64_t>(r.size());
  return n;
}

bool SparseMatrix::IsIdentity() const {
  if (rows != cols) return false;
  for (int64_t i = 0; i < rows; ++i) {
    if (row[i].size() != 1 || row[i][0].first != i || row[i][0].second != 1.0) {
      return false;
    }
  }
  return true;
}

void SparseMatrix::Apply(std::span<const double> x, std::span<double> y) const {
  BF_DCHECK(static_cast<int64_t>(x.size()) == cols);
  BF_DCHECK(static_cast<int64_t>(y.size()) == rows);
  for (int64_t i = 0; i < rows; ++i) {
    double s = 0;
    for (const auto& [c, v] : row[i]) s += v * x[c];
    y[i] = s;
  }
}

SparseMatrix Compose(const SparseMatrix& l, const SparseMatrix& a) {
  BF_CHECK(l.cols == a.rows);
  SparseMatrix out = SparseMatrix::Zero(l.rows, a.cols);
  std::vector<double> acc(a.cols, 0.0);
  std::vector<char> used(a.cols, 0);
  std::vector<int32_t> touched;
  for (int64_t i = 0; i < l.rows; ++i) {
    touched.clear();
    for (const auto& [k, lv] : l.row[i]) {
      for (const auto& [c, av] : a.row[k]) {
        if (!used[c]) {
          used[c] = 1;
          touched.push_back(c);
        }
        acc[c] += lv * av;
      }
    }
    std::sort(touched.begin(), touched.end());
    auto& r = out.row[i];
    r.reserve(touched.size());
    for (int32_t c : touched) {
      if (acc[c] != 0.0) r.emplace_back(c, acc[c]);
      acc[c] = 0.0;
      used[c] = 0;
    }
  }
  return out;
}

SparseMatrix AddMatrices(const SparseMatrix& a, const SparseMatrix& b) {
  BF_CHECK(a.rows == b.rows && a.cols == b.cols);
  SparseMatrix out = SparseMatrix::Zero(a.rows, a.cols);
  for (int64_t i = 0; i < a.rows; ++i) {
    const auto& x = a.row[i];
    const auto& y = b.row[i];
    auto& r = out.row[i];
    size_t p = 0, q = 0;
    while (p < x.size() || q < y.size()) {
      if (q == y.size() || (p < x.size() && x[p].first < y[q].first)) {
        r.push_back(x[p++]);
      } else if (p == x.size() || y[q].first < x[p].first) {
        r.push_back(y[q++]);
      } else {
        const double s = x[p].second + y[q].second;
        if (s != 0.0) r.emplace_back(x[p].first, s);
        ++p;
        ++q;
      }
    }
  }
  return out;
}

SparseMatrix ScaleRows(const SparseMatrix& a, std::span<const double> s) {
  BF_CHECK(static_cast<int64_t>(s.size()) == a.rows);
  SparseMatrix out = SparseMatrix::Zero(a.rows, a.cols);
  for (int64_t i = 0; i < a.rows; ++i) {
    if (s[i] == 0.0) continue;
    out.row[i] = a.row[i];
    for (auto& e : out.row[i]) e.second *= s[i];
  }
  return out;
}

bool LinearForm::IsShiftedTerm() const {
  return parts.size() == 1 && parts.begin()->second.IsIdentity();
}

bool LinearForm::IsIdentitySum() const {
  for (const auto& [t, m] : parts) {
    if (!m.IsIdentity()) return false;
  }
  return !parts.empty();
}

int64_t LinearForm::nnz() const {
  int64_t n = 0;
  for (const auto& [t, m] : parts) n += m.nnz();
  return n;
}

int Program::FormDepth(const LinearForm& f) const {
  if (f.IsConstant()) return 0;
  int deepest = 0;
  for (const auto& [t, m] : f.parts) deepest = std::max(deepest, terms[t].depth);
  const bool free = f.IsShiftedTerm() || (free_identity_sums && f.IsIdentitySum());
  return free ? deepest : deepest + 1;
}

int Program::depth() const { return FormDepth(output); }

void EvalForm(const LinearForm& f, const std::vector<std::vector<double>>& t,
              std::vector<double>& y) {
  y = f.bias;
  std::vector<double> part(f.dim);
  for (const auto& [j, m] : f.parts) {
    m.Apply(t[j], part);
    for (int64_t i = 0; i < f.dim; ++i) y[i] += part[i];
  }
}

absl::StatusOr<std::vector<double>> EvaluatePlain(const Program& program,
                                                  std::span<const double> x) {
  return EvaluatePlain(program, x, nullptr);
}

absl::StatusOr<std::vector<double>> EvaluatePlain(
    const Program& program, std::span<const double> x,
    std::vector<std::vector<double>>* terms) {
  if (static_cast<int64_t>(x.size()) != program.input_dim()) {
    return absl::InvalidArgumentError(
        absl::StrCat("EvaluatePlain: input has ", x.size(),
                     " values, expected ", program.input_dim()));
  }
  std::vector<std::vector<double>> t(program.terms.size());
  t[0].assign(x.begin(), x.end());
  std::vector<double> a, b;
  for (size_t k = 1; k < program.terms.size(); ++k) {
    const Term& term = program.terms[k];
    EvalForm(term.a, t, a);
    if (term.kind == Term::Kind::kLinear) {
      t[k] = a;
      continue;
    }
    if (term.kind == Term::Kind::kProduct) {
      EvalForm(term.b, t, b);
    } else {
      b = a;
    }
    t[k].resize(term.dim);
    for (int64_t i = 0; i < term.dim; ++i) t[k][i] = a[i] * b[i];
  }
  std::vector<double> y;
  EvalForm(program.output, t, y);
  if (terms != nullptr) *terms = std::move(t);
  return y;
}

namespace {

std::string FormString(const Program& p, const LinearForm& f) {
  std::string s;
  for (const auto& [j, m] : f.parts) {
    absl::StrAppend(&s, s.empty() ? "" : " + ",
                    m.IsIdentity() ? "" : absl::StrCat("A[", m.rows, "x", m.cols,
                                                       ", nnz ", m.nnz(), "]·"),
                    "t", j);
  }
  bool has_bias = false;
  for (double v : f.bias) has_bias |= v != 0.0;
  if (has_bias) absl::StrAppend(&s, s.empty() ? "" : " + ", "b");
  if (s.empty()) s.push_back('0');
  return absl::StrCat(s, " (depth ", p.FormDepth(f), ")");
}

}  // namespace

std::string DumpProgram(const Program& p) {
  std::string s = absl::StrCat("program ", p.name, ": input ",
                               ir::ShapeString(p.input_shape), " -> output ",
                               ir::ShapeString(p.output_shape), ", depth ",
                               p.depth(), "\n");
  for (size_t k = 0; k < p.terms.size(); ++k) {
    const Term& t = p.terms[k];
    absl::StrAppend(&s, "  t", k, " [", t.dim, "] depth ", t.depth, " = ");
    switch (t.kind) {
      case Term::Kind::kInput:
        absl::StrAppend(&s, "input");
        break;
      case Term::Kind::kSquare:
        absl::StrAppend(&s, "square(", FormString(p, t.a), ")");
        break;
      case Term::Kind::kLinear:
        absl::StrAppend(&s, "linear(", FormString(p, t.a), ")");
        break;
      case Term::Kind::kProduct:
        absl::StrAppend(&s, "(", FormString(p, t.a), ") * (", FormString(p, t.b),
                        ")");
        break;
    }
    if (!t.source.empty()) absl::StrAppend(&s, "   <- ", t.source);
    absl::StrAppend(&s, "\n");
  }
  absl::StrAppend(&s, "  y [", p.output.dim, "] = ", FormString(p, p.output), "\n");
  return s;
}

}  // namespace blindfold::compiler
