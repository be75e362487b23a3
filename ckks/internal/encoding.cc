#include "ckks/internal/encoding.h"

#include "absl/strings/str_cat.h"
#include "ckks/internal/access.h"

namespace blindfold::ckks::internal {

absl::StatusOr<ConstantResidues> EncodeConstant(const Parameters& params,
                                                std::complex<double> c,
                                                double scale, int num_q,
                                                absl::string_view op) {
  __int128 re = 0, im = 0;
  if (!ScaleAndRound(c.real(), scale, &re) || !ScaleAndRound(c.imag(), scale, &im)) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": constant times scale is not finite or reaches 2^120"));
  }
  ConstantResidues out;
  out.has_imag = im != 0;
  out.re.resize(num_q);
  out.im.resize(num_q);
  for (int i = 0; i < num_q; ++i) {
    const math::Modulus& q = internal::Access::ring(params).q(i);
    out.re[i] = ReduceSigned128(re, q);
    out.im[i] = ReduceSigned128(im, q);
  }
  return out;
}

}  // namespace blindfold::ckks::internal
