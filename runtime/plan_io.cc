// File: runtime/plan_io.cc
#include "runtime/plan_io.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "circuits/meta_backend.h"

namespace blindfold::runtime {
namespace {

constexpr char kMagic[8] = {'B', 'F', 'P', 'L', 'A', 'N', 0, 0};

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F64(double v) { U64(std::bit_cast<uint64_t>(v)); }
  void Str(const std::string& s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void Raw(const char* p, size_t n) { out_.append(p, n); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}

  absl::Status Need(size_t n, const char* what) {
    if (b_.size() - pos_ < n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LoadPlan: truncated at byte ", pos_, " reading ", what, " (", n,
          " bytes needed, ", b_.size() - pos_, " left)"));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> Uint(int bytes, const char* what) {
    BF_RETURN_IF_ERROR(Need(bytes, what));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      v |= static_cast<uint64_t>(static_cast<uint8_t>(b_[pos_ + i])) << (8 * i);
    }
    pos_ += bytes;
    return v;
  }
  absl::StatusOr<uint8_t> U8(const char* what) {
    BF_ASSIGN_OR_RETURN(uint64_t v, Uint(1, what));
    return static_cast<uint8_t>(v);
  }
  absl::StatusOr<uint32_t> U32(const char* what) {
    BF_ASSIGN_OR_RETURN(uint64_t v, Uint(4, what));
    return static_cast<uint32_t>(v);
  }
  absl::StatusOr<uint64_t> U64(const char* what) { return Uint(8, what); }
  // A signed integer in [lo, hi].
  absl::StatusOr<int64_t> Int(const char* what, int64_t lo, int64_t hi) {
    BF_ASSIGN_OR_RETURN(uint64_t u, Uint(8, what));
    const int64_t v = static_cast<int64_t>(u);
    if (v < lo || v > hi) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LoadPlan: ", what, " is ", v, ", expected [", lo, ", ", hi, "]"));
    }
    return v;
  }
  absl::StatusOr<double> Finite(const char* what) {
    BF_ASSIGN_OR_RETURN(uint64_t u, Uint(8, what));
    const double d = std::bit_cast<double>(u);
    if (!std::isfinite(d)) {
      return absl::InvalidArgumentError(
          absl::StrCat("LoadPlan: ", what, " is not finite"));
    }
    return d;
  }
  // A count of items of at least `item_bytes` each, at most `max`.
  absl::StatusOr<int64_t> Count(const char* what, int64_t max, size_t item_bytes) {
    BF_ASSIGN_OR_RETURN(uint32_t n, U32(what));
    if (n > max || (item_bytes > 0 && n > (b_.size() - pos_) / item_bytes)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LoadPlan: ", what, " is ", n, ", above the limit ", max,
          " or the ", b_.size() - pos_, " bytes left"));
    }
    return static_cast<int64_t>(n);
  }
  absl::StatusOr<std::string> Str(const char* what, int64_t max) {
    BF_ASSIGN_OR_RETURN(int64_t n, Count(what, max, 1));
    BF_RETURN_IF_ERROR(Need(n, what));
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool Done() const { return pos_ == b_.size(); }
  size_t pos() const { return pos_; }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

void WriteLayout(Writer& w, const Layout& l) {
  w.U32(static_cast<uint32_t>(l.size()));
  for (int32_t e : l) w.U32(static_cast<uint32_t>(e));
}

absl::StatusOr<Layout> ReadLayout(Reader& r, int64_t dim) {
  BF_ASSIGN_OR_RETURN(int64_t n, r.Count("layout size", kMaxPlanDim, 4));
  Layout l(n);
  for (int32_t& e : l) {
    BF_ASSIGN_OR_RETURN(uint32_t u, r.U32("layout entry"));
    e = static_cast<int32_t>(u);
    if (e < -1 || e >= dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LoadPlan: layout entry ", e, " outside [-1, ", dim, ")"));
    }
  }
  return l;
}

void WriteForm(Writer& w, const PlanForm& f, bool batched) {
  w.I64(f.dim);
  w.I64(f.period);
  w.I64(f.level);
  w.U8(f.rescale ? 1 : 0);
  WriteLayout(w, f.layout);
  w.U32(static_cast<uint32_t>(f.bias.size()));
  for (double v : f.bias) w.F64(v);
  w.U32(static_cast<uint32_t>(f.parts.size()));
  for (const PlanPart& p : f.parts) {
    w.I64(p.term);
    w.U8(p.identity ? 1 : 0);
    if (p.identity) continue;
    w.I64(p.rows);
    w.I64(p.cols);
    w.I64(batched ? 0 : p.lt.baby_step);
    w.I64(batched ? 0 : p.lt.num_diagonals());
    for (const auto& row : p.matrix) {
      w.U32(static_cast<uint32_t>(row.size()));
      for (const auto& [c, v] : row) {
        w.U32(static_cast<uint32_t>(c));
        w.F64(v);
      }
    }
  }
}

absl::StatusOr<PlanForm> ReadForm(Reader& r, int64_t* nnz_budget,
                                  std::vector<int64_t>* recorded_diagonals,
                                  bool batched) {
  PlanForm f;
  BF_ASSIGN_OR_RETURN(f.dim, r.Int("form dim", 1, kMaxPlanDim));
  BF_ASSIGN_OR_RETURN(f.period, r.Int("form period", 1, kMaxPlanDim));
  BF_ASSIGN_OR_RETURN(int64_t level, r.Int("form level", 0, 64));
  f.level = static_cast<int>(level);
  BF_ASSIGN_OR_RETURN(uint8_t rescale, r.U8("form rescale flag"));
  if (rescale > 1) return absl::InvalidArgumentError("LoadPlan: rescale flag is not 0 or 1");
  f.rescale = rescale == 1;
  BF_ASSIGN_OR_RETURN(f.layout, ReadLayout(r, f.dim));
  BF_ASSIGN_OR_RETURN(int64_t nb, r.Count("bias length", kMaxPlanDim, 8));
  if (nb != f.dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoadPlan: bias has ", nb, " values, form dim is ", f.dim));
  }
  f.bias.resize(nb);
  for (double& v : f.bias) {
    BF_ASSIGN_OR_RETURN(v, r.Finite("bias value"));
  }
  BF_ASSIGN_OR_RETURN(int64_t np, r.Count("part count", kMaxPlanParts, 9));
  if (np == 0) return absl::InvalidArgumentError("LoadPlan: form without parts");
  for (int64_t i = 0; i < np; ++i) {
    PlanPart p;
    BF_ASSIGN_OR_RETURN(int64_t term, r.Int("part term", 0, kMaxPlanTerms - 1));
    p.term = static_cast<int>(term);
    BF_ASSIGN_OR_RETURN(uint8_t id, r.U8("part kind"));
    if (id > 1) return absl::InvalidArgumentError("LoadPlan: part kind is not 0 or 1");
    p.identity = id == 1;
    if (!p.identity) {
      BF_ASSIGN_OR_RETURN(p.rows, r.Int("matrix rows", 1, kMaxPlanDim));
      BF_ASSIGN_OR_RETURN(p.cols, r.Int("matrix cols", 1, kMaxPlanDim));
      if (p.rows != f.dim) {
        return absl::InvalidArgumentError(absl::StrCat(
            "LoadPlan: matrix has ", p.rows, " rows, form dim is ", f.dim));
      }
      // Throughput plans have no diagonal plan: both are 0.
      const int64_t lo = batched ? 0 : 1, hi = batched ? 0 : kMaxPlanDim;
      BF_ASSIGN_OR_RETURN(p.lt.baby_step, r.Int("baby step", lo, hi));
      BF_ASSIGN_OR_RETURN(int64_t nd, r.Int("diagonal count", lo, hi));
      recorded_diagonals->push_back(nd);
      BF_RETURN_IF_ERROR(r.Need(4 * static_cast<size_t>(p.rows), "matrix rows"));
      p.matrix.resize(p.rows);
      for (auto& row : p.matrix) {
        BF_ASSIGN_OR_RETURN(int64_t n, r.Count("row length", p.cols, 12));
        *nnz_budget -= n;
        if (*nnz_budget < 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "LoadPlan: more than ", kMaxPlanNonZeros, " matrix non-zeros"));
        }
        row.resize(n);
        int64_t last = -1;
        for (auto& [c, v] : row) {
          BF_ASSIGN_OR_RETURN(uint32_t col, r.U32("column"));
          if (col >= p.cols || static_cast<int64_t>(col) <= last) {
            return absl::InvalidArgumentError(absl::StrCat(
                "LoadPlan: column ", col, " out of range [0, ", p.cols,
                ") or not increasing"));
          }
          last = col;
          c = static_cast<int32_t>(col);
          BF_ASSIGN_OR_RETURN(v, r.Finite("matrix value"));
        }
      }
    }
    f.parts.push_back(std::move(p));
  }
  return f;
}

