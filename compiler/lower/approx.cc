// File: compiler/lower/approx.cc
#include "compiler/lower/approx.h"

#include <algorithm>
#include <cmath>
#include <complex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace blindfold::compiler {
namespace {

using Complex = std::complex<long double>;

// Solves the symmetric positive definite system a x = b (Gaussian
// elimination with partial pivoting, long double).
std::vector<long double> Solve(std::vector<std::vector<long double>> a,
                               std::vector<long double> b) {
  const size_t n = b.size();
  for (size_t c = 0; c < n; ++c) {
    size_t p = c;
    for (size_t r = c + 1; r < n; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
    }
    std::swap(a[c], a[p]);
    std::swap(b[c], b[p]);
    for (size_t r = c + 1; r < n; ++r) {
      const long double f = a[r][c] / a[c][c];
      for (size_t k = c; k < n; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  std::vector<long double> x(n);
  for (size_t i = n; i-- > 0;) {
    long double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[i][k] * x[k];
    x[i] = s / a[i][i];
  }
  return x;
}

// Chebyshev T_0..T_d at u.
void Chebyshev(long double u, int d, std::vector<long double>* t) {
  t->assign(d + 1, 0);
  (*t)[0] = 1;
  if (d >= 1) (*t)[1] = u;
  for (int k = 2; k <= d; ++k) (*t)[k] = 2 * u * (*t)[k - 1] - (*t)[k - 2];
}

// Monomial coefficients of sum_k c_k T_k.
std::vector<long double> ChebyshevToMonomial(const std::vector<long double>& c) {
  const int d = static_cast<int>(c.size()) - 1;
  std::vector<std::vector<long double>> t(d + 1, std::vector<long double>(d + 1, 0));
  t[0][0] = 1;
  if (d >= 1) t[1][1] = 1;
  for (int k = 2; k <= d; ++k) {
    for (int i = 0; i <= d; ++i) {
      t[k][i] = -t[k - 2][i] + (i > 0 ? 2 * t[k - 1][i - 1] : 0);
    }
  }
  std::vector<long double> m(d + 1, 0);
  for (int k = 0; k <= d; ++k) {
    for (int i = 0; i <= d; ++i) m[i] += c[k] * t[k][i];
  }
  return m;
}

Complex Horner(const std::vector<long double>& m, Complex z) {
  Complex v = 0;
  for (size_t i = m.size(); i-- > 0;) v = v * z + m[i];
  return v;
}

// Roots of the monomial polynomial m (degree d = size - 1, m[d] != 0) by
// Aberth-Ehrlich iteration.
std::vector<Complex> Roots(const std::vector<long double>& m) {
  const int d = static_cast<int>(m.size()) - 1;
  std::vector<long double> dm(d);
  for (int i = 1; i <= d; ++i) dm[i - 1] = i * m[i];
  long double bound = 0;
  for (int i = 0; i < d; ++i) bound = std::max(bound, std::abs(m[i] / m[d]));
  const long double radius = 1 + bound;
  std::vector<Complex> z(d);
  for (int k = 0; k < d; ++k) {
    z[k] = std::polar(radius * 0.5L, 2 * 3.14159265358979323846L * (k + 0.25L) / d);
  }
  for (int it = 0; it < 500; ++it) {
    long double moved = 0;
    for (int k = 0; k < d; ++k) {
      const Complex ratio = Horner(m, z[k]) / Horner(dm, z[k]);
      Complex sum = 0;
      for (int j = 0; j < d; ++j) {
        if (j != k) sum += 1.0L / (z[k] - z[j]);
      }
      const Complex w = ratio / (1.0L - ratio * sum);
      z[k] -= w;
      moved = std::max(moved, std::abs(w));
    }
    if (moved < 1e-16L * radius) break;
  }
  return z;
}

}  // namespace

double Activation(ir::OpKind op, double v) {
  if (op == ir::OpKind::kSigmoid) return 1.0 / (1.0 + std::exp(-v));
  return v > 0 ? v : 0.0;
}

double EvaluateFactored(const ActivationFit& fit, double u) {
  double p = fit.lead;
  for (const auto& [b, c] : fit.quadratics) p *= u * u + b * u + c;
  if (fit.linear_root) p *= u - *fit.linear_root;
  return p;
}

absl::StatusOr<ActivationFit> FitActivation(ir::OpKind op,
                                            const std::vector<double>& samples,
                                            int degree) {
  if (samples.empty()) {
    return absl::InvalidArgumentError("FitActivation: no calibration samples");
  }
  if (degree < 1 || degree > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("FitActivation: degree ", degree, " outside [1, 16]"));
  }
  ActivationFit fit;
  double r = 0;
  for (double v : samples) r = std::max(r, std::abs(v));
  fit.range = std::max(r * 1.05, 1e-6);
  // Least squares in the Chebyshev basis: samples, plus a uniform grid
  // weighted as 5 % of the samples.
  const int n = degree + 1;
  std::vector<std::vector<long double>> ata(n, std::vector<long double>(n, 0));
  std::vector<long double> atb(n, 0);
  std::vector<long double> t;
  auto add = [&](long double u, long double y, long double w) {
    Chebyshev(u, degree, &t);
    for (int i = 0; i < n; ++i) {
      atb[i] += w * t[i] * y;
      for (int j = 0; j < n; ++j) ata[i][j] += w * t[i] * t[j];
    }
  };
  for (double v : samples) add(v / fit.range, Activation(op, v), 1.0L);
  const int grid = 256;
  const long double gw = 0.05L * samples.size() / grid;
  for (int i = 0; i < grid; ++i) {
    const long double u = -1 + 2.0L * (i + 0.5L) / grid;
    add(u, Activation(op, static_cast<double>(u * fit.range)), gw);
  }
  for (int i = 0; i < n; ++i) ata[i][i] *= 1 + 1e-12L;  // tiny ridge
  const std::vector<long double> cheb = Solve(ata, atb);
  std::vector<long double> mono = ChebyshevToMonomial(cheb);
  // Drop a vanishing top coefficient so the degree is the real one.
  while (mono.size() > 2 && std::abs(mono.back()) < 1e-12L) mono.pop_back();
  fit.coeffs.assign(mono.begin(), mono.end());
  fit.lead = static_cast<double>(mono.back());

  // Factor: pair complex conjugates, then real roots by value.
  const std::vector<Complex> roots = Roots(mono);
  std::vector<long double> real;
  std::vector<Complex> upper;
  for (const Complex& z : roots) {
    if (std::abs(z.imag()) <= 1e-9L * (1 + std::abs(z))) {
      real.push_back(z.real());
    } else if (z.imag() > 0) {
      upper.push_back(z);
    }
  }
  for (const Complex& z : upper) {
    fit.quadratics.emplace_back(static_cast<double>(-2 * z.real()),
                                static_cast<double>(std::norm(z)));
  }
  std::sort(real.begin(), real.end());
  size_t i = 0;
  for (; i + 1 < real.size(); i += 2) {
    fit.quadratics.emplace_back(static_cast<double>(-(real[i] + real[i + 1])),
                                static_cast<double>(real[i] * real[i + 1]));
  }
  if (i < real.size()) fit.linear_root = static_cast<double>(real[i]);
  const size_t factored_degree =
      2 * fit.quadratics.size() + (fit.linear_root ? 1 : 0);
  // The factorisation must reproduce p on [-1, 1].
  double worst = 0, scale = 0;
  for (int k = 0; k <= 200; ++k) {
    const double u = -1 + 2.0 * k / 200;
    double p = 0;
    for (size_t j = fit.coeffs.size(); j-- > 0;) p = p * u + fit.coeffs[j];
    worst = std::max(worst, std::abs(p - EvaluateFactored(fit, u)));
    scale = std::max(scale, std::abs(p));
  }
  if (factored_degree != fit.coeffs.size() - 1 || worst > 1e-8 * (1 + scale)) {
    return absl::InternalError(absl::StrCat(
        "FitActivation: factoring the degree-", fit.coeffs.size() - 1,
        " fit is off by ", worst));
  }
  double sq = 0;
  for (double v : samples) {
    const double e = std::abs(EvaluateFactored(fit, v / fit.range) - Activation(op, v));
    fit.max_sample_error = std::max(fit.max_sample_error, e);
    sq += e * e;
  }
  fit.rms_sample_error = std::sqrt(sq / samples.size());
  return fit;
}

}  // namespace blindfold::compiler
