// File: circuits/ckks_backend.cc
#include "circuits/ckks_backend.h"

#include <algorithm>

#include "circuits/linear_transform.h"
#include "circuits/scales.h"

namespace blindfold::circuits {

namespace {

size_t FullBytes(const ckks::Plaintext& pt) {
  return pt.poly().words().size() * sizeof(uint64_t);
}

}  // namespace

PlaintextCache::Entry PlaintextCache::Find(const void* key, int level, bool qp) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find({key, level});
  if (it == map_.end()) return {};
  return {it->second.full[qp ? 1 : 0], it->second.compact};
}

void PlaintextCache::Insert(const void* key, int level,
                            std::shared_ptr<const ckks::Plaintext> full,
                            std::shared_ptr<const ckks::CompactPlaintext> compact) {
  const Key k{key, level};
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(k);
  if (it == map_.end()) {
    if (compact == nullptr) return;
    // The newest full forms give way first: the oldest are the plan's
    // first transforms, as hot as any.
    while (bytes_ + compact->bytes() > budget_ && !full_order_.empty()) {
      const auto [victim, qp] = full_order_.back();
      full_order_.pop_back();
      auto& slot = map_.at(victim).full[qp ? 1 : 0];
      bytes_ -= FullBytes(*slot);
      slot.reset();
    }
    if (bytes_ + compact->bytes() > budget_) return;
    bytes_ += compact->bytes();
    it = map_.emplace(k, Node{std::move(compact), {}}).first;
  }
  if (full == nullptr) return;
  const bool qp = full->poly().num_p() > 0;
  auto& slot = it->second.full[qp ? 1 : 0];
  if (slot != nullptr || bytes_ + FullBytes(*full) > budget_) return;
  bytes_ += FullBytes(*full);
  slot = std::move(full);
  full_order_.push_back({k, qp});
}

CkksBackend::CkksBackend(const ckks::Evaluator& evaluator,
                         const ckks::Encoder& encoder, int top_level,
                         ckks::Scale top_scale, int64_t slots, PlaintextCache* cache)
    : ev_(evaluator), enc_(encoder), slots_(slots), cache_(cache) {
  std::vector<double> q(top_level + 1);
  for (int l = 0; l <= top_level; ++l) q[l] = static_cast<double>(ev_.params()->q(l));
  for (double s : CanonicalScales(q, top_level, top_scale.value())) {
    scales_.push_back(ckks::Scale(s));
  }
}

bool CkksBackend::Ok(const absl::Status& s) {
  if (!s.ok() && status_.ok()) status_ = s;
  return s.ok();
}

ckks::Plaintext CkksBackend::Encode(const std::vector<double>& slot_values,
                                    int level, ckks::Scale scale,
                                    ckks::PlaintextBasis basis) {
  ckks::Plaintext pt;
  Ok(enc_.Encode(slot_values, static_cast<std::size_t>(slots_), level, scale, &pt, basis));
  return pt;
}

std::shared_ptr<const ckks::Plaintext> CkksBackend::Diagonal(const SparseDiagonal& d,
                                                             int64_t period, int l,
                                                             ckks::Scale x_scale,
                                                             ckks::PlaintextBasis basis) {
  const ckks::Scale pt_scale(PlaintextScale(static_cast<double>(ev_.params()->q(l)),
                                            scales_[l - 1].value(), x_scale.value()));
  // The scale is a function of the level for a fixed plan (canonical
  // scales), so (diagonal, level, basis) identifies the plaintext.
  const bool qp = basis == ckks::PlaintextBasis::kQP;
  PlaintextCache::Entry e = cache_ != nullptr ? cache_->Find(&d, l, qp) : PlaintextCache::Entry{};
  if (e.full != nullptr) return e.full;
  auto pt = std::make_shared<ckks::Plaintext>();
  if (e.compact != nullptr) {  // (so cache_ is set)
    Ok(enc_.Expand(*e.compact, l, pt.get(), basis));
    if (status_.ok()) cache_->Insert(&d, l, pt, nullptr);
    return pt;
  }
  const std::vector<double> values = Tile(d, period, slots_);
  if (cache_ == nullptr) {
    *pt = Encode(values, l, pt_scale, basis);
    return pt;
  }
  absl::StatusOr<ckks::CompactPlaintext> compact =
      enc_.EncodeCompact(values, static_cast<std::size_t>(slots_), pt_scale);
  if (!compact.ok()) {  // coefficients of 2^62 and more: not kept
    *pt = Encode(values, l, pt_scale, basis);
    return pt;
  }
  auto kept = std::make_shared<const ckks::CompactPlaintext>(*std::move(compact));
  Ok(enc_.Expand(*kept, l, pt.get(), basis));
  if (status_.ok()) cache_->Insert(&d, l, pt, std::move(kept));
  return pt;
}