void WriteShape(Writer& w, const std::vector<int64_t>& s) {
  w.U32(static_cast<uint32_t>(s.size()));
  for (int64_t d : s) w.I64(d);
}

absl::StatusOr<std::vector<int64_t>> ReadShape(Reader& r, const char* what) {
  BF_ASSIGN_OR_RETURN(int64_t n, r.Count(what, 8, 8));
  std::vector<int64_t> s(n);
  for (int64_t& d : s) {
    BF_ASSIGN_OR_RETURN(d, r.Int(what, 1, kMaxPlanDim));
  }
  return s;
}

int64_t NextPow2(int64_t n) { return circuits::NextPowerOfTwo(n); }

}  // namespace

std::string SerializePlan(const Plan& plan) {
  Writer w;
  w.Raw(kMagic, sizeof(kMagic));
  // Version 1 unless the plan carries execution options other than the
  // defaults (a baseline or ablation plan): version 2 adds them here.
  const bool v2 = !(plan.execution == circuits::TransformOptions{});
  w.U32(v2 ? kPlanVersionWithExecution : kPlanVersion);
  if (v2) {
    w.U8(plan.execution.hoist ? 1 : 0);
    w.U8(plan.execution.eager_rescale ? 1 : 0);
    w.U8(plan.execution.power_of_two_rotations ? 1 : 0);
  }
  w.Str(plan.model);
  w.U8(static_cast<uint8_t>(plan.mode));
  w.I64(plan.params.log_n);
  w.U32(static_cast<uint32_t>(plan.params.q.size()));
  for (uint64_t q : plan.params.q) w.U64(q);
  w.U32(static_cast<uint32_t>(plan.params.p.size()));
  for (uint64_t p : plan.params.p) w.U64(p);
  w.I64(plan.params.log_default_scale);
  w.F64(plan.input_scale_log2);
  w.I64(plan.slots);
  w.I64(plan.depth);
  WriteShape(w, plan.input_shape);
  WriteShape(w, plan.output_shape);
  w.U32(static_cast<uint32_t>(plan.labels.size()));
  for (const auto& l : plan.labels) w.Str(l);
  w.F64(plan.max_term_abs);
  w.F64(plan.max_output_abs);
  w.U32(static_cast<uint32_t>(plan.terms.size()));
  const bool batched = plan.mode == PackingMode::kThroughput;
  for (const PlanTerm& t : plan.terms) {
    w.U8(static_cast<uint8_t>(t.kind));
    w.I64(t.dim);
    w.I64(t.period);
    w.I64(t.level);
    w.I64(t.depth);
    WriteLayout(w, t.layout);
    if (t.kind != PlanTerm::Kind::kInput) WriteForm(w, t.a, batched);
    if (t.kind == PlanTerm::Kind::kProduct) WriteForm(w, t.b, batched);
  }
  WriteForm(w, plan.output, batched);
  return w.Take();
}

