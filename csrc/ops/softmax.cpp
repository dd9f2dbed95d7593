// softmax along one axis, and its backward written from the result.
#include "ops/common.h"

namespace kiln::ops {

KILN_OP(softmax).inputs({"x"}).attr_int("axis", -1).set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  require_f32(in[0], "operand");
  norm_axis(a.get_int("axis"), in[0].rank(), "softmax");
  return std::vector<Type>{in[0]};
}).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("softmax_grad", {dy[0], n.outputs[0]}, n.attrs)};
});

// dx = y * (dy - sum(dy * y, axis))
KILN_OP(softmax_grad).inputs({"dy", "y"}).attrs_like("softmax").set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  require_same(in[0], in[1], "cotangent and result");
  norm_axis(a.get_int("axis"), in[0].rank(), "softmax_grad");
  return std::vector<Type>{in[0]};
}).non_differentiable();

}  // namespace kiln::ops