std::vector<CkksBackend::Ct> CkksBackend::RotateHoisted(
    const Ct& x, const std::vector<int64_t>& steps) {
  std::vector<Ct> out;
  if (steps.empty() || !status_.ok()) {
    out.resize(steps.size());
    return out;
  }
  std::vector<int> s(steps.begin(), steps.end());
  Ok(ev_.RotateHoisted(x, s, &out));
  out.resize(steps.size());
  hoisted_rotations += static_cast<int64_t>(steps.size());
  key_switches += static_cast<int64_t>(steps.size());
  return out;
}

bool CkksBackend::UseDoubleHoisting(const Ct& x, const LinearTransformPlan& plan) const {
  if (!double_hoisting_) return false;
  constexpr double kNttPerProduct = 2.5;
  const double nq = x.level() + 1, np = ev_.params()->num_p();
  const double babies = static_cast<double>(plan.BabySteps().size());
  const double giants = static_cast<double>(plan.blocks.size());
  double terms = 0;  // with a baby rotation (rotation 0 has no P limbs)
  for (const auto& [g, diags] : plan.blocks) {
    terms += static_cast<double>(diags.size() - diags.count(0));
  }
  return (babies - giants) * (nq + np) * kNttPerProduct > terms * (np - 0.5 * nq);
}

CkksBackend::Hoisted CkksBackend::HoistExtended(const Ct& x,
                                                const std::vector<int64_t>& steps) {
  Hoisted h;
  if (!status_.ok()) return h;
  std::vector<int> s(steps.begin(), steps.end());
  Ok(ev_.RotateHoistedExtended(x, s, &h));
  const int64_t n = static_cast<int64_t>(std::count_if(
      steps.begin(), steps.end(), [&](int64_t k) { return k % slots_ != 0; }));
  hoisted_rotations += n;
  double_hoisted_rotations += n;
  key_switches += n;
  return h;
}

CkksBackend::Ct CkksBackend::MulPlainSum(const Hoisted& h,
                                         const std::map<int64_t, SparseDiagonal>& diagonals,
                                         int64_t period) {
  Ct y;
  if (!status_.ok()) return y;
  std::vector<std::shared_ptr<const ckks::Plaintext>> pts;
  std::vector<ckks::Evaluator::RotatedTerm> terms;
  for (const auto& [b, d] : diagonals) {
    pts.push_back(Diagonal(d, period, h.level(), h.scale(), ckks::PlaintextBasis::kQP));
    terms.push_back({static_cast<int>(b), pts.back().get()});
  }
  if (status_.ok()) Ok(ev_.MultiplyPlainSum(h, terms, &y));
  return y;
}

CkksBackend::Ct CkksBackend::Rotate(const Ct& x, int64_t steps) {
  Ct y;
  if (status_.ok()) Ok(ev_.Rotate(x, static_cast<int>(steps), &y));
  ++rotations;
  ++key_switches;
  return y;
}

