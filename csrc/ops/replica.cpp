// Cross-replica ops of data-parallel training (docs/distributed.md). Alone they are copies.
#include "ops/common.h"

namespace kiln::ops {

// replica_mean(x1, ..., xk) -> (y1, ..., yk): each operand's mean over the ranks of the job,
// weighted by the rows each rank's run contributes (ExecContext::rows), so that a statistic or a
// gradient averaged over a rank's rows becomes the one averaged over the whole batch; all k in
// one collective. The train graph puts one over the gradients (passes::build_train, replicated)
// and BatchNormalization's batch statistics go through one (synchronized batch norm). Its
// gradient is the same weighted mean of the cotangents: a rank's loss is the mean over its rows,
// and the cotangent of a global mean is the rows-weighted sum of every rank's.
KILN_OP(replica_mean).inputs({"x"}).variadic(1)
    .set_infer([](const std::vector<Type>& in, const AttrReader&) {
      for (const Type& t : in) {
        require_f32(t, "operand");
        for (int64_t d : t.dims)
          if (d < 0) throw ShapeError("replica_mean averages values of fixed shape (statistics, gradients), got " + t.str());
      }
      return in;
    })
    .set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      std::vector<int> have, dx(n.inputs.size(), -1);
      for (int d : dy)
        if (d >= 0) have.push_back(d);
      if (have.empty()) return dx;
      std::vector<int> out = b.emit_multi("replica_mean", have);
      for (size_t i = 0, k = 0; i < dy.size(); ++i)
        if (dy[i] >= 0) dx[i] = out[k++];
      return dx;
    })
    .sparse_cotangents();

}  // namespace kiln::ops