absl::StatusOr<Plan> DeserializePlan(std::string_view bytes) {
  Reader r(bytes);
  BF_RETURN_IF_ERROR(r.Need(sizeof(kMagic), "magic"));
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::InvalidArgumentError("LoadPlan: not a Blindfold plan (bad magic)");
  }
  for (size_t i = 0; i < sizeof(kMagic); ++i) {
    BF_RETURN_IF_ERROR(r.U8("magic").status());
  }
  BF_ASSIGN_OR_RETURN(uint32_t version, r.U32("version"));
  if (version != kPlanVersion && version != kPlanVersionWithExecution) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoadPlan: version ", version, ", this build reads versions ", kPlanVersion,
        " and ", kPlanVersionWithExecution));
  }
  Plan plan;
  if (version == kPlanVersionWithExecution) {
    bool* flags[] = {&plan.execution.hoist, &plan.execution.eager_rescale,
                     &plan.execution.power_of_two_rotations};
    for (bool* f : flags) {
      BF_ASSIGN_OR_RETURN(uint8_t v, r.U8("execution option"));
      if (v > 1) return absl::InvalidArgumentError("LoadPlan: execution option is not 0 or 1");
      *f = v == 1;
    }
  }
  BF_ASSIGN_OR_RETURN(plan.model, r.Str("model name", 256));
  BF_ASSIGN_OR_RETURN(uint8_t mode, r.U8("packing mode"));
  if (mode > 1) return absl::InvalidArgumentError("LoadPlan: unknown packing mode");
  plan.mode = static_cast<PackingMode>(mode);
  BF_ASSIGN_OR_RETURN(int64_t log_n, r.Int("log N", 13, 16));
  plan.params.log_n = static_cast<int>(log_n);
  BF_ASSIGN_OR_RETURN(int64_t nq, r.Count("prime count of Q", 64, 8));
  plan.params.q.resize(nq);
  for (auto& q : plan.params.q) {
    BF_ASSIGN_OR_RETURN(q, r.U64("prime of Q"));
  }
  BF_ASSIGN_OR_RETURN(int64_t np, r.Count("prime count of P", 16, 8));
  plan.params.p.resize(np);
  for (auto& p : plan.params.p) {
    BF_ASSIGN_OR_RETURN(p, r.U64("prime of P"));
  }
  BF_ASSIGN_OR_RETURN(int64_t ls, r.Int("log default scale", 1, 62));
  plan.params.log_default_scale = static_cast<int>(ls);
  BF_ASSIGN_OR_RETURN(plan.input_scale_log2, r.Finite("input scale"));
  BF_ASSIGN_OR_RETURN(plan.slots, r.Int("slots", 1, int64_t{1} << 15));
  BF_ASSIGN_OR_RETURN(int64_t depth, r.Int("depth", 0, 63));
  plan.depth = static_cast<int>(depth);
  BF_ASSIGN_OR_RETURN(plan.input_shape, ReadShape(r, "input shape"));
  BF_ASSIGN_OR_RETURN(plan.output_shape, ReadShape(r, "output shape"));
  BF_ASSIGN_OR_RETURN(int64_t nl, r.Count("label count", 4096, 4));
  plan.labels.resize(nl);
  for (auto& l : plan.labels) {
    BF_ASSIGN_OR_RETURN(l, r.Str("label", 256));
  }
  BF_ASSIGN_OR_RETURN(plan.max_term_abs, r.Finite("max term value"));
  BF_ASSIGN_OR_RETURN(plan.max_output_abs, r.Finite("max output value"));
  BF_ASSIGN_OR_RETURN(int64_t nt, r.Count("term count", kMaxPlanTerms, 33));
  int64_t nnz_budget = kMaxPlanNonZeros;
  std::vector<int64_t> recorded;
  for (int64_t k = 0; k < nt; ++k) {
    PlanTerm t;
    BF_ASSIGN_OR_RETURN(uint8_t kind, r.U8("term kind"));
    if (kind > 3) return absl::InvalidArgumentError("LoadPlan: unknown term kind");
    t.kind = static_cast<PlanTerm::Kind>(kind);
    if ((k == 0) != (t.kind == PlanTerm::Kind::kInput)) {
      return absl::InvalidArgumentError(
          "LoadPlan: the first term, and only it, must be the input");
    }
    BF_ASSIGN_OR_RETURN(t.dim, r.Int("term dim", 1, kMaxPlanDim));
    BF_ASSIGN_OR_RETURN(t.period, r.Int("term period", 1, kMaxPlanDim));
    BF_ASSIGN_OR_RETURN(int64_t level, r.Int("term level", 0, 63));
    t.level = static_cast<int>(level);
    BF_ASSIGN_OR_RETURN(int64_t tdepth, r.Int("term depth", 0, 63));
    t.depth = static_cast<int>(tdepth);
    BF_ASSIGN_OR_RETURN(t.layout, ReadLayout(r, t.dim));
    const bool batched = plan.mode == PackingMode::kThroughput;
    if (t.kind != PlanTerm::Kind::kInput) {
      BF_ASSIGN_OR_RETURN(t.a, ReadForm(r, &nnz_budget, &recorded, batched));
    }
    if (t.kind == PlanTerm::Kind::kProduct) {
      BF_ASSIGN_OR_RETURN(t.b, ReadForm(r, &nnz_budget, &recorded, batched));
    }
    plan.terms.push_back(std::move(t));
  }
  BF_ASSIGN_OR_RETURN(plan.output, ReadForm(r, &nnz_budget, &recorded,
                                            plan.mode == PackingMode::kThroughput));
  if (!r.Done()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoadPlan: ", bytes.size() - r.pos(), " trailing bytes after the plan"));
  }
  // Re-derive every diagonal plan with its recorded baby step.
  size_t next = 0;
  auto derive = [&](PlanForm& f) -> absl::Status {
    for (PlanPart& p : f.parts) {
      if (p.identity || plan.mode == PackingMode::kThroughput) continue;
      if (p.term >= static_cast<int>(plan.terms.size())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "LoadPlan: part refers to term ", p.term, " of ", plan.terms.size()));
      }
      const int64_t in_period = plan.terms[p.term].period;
      const Layout& in_layout = plan.terms[p.term].layout;
      auto lt = circuits::PlanLinearTransform(
          p.rows, p.cols, p.matrix, in_period, in_layout.empty() ? nullptr : &in_layout,
          f.layout.empty() ? nullptr : &f.layout, plan.slots, {}, p.lt.baby_step);
      if (!lt.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("LoadPlan: ", lt.status().message()));
      }
      if (lt->num_diagonals() != recorded[next]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "LoadPlan: a matrix yields ", lt->num_diagonals(),
            " diagonals, the plan records ", recorded[next]));
      }
      ++next;
      p.lt = *std::move(lt);
    }
    return absl::OkStatus();
  };
  // Terms refer only to earlier terms: checked by ValidatePlan; derive needs
  // the referenced term's period, which exists for any index < size.
  for (PlanTerm& t : plan.terms) {
    if (t.kind != PlanTerm::Kind::kInput) BF_RETURN_IF_ERROR(derive(t.a));
    if (t.kind == PlanTerm::Kind::kProduct) BF_RETURN_IF_ERROR(derive(t.b));
  }
  BF_RETURN_IF_ERROR(derive(plan.output));
  BF_RETURN_IF_ERROR(ValidatePlan(plan));
  BF_RETURN_IF_ERROR(SimulatePlan(plan));
  return plan;
}

