// Random ops. Each run draws fresh values from (seed, run counter, element index), so results
// are repeatable for a given seed and independent of thread count.
#include "ops/common.h"

namespace kiln::ops {

// dropout_mask(x) {rate, seed}: 0 with probability rate, else 1/(1-rate) (inverted dropout);
// the front end multiplies x by it, so the gradient needs no special op.
KILN_OP(dropout_mask).inputs({"x"}).attr_float("rate", 0.5).attr_int("seed", 0)
    .set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  double r = a.get_float("rate");
  if (!(r >= 0.0 && r < 1.0)) throw ValueError("rate must be in [0, 1), got " + ir::format_float(r));
  return std::vector<Type>{in[0]};
}).non_differentiable();

}  // namespace kiln::ops
