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

// Random tensors drawn afresh in every run (K.random_uniform, K.random_normal, K.random_binomial):
// random_normal(like) {mean, stddev, seed} has like's type (like's data is not read), or
// random_normal() {shape=[-1,16], ...} the shape given, -1 standing for the batch.
static std::vector<Type> infer_random(const std::vector<Type>& in, const AttrReader& a) {
  if (in.empty() == !a.has("shape"))
    throw ValueError("give the shape either as shape= or as the operand like, not both or neither");
  if (!in.empty()) return {Type{ir::DType::f32, in[0].dims}};
  Type t{ir::DType::f32, a.get_ints("shape")};
  for (int64_t d : t.dims)
    if (d < -1) throw ValueError("shape dims must be sizes >= 0 or -1 for the batch, got " + t.str());
  return {t};
}

static void random_attrs(Schema& s) {
  s.inputs({"like"}, 1).attr_ints("shape", WhenAbsent{"like's shape"}).attr_int("seed", 0)
      .set_infer(infer_random).non_differentiable();
}

KILN_OP(random_uniform).with(random_attrs).attr_float("low", 0.0).attr_float("high", 1.0)
    .describe("uniform in [low, high)");
KILN_OP(random_normal).with(random_attrs).attr_float("mean", 0.0).attr_float("stddev", 1.0)
    .describe("normal (Box-Muller over two uniforms per element)");
KILN_OP(random_binomial).with(random_attrs).attr_float("p", 0.5).describe("1 with probability p, else 0");

// stop_gradient(x): x, through which autodiff passes nothing (K.stop_gradient).
KILN_OP(stop_gradient).inputs({"x"}).set_infer(same_as(0)).non_differentiable().view_of_first();

}  // namespace kiln::ops