CkksBackend::Ct CkksBackend::MulPlain(const Ct& x, const SparseDiagonal& d,
                                      int64_t period) {
  Ct y;
  if (!status_.ok()) return y;
  const std::shared_ptr<const ckks::Plaintext> pt =
      Diagonal(d, period, x.level(), x.scale(), ckks::PlaintextBasis::kQ);
  if (status_.ok()) Ok(ev_.MultiplyPlain(x, *pt, &y));
  return y;
}

void CkksBackend::AddInPlace(Ct& acc, const Ct& y) {
  if (status_.ok()) Ok(ev_.Add(acc, y, &acc));
}

CkksBackend::Ct CkksBackend::Finish(const Ct& x) {
  Ct y;
  if (status_.ok()) Ok(ev_.Rescale(x, &y));
  return y;
}

CkksBackend::Ct CkksBackend::DropLevel(const Ct& x, int level) {
  if (!status_.ok() || x.level() == level) return x;
  Ct y;
  Ok(ev_.DropLevel(x, level, &y));
  return y;
}

void CkksBackend::AddPlainInPlace(Ct& x, const std::vector<double>& values,
                                  int64_t period) {
  if (!status_.ok()) return;
  bool any = false;
  for (double v : values) any |= v != 0.0;
  if (!any) return;
  const ckks::Plaintext pt = Encode(Tile(values, period, slots_), x.level(), x.scale());
  if (status_.ok()) Ok(ev_.AddPlain(x, pt, &x));
}

CkksBackend::Ct CkksBackend::Multiply(const Ct& a, const Ct& b) {
  Ct p, y;
  if (status_.ok()) Ok(ev_.MulRelin(a, b, &p));
  ++key_switches;
  if (status_.ok()) Ok(ev_.Rescale(p, &y));
  return y;
}

CkksBackend::Ct CkksBackend::Square(const Ct& x) { return Multiply(x, x); }

CkksBackend::Ct CkksBackend::LinearCombination(const std::vector<const Ct*>& xs,
                                               const std::vector<double>& ws) {
  Ct y;
  if (!status_.ok()) return y;
  Ok(ev_.LinearCombination(xs, ws, ConstScale(*xs[0]), &y));
  return y;
}

void CkksBackend::AddLinearCombination(Ct& acc, const std::vector<const Ct*>& xs,
                                       const std::vector<double>& ws) {
  if (status_.ok()) Ok(ev_.AddLinearCombination(xs, ws, ConstScale(*xs[0]), &acc));
}

void CkksBackend::AddLinearCombinations(const std::vector<std::optional<Ct>*>& sums,
                                        const std::vector<std::vector<const Ct*>>& xs,
                                        const std::vector<std::vector<double>>& ws) {
  if (!status_.ok() || sums.empty()) return;
  std::vector<ckks::Evaluator::LinearSum> batch;
  batch.reserve(sums.size());
  for (size_t s = 0; s < sums.size(); ++s) {
    if (!sums[s]->has_value()) sums[s]->emplace();
    batch.push_back({&**sums[s], xs[s], ws[s]});
  }
  Ok(ev_.AddLinearCombinations(batch, ConstScale(*xs[0][0])));
}

// The weights' scale for terms like x: the products rescale onto level
// l - 1's canonical scale.
ckks::Scale CkksBackend::ConstScale(const Ct& x) const {
  const int l = x.level();
  return ckks::Scale(PlaintextScale(static_cast<double>(ev_.params()->q(l)),
                                    scales_[l - 1].value(), x.scale().value()));
}

void CkksBackend::AddConstInPlace(Ct& x, double c) {
  if (status_.ok()) Ok(ev_.AddConst(x, c, &x));
}

CkksBackend::Ct CkksBackend::Zero(int level) {
  // Plans never have a form without parts (ValidatePlan refuses them).
  status_.Update(absl::InternalError(
      "CkksBackend: a form with no terms (a constant) has no ciphertext"));
  (void)level;
  return Ct();
}

}  // namespace blindfold::circuits
