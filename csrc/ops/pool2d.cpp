// pool2d (max or average over sliding windows, channels last) and its gradient helper.
// Shape letters: x [B, H, W, C] (B may be ? or ?*k), a PH x PW window, y [B, OH, OW, C]; OH,
// OW and the padding follow window.h. Padding is never a value: max and avg see only the
// window's real positions (avg divides by their count, as TF SAME and Theano average_exc_pad).
#include "ops/common.h"
#include "ops/window.h"

namespace kiln::ops {
namespace {

// pool2d(x) {mode="max"|"avg", pool=[PH,PW], strides=pool, padding="valid"}.
std::vector<Type> infer_pool2d(const std::vector<Type>& in, const AttrReader& a) {
  const Type& x = in[0];
  std::string mode = a.get_str("mode");
  if (mode != "max" && mode != "avg") throw ValueError("mode must be \"max\" or \"avg\", got \"" + mode + "\"");
  std::vector<int64_t> pool = a.get_ints("pool");
  if (pool.size() != 2)
    throw ShapeError("pool " + ints_str(pool) + " must be [PH, PW]: expected 2 entries, got " +
                     std::to_string(pool.size()));
  if (pool[0] < 1 || pool[1] < 1) throw ShapeError("pool " + ints_str(pool) + " must be positive");
  std::array<int64_t, 2> o = window_2d(x, pool[0], pool[1], a, "pool " + ints_str(pool));
  return {Type{ir::DType::f32, {x.dims[0], o[0], o[1], x.dims[3]}}};
}

std::vector<int> grad_pool2d(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return {b.emit("pool2d_grad", {dy[0], n.inputs[0], n.outputs[0]}, n.attrs)};
}

}  // namespace

KILN_OP(pool2d).inputs({"x"}).attr_str("mode").attr_ints("pool").attr_ints("strides", WhenAbsent{"the pool"})
    .attr_str("padding", "valid").set_infer(infer_pool2d).set_grad(grad_pool2d);

// pool2d_grad(dy, x, y) {same attributes, activation="linear"} -> dx, x's type. max: each
// dy[b, oh, ow, c] goes to the first position (row-major in the window) where x equals
// y[b, oh, ow, c] (a NaN result: the first NaN); avg: dy / count to each real position of the
// window. Overlapping windows add up. With an activation (relu, sigmoid, tanh) x is that
// activation's result and dx goes on through it: <activation>_grad(dx, x), which
// passes/fuse_grad.cpp folds in so the image is rescaled while in cache.
KILN_OP(pool2d_grad).inputs({"dy", "x", "y"}).attrs_like("pool2d").attr_str("activation", "linear")
    .set_infer([](const std::vector<Type>& in, const AttrReader& a) {
      check_elementwise_activation(a);
      Type y = infer_pool2d({in[1]}, a)[0];
      for (int i : {0, 2})
        if (in[i] != y)
          throw ShapeError(std::string(i == 0 ? "cotangent " : "result y ") + in[i].str() +
                           " does not match the pool2d result " + y.str() + " of x " + in[1].str());
      return std::vector<Type>{in[1]};
    }).non_differentiable();

}  // namespace kiln::ops
