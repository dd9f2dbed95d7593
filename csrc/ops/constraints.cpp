// Weight constraints (Keras' kiln.constraints), applied in place right after a param's update in
// the train graph (passes::build_train), so an exported train program keeps them:
//   apply_constraint(%W) {kind="max_norm", max_value=2.0, axes=[0]}
// With n the L2 norm of w over `axes` (one per remaining index) and eps = 1e-7 (Keras' epsilon):
//   max_norm      w *= clip(n, 0, max_value) / (eps + n)
//   min_max_norm  w *= (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (eps + n)
//   unit_norm     w /= eps + n
//   non_neg       w *= (w >= 0)
#include "ops/common.h"

namespace kiln::ops {

KILN_OP(apply_constraint).inputs({"w"}).attr_str("kind").attr_float("max_value", 2.0).attr_float("min_value", 0.0)
    .attr_float("rate", 1.0).attr_ints("axes", std::vector<int64_t>{0})
    .set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  require_f32(in[0], "the weight");
  std::string k = a.get_str("kind");
  if (k != "max_norm" && k != "min_max_norm" && k != "unit_norm" && k != "non_neg")
    throw ValueError("unknown constraint kind '" + k + "' (accepted: max_norm, min_max_norm, unit_norm, non_neg)");
  for (int64_t ax : a.get_ints("axes")) norm_axis(ax, in[0].rank(), "apply_constraint");
  for (int64_t d : in[0].dims)
    if (d < 0) throw ShapeError("a constrained weight has static dims, got " + in[0].str());
  return std::vector<Type>{};
}).effect({0}).describe("projects a weight onto its constraint, in place");

}  // namespace kiln::ops