absl::Status SimulatePlan(const Plan& plan) {
  auto params = ckks::Parameters::Create(plan.params);
  if (!params.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SimulatePlan: parameters: ", params.status().message()));
  }
  std::vector<double> q(plan.depth + 1);
  for (int l = 0; l <= plan.depth; ++l) q[l] = static_cast<double>((*params)->q(l));
  const double top = std::exp2(plan.input_scale_log2);
  circuits::MetaBackend meta(q, plan.depth, top);
  absl::Status mismatch;
  auto observe = [&](size_t k, const circuits::MetaCt& v) {
    const bool out = k >= plan.terms.size();
    const int want = out ? plan.output.level : plan.terms[k].level;
    // An unrescaled output keeps its products' scale, D_l^2 (plan.h).
    const double want_scale =
        out && !plan.output.rescale
            ? meta.CanonicalScale(want) * meta.CanonicalScale(want)
            : meta.CanonicalScale(std::max(0, v.level));
    if (mismatch.ok() && (v.level != want || v.degree != 1 ||
                          !circuits::ScalesMatch(v.scale, want_scale))) {
      mismatch = absl::InvalidArgumentError(absl::StrCat(
          "SimulatePlan: ", k < plan.terms.size() ? absl::StrCat("term ", k) : "the output",
          " lands on level ", v.level, " (degree ", v.degree, ", scale 2^",
          std::log2(v.scale), "), the plan records level ", want));
    }
  };
  const circuits::MetaCt input{plan.depth, top, 1};
  if (plan.mode == PackingMode::kThroughput) {
    std::vector<circuits::MetaCt> in(plan.terms[0].dim, input);
    const auto out = ExecutePlanBatched(meta, plan, std::move(in));
    for (const auto& v : out) observe(plan.terms.size(), v);
  } else {
    ExecutePlan(meta, plan, input, observe);
  }
  BF_RETURN_IF_ERROR(meta.status());
  BF_RETURN_IF_ERROR(mismatch);
  const std::vector<int64_t> want = plan.Rotations();
  const std::vector<int64_t> used(meta.rotations_used().begin(),
                                  meta.rotations_used().end());
  // An exact key set is what the plan performs; a power-of-two set holds
  // every power of two, of which a plan may use fewer.
  if (plan.execution.power_of_two_rotations
          ? !std::includes(want.begin(), want.end(), used.begin(), used.end())
          : used != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SimulatePlan: the plan performs ", used.size(),
        " distinct rotations, its key set lists ", want.size(),
        plan.execution.power_of_two_rotations ? " (not all of them)" : ""));
  }
  // Every key reaches the highest level its rotation runs at; the
  // optimized plans' levels are exactly those, the baseline's (all keys at
  // the top, eager rescales) may be higher.
  const std::map<int64_t, int> levels = plan.RotationLevels();
  for (const auto& [r, level] : meta.rotation_levels()) {
    auto it = levels.find(r);
    if (it == levels.end() || it->second < level) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SimulatePlan: rotation ", r, " runs at level ", level,
          ", its key is made for level ", it == levels.end() ? -1 : it->second));
    }
  }
  if (meta.relin_level() > plan.RelinLevel()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SimulatePlan: a product is relinearized at level ", meta.relin_level(),
        ", the relinearization key is made for level ", plan.RelinLevel()));
  }
  return absl::OkStatus();
}

