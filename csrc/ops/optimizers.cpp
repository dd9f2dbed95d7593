// Optimizer update ops. Each writes its parameter and slots in place and runs after every
// gradient has been computed (the train-graph builder puts them last). Operands: the param,
// its gradient, the learning rate and iteration count (f32 scalars shared by all params),
// then the slots. Hyper-parameters are attributes; Keras 1 formulas (docs/optimizers.md).
#include "ops/common.h"

namespace kiln::ops {

static InferFn infer_apply(int n_slots) {
  return [n_slots](const std::vector<Type>& in, const Attrs& a) {
    const Type& p = in[0];
    require_same(p, in[1], "param and gradient");
    require_same(in[2], scalar_f32(), "lr and f32[]");
    require_same(in[3], scalar_f32(), "iterations and f32[]");
    for (int i = 0; i < n_slots; ++i) require_same(p, in[4 + i], "param and slot");
    return std::vector<Type>{};
  };
}

static std::vector<std::string> with_common(std::vector<std::string> a) {
  a.push_back("clipvalue");
  a.push_back("decay");
  return a;
}

KILN_OP(apply_sgd).inputs({"param", "grad", "lr", "iterations", "moment"}).attrs(with_common({"momentum", "nesterov"}))
    .set_infer(infer_apply(1)).effect({0, 4});
KILN_OP(apply_rmsprop).inputs({"param", "grad", "lr", "iterations", "accumulator"}).attrs(with_common({"epsilon", "rho"}))
    .set_infer(infer_apply(1)).effect({0, 4});
KILN_OP(apply_adagrad).inputs({"param", "grad", "lr", "iterations", "accumulator"}).attrs(with_common({"epsilon"}))
    .set_infer(infer_apply(1)).effect({0, 4});
KILN_OP(apply_adadelta).inputs({"param", "grad", "lr", "iterations", "accumulator", "delta_accumulator"})
    .attrs(with_common({"epsilon", "rho"})).set_infer(infer_apply(2)).effect({0, 4, 5});
KILN_OP(apply_adam).inputs({"param", "grad", "lr", "iterations", "m", "v"}).attrs(with_common({"beta_1", "beta_2", "epsilon"}))
    .set_infer(infer_apply(2)).effect({0, 4, 5});
KILN_OP(apply_adamax).inputs({"param", "grad", "lr", "iterations", "m", "u"}).attrs(with_common({"beta_1", "beta_2", "epsilon"}))
    .set_infer(infer_apply(2)).effect({0, 4, 5});

// Nadam also reads the running product of momentum-schedule factors (a shared f32 scalar, last
// operand), which nadam_schedule advances once per step after every apply_nadam.
KILN_OP(apply_nadam).inputs({"param", "grad", "lr", "iterations", "m", "v", "m_schedule"})
    .attrs(with_common({"beta_1", "beta_2", "epsilon", "schedule_decay"}))
    .set_infer([](const std::vector<Type>& in, const Attrs& a) {
      infer_apply(2)({in.begin(), in.end() - 1}, a);
      require_same(in[6], scalar_f32(), "m_schedule and f32[]");
      return std::vector<Type>{};
    }).effect({0, 4, 5});
KILN_OP(nadam_schedule).inputs({"m_schedule", "iterations"}).attrs({"beta_1", "schedule_decay"})
    .set_infer([](const std::vector<Type>& in, const Attrs&) {
      require_same(in[0], scalar_f32(), "m_schedule and f32[]");
      require_same(in[1], scalar_f32(), "iterations and f32[]");
      return std::vector<Type>{};
    }).effect({0});

// increment(x) {by}: x += by, e.g. the iteration count after each step.
KILN_OP(increment).inputs({"x"}).attrs({"by"}).set_infer([](const std::vector<Type>& in, const Attrs&) {
  require_f32(in[0], "operand");
  return std::vector<Type>{};
}).effect({0});

}  // namespace kiln::ops
