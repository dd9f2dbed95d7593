// Optimizer update ops. Each writes its parameter and slots in place and runs after every
// gradient has been computed (the train-graph builder puts them last). Operands: the param,
// its gradient, the learning rate and iteration count (f32 scalars shared by all params),
// then the slots. Hyper-parameters are attributes; Keras 1 formulas (docs/optimizers.md).
#include "ops/common.h"

namespace kiln::ops {

static InferFn infer_apply(int n_slots) {
  return [n_slots](const std::vector<Type>& in, const AttrReader& a) {
    const Type& p = in[0];
    require_same(p, in[1], "param and gradient");
    require_same(in[2], scalar_f32(), "lr and f32[]");
    require_same(in[3], scalar_f32(), "iterations and f32[]");
    for (int i = 0; i < n_slots; ++i) require_same(p, in[4 + i], "param and slot");
    return std::vector<Type>{};
  };
}

// Keras 1.2's defaults (docs/optimizers.md), each stated once for the ops that share it.
constexpr double kEpsilon = 1e-8, kBeta1 = 0.9, kBeta2 = 0.999, kScheduleDecay = 0.004;

// Every update takes clipvalue (0: off) and decay (0: a constant lr).
static void common(Schema& s) { s.attr_float("clipvalue", 0.0).attr_float("decay", 0.0); }

KILN_OP(apply_sgd).inputs({"param", "grad", "lr", "iterations", "moment"}).with(common)
    .attr_float("momentum", 0.0).attr_bool("nesterov", false).set_infer(infer_apply(1)).effect({0, 4});
KILN_OP(apply_rmsprop).inputs({"param", "grad", "lr", "iterations", "accumulator"}).with(common)
    .attr_float("epsilon", kEpsilon).attr_float("rho", 0.9).set_infer(infer_apply(1)).effect({0, 4});
KILN_OP(apply_adagrad).inputs({"param", "grad", "lr", "iterations", "accumulator"}).with(common)
    .attr_float("epsilon", kEpsilon).set_infer(infer_apply(1)).effect({0, 4});
KILN_OP(apply_adadelta).inputs({"param", "grad", "lr", "iterations", "accumulator", "delta_accumulator"}).with(common)
    .attr_float("epsilon", kEpsilon).attr_float("rho", 0.95).set_infer(infer_apply(2)).effect({0, 4, 5});
KILN_OP(apply_adam).inputs({"param", "grad", "lr", "iterations", "m", "v"}).with(common)
    .attr_float("beta_1", kBeta1).attr_float("beta_2", kBeta2).attr_float("epsilon", kEpsilon)
    .set_infer(infer_apply(2)).effect({0, 4, 5});
KILN_OP(apply_adamax).inputs({"param", "grad", "lr", "iterations", "m", "u"}).with(common)
    .attr_float("beta_1", kBeta1).attr_float("beta_2", kBeta2).attr_float("epsilon", kEpsilon)
    .set_infer(infer_apply(2)).effect({0, 4, 5});

// Nadam also reads the running product of momentum-schedule factors (a shared f32 scalar, last
// operand), which nadam_schedule advances once per step after every apply_nadam.
KILN_OP(apply_nadam).inputs({"param", "grad", "lr", "iterations", "m", "v", "m_schedule"}).with(common)
    .attr_float("beta_1", kBeta1).attr_float("beta_2", kBeta2).attr_float("epsilon", kEpsilon)
    .attr_float("schedule_decay", kScheduleDecay)
    .set_infer([](const std::vector<Type>& in, const AttrReader& a) {
      infer_apply(2)({in.begin(), in.end() - 1}, a);
      require_same(in[6], scalar_f32(), "m_schedule and f32[]");
      return std::vector<Type>{};
    }).effect({0, 4, 5});
KILN_OP(nadam_schedule).inputs({"m_schedule", "iterations"}).attrs_like("apply_nadam", {"beta_1", "schedule_decay"})
    .set_infer([](const std::vector<Type>& in, const AttrReader&) {
      require_same(in[0], scalar_f32(), "m_schedule and f32[]");
      require_same(in[1], scalar_f32(), "iterations and f32[]");
      return std::vector<Type>{};
    }).effect({0});

// increment(x) {by}: x += by, e.g. the iteration count after each step.
KILN_OP(increment).inputs({"x"}).attr_float("by", 1.0).set_infer([](const std::vector<Type>& in, const AttrReader&) {
  require_f32(in[0], "operand");
  return std::vector<Type>{};
}).effect({0});

}  // namespace kiln::ops