absl::Status ValidatePlan(const Plan& plan) {
  auto fail = [](auto&&... args) {
    return absl::InvalidArgumentError(absl::StrCat("LoadPlan: ", args...));
  };
  auto params = ckks::Parameters::Create(plan.params);
  if (!params.ok()) return fail("parameters: ", params.status().message());
  if (plan.slots < 1 || plan.slots > static_cast<int64_t>((*params)->max_slots()) ||
      (plan.slots & (plan.slots - 1)) != 0) {
    return fail("slots ", plan.slots, " is not a power of two up to N/2 = ",
                (*params)->max_slots());
  }
  if (plan.depth > (*params)->max_level()) {
    return fail("depth ", plan.depth, " above the chain's ", (*params)->max_level(),
                " levels");
  }
  if (plan.terms.empty()) return fail("no terms");
  if (plan.input_scale_log2 < 10 || plan.input_scale_log2 > 62) {
    return fail("input scale 2^", plan.input_scale_log2, " outside [2^10, 2^62]");
  }
  int64_t in_elems = 1, out_elems = 1;
  for (int64_t d : plan.input_shape) in_elems *= d;
  for (int64_t d : plan.output_shape) out_elems *= d;
  if (in_elems != plan.terms[0].dim || out_elems != plan.output.dim) {
    return fail("shapes hold ", in_elems, " and ", out_elems,
                " values, the input and output have ", plan.terms[0].dim, " and ",
                plan.output.dim);
  }
  if (plan.terms[0].level != plan.depth) {
    return fail("input at level ", plan.terms[0].level, ", expected the depth ",
                plan.depth);
  }
  const bool batched = plan.mode == PackingMode::kThroughput;
  auto period_ok = [&](int64_t period, int64_t dim, const Layout& layout) {
    if (batched) return period == 1 && layout.empty();
    const int64_t want = layout.empty() ? NextPow2(dim) : static_cast<int64_t>(layout.size());
    return period == want && (period & (period - 1)) == 0 && period <= plan.slots;
  };
  auto check_form = [&](const PlanForm& f, size_t before) -> absl::Status {
    if (!period_ok(f.period, f.dim, f.layout)) {
      return fail("form period ", f.period, " is not pow2(", f.dim,
                  ") within ", plan.slots, " slots");
    }
    std::set<int> seen;
    for (const PlanPart& p : f.parts) {
      if (p.term < 0 || static_cast<size_t>(p.term) >= before) {
        return fail("form refers to term ", p.term, ", not an earlier one");
      }
      if (!seen.insert(p.term).second) return fail("form reads term ", p.term, " twice");
      const PlanTerm& t = plan.terms[p.term];
      if (p.identity) {
        if (!f.rescale || t.dim != f.dim || t.level != f.level || t.layout != f.layout) {
          return fail("identity part: term ", p.term, " (dim ", t.dim, ", level ",
                      t.level, ") vs form (dim ", f.dim, ", level ", f.level, ")");
        }
      } else if (p.cols != t.dim || p.rows != f.dim ||
                 t.level < f.level + (f.rescale ? 1 : 0)) {
        return fail("matrix ", p.rows, "x", p.cols, " on term ", p.term, " (dim ",
                    t.dim, ", level ", t.level, ") into form (dim ", f.dim,
                    ", level ", f.level, ")");
      }
    }
    return absl::OkStatus();
  };
  for (size_t k = 0; k < plan.terms.size(); ++k) {
    const PlanTerm& t = plan.terms[k];
    if (!period_ok(t.period, t.dim, t.layout)) {
      return fail("term ", k, " period ", t.period, " is not pow2(", t.dim,
                  ") within ", plan.slots, " slots");
    }
    if (k == 0) continue;
    BF_RETURN_IF_ERROR(check_form(t.a, k));
    if (t.a.dim != t.dim || t.a.layout != t.layout) {
      return fail("term ", k, " dim or layout differs from its form's");
    }
    if (t.kind == PlanTerm::Kind::kProduct) {
      BF_RETURN_IF_ERROR(check_form(t.b, k));
      if (t.b.dim != t.dim || t.b.level != t.a.level || t.b.layout != t.layout) {
        return fail("term ", k, ": product forms differ in dim or level");
      }
    }
    const int want = t.kind == PlanTerm::Kind::kLinear ? t.a.level : t.a.level - 1;
    if (t.level != want || t.level < 0) {
      return fail("term ", k, " at level ", t.level, ", its form at ", t.a.level,
                  " (expected ", want, ", at least 0)");
    }
  }
  BF_RETURN_IF_ERROR(check_form(plan.output, plan.terms.size()));
  // The output lands on level 0 (rescaled) or 1 (not), unless the input
  // sits above the levels the plan consumes (a plan without modulus
  // dropping, docs/design/baseline.md): then the output is that much higher.
  if (plan.output.level < (plan.output.rescale ? 0 : 1)) {
    return fail("output at level ", plan.output.level, " (rescaled: ", plan.output.rescale,
                ")");
  }
  for (const PlanTerm& t : plan.terms) {
    if (!t.a.rescale || !t.b.rescale) return fail("only the output may skip its rescale");
  }
  if (!plan.labels.empty() && static_cast<int64_t>(plan.labels.size()) != plan.output.dim) {
    return fail(plan.labels.size(), " labels for ", plan.output.dim, " outputs");
  }
  return absl::OkStatus();
}

absl::Status WritePlanFile(const Plan& plan, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::string bytes = SerializePlan(plan);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) {
    return absl::InvalidArgumentError(absl::StrCat("WritePlan: cannot write ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<Plan> ReadPlanFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) {
    return absl::NotFoundError(absl::StrCat("LoadPlan: cannot open ", path));
  }
  std::ostringstream s;
  s << in.rdbuf();
  auto plan = DeserializePlan(s.str());
  if (!plan.ok()) {
    return absl::Status(plan.status().code(),
                        absl::StrCat(path, ": ", plan.status().message()));
  }
  return plan;
}

}  // namespace blindfold::runtime
