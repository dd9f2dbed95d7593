// Elementwise ops: unary math, activations, binary arithmetic with NumPy broadcasting,
// comparisons, constants, and the broadcast/unbroadcast pair used by gradients.
#include <cmath>

#include "ops/common.h"

namespace kiln::ops {
namespace {

std::vector<Type> infer_unary(const std::vector<Type>& in, const AttrReader&) {
  require_f32(in[0], "operand");
  return {in[0]};
}

std::vector<Type> infer_binary(const std::vector<Type>& in, const AttrReader&) {
  require_f32(in[0], "left operand");
  require_f32(in[1], "right operand");
  return {broadcast(in[0], in[1], "")};
}

// f(dy, z) -> same type as dy; z is the forward result or operand the derivative needs.
std::vector<Type> infer_grad_pair(const std::vector<Type>& in, const AttrReader&) {
  require_same(in[0], in[1], "cotangent and saved value");
  return {in[0]};
}

// Unary op whose derivative is written from its result y.
Schema& unary_by_output(Schema& s, const char* grad_op) {
  std::string g = grad_op;
  return s.inputs({"x"}).set_infer(infer_unary).set_grad([g](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
    return std::vector<int>{b.emit(g, {dy[0], n.outputs[0]}, n.attrs)};
  });
}

// Unary op whose derivative is written from its operand x.
Schema& unary_by_input(Schema& s, const char* grad_op) {
  std::string g = grad_op;
  return s.inputs({"x"}).set_infer(infer_unary).set_grad([g](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
    return std::vector<int>{b.emit(g, {dy[0], n.inputs[0]}, n.attrs)};
  });
}

}  // namespace

KILN_OP(identity).inputs({"x"}).set_infer(same_as(0)).set_grad([](GradBuilder&, const ir::Node&, const std::vector<int>& dy) {
  return std::vector<int>{dy[0]};
});

KILN_OP(neg).inputs({"x"}).set_infer(infer_unary).set_grad([](GradBuilder& b, const ir::Node&, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("neg", {dy[0]})};
});

KILN_OP(exp).inputs({"x"}).set_infer(infer_unary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("mul", {dy[0], n.outputs[0]})};
});

KILN_OP(log).inputs({"x"}).set_infer(infer_unary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("div", {dy[0], n.inputs[0]})};
});

// d sin(x) = dy cos(x); d cos(x) = -dy sin(x)
KILN_OP(sin).inputs({"x"}).set_infer(infer_unary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("mul", {dy[0], b.emit("cos", {n.inputs[0]})})};
});

KILN_OP(cos).inputs({"x"}).set_infer(infer_unary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("neg", {b.emit("mul", {dy[0], b.emit("sin", {n.inputs[0]})})})};
});

KILN_OP(sqrt).inputs({"x"}).set_infer(infer_unary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  // d sqrt(x) = dy / (2 sqrt(x))
  int two_y = b.emit("mul", {n.outputs[0], b.scalar(2.0)});
  return std::vector<int>{b.emit("div", {dy[0], two_y})};
});

KILN_OP(square).inputs({"x"}).set_infer(infer_unary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  int two_x = b.emit("mul", {n.inputs[0], b.scalar(2.0)});
  return std::vector<int>{b.emit("mul", {dy[0], two_x})};
});

KILN_OP(abs).inputs({"x"}).set_infer(infer_unary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("mul", {dy[0], b.emit("sign", {n.inputs[0]})})};
});

KILN_OP(sign).inputs({"x"}).set_infer(infer_unary).non_differentiable();
KILN_OP(round).inputs({"x"}).set_infer(infer_unary).non_differentiable();

KILN_OP(clip).inputs({"x"}).attr_float("min", -INFINITY).attr_float("max", INFINITY).set_infer(infer_unary).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      return std::vector<int>{b.emit("clip_grad", {dy[0], n.inputs[0]}, n.attrs)};
    });
KILN_OP(clip_grad).inputs({"dy", "x"}).attrs_like("clip").set_infer(infer_grad_pair).non_differentiable();

[[maybe_unused]] static Schema& relu_ = unary_by_output(KILN_DEF(relu), "relu_grad");
KILN_OP(relu_grad).inputs({"dy", "y"}).set_infer(infer_grad_pair).non_differentiable();
[[maybe_unused]] static Schema& sigmoid_ = unary_by_output(KILN_DEF(sigmoid), "sigmoid_grad");
KILN_OP(sigmoid_grad).inputs({"dy", "y"}).set_infer(infer_grad_pair).non_differentiable();
[[maybe_unused]] static Schema& tanh_ = unary_by_output(KILN_DEF(tanh), "tanh_grad");
KILN_OP(tanh_grad).inputs({"dy", "y"}).set_infer(infer_grad_pair).non_differentiable();
[[maybe_unused]] static Schema& elu_ = unary_by_output(KILN_DEF(elu).attr_float("alpha", 1.0), "elu_grad");
KILN_OP(elu_grad).inputs({"dy", "y"}).attrs_like("elu").set_infer(infer_grad_pair).non_differentiable();
[[maybe_unused]] static Schema& softplus_ = unary_by_input(KILN_DEF(softplus), "softplus_grad");
KILN_OP(softplus_grad).inputs({"dy", "x"}).set_infer(infer_grad_pair).non_differentiable();
[[maybe_unused]] static Schema& softsign_ = unary_by_input(KILN_DEF(softsign), "softsign_grad");
KILN_OP(softsign_grad).inputs({"dy", "x"}).set_infer(infer_grad_pair).non_differentiable();
[[maybe_unused]] static Schema& hard_sigmoid_ = unary_by_input(KILN_DEF(hard_sigmoid), "hard_sigmoid_grad");
KILN_OP(hard_sigmoid_grad).inputs({"dy", "x"}).set_infer(infer_grad_pair).non_differentiable();

KILN_OP(add).inputs({"a", "b"}).set_infer(infer_binary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.unbroadcast(dy[0], n.inputs[0]), b.unbroadcast(dy[0], n.inputs[1])};
});

KILN_OP(sub).inputs({"a", "b"}).set_infer(infer_binary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.unbroadcast(dy[0], n.inputs[0]), b.unbroadcast(b.emit("neg", {dy[0]}), n.inputs[1])};
});

KILN_OP(mul).inputs({"a", "b"}).set_infer(infer_binary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  int x = n.inputs[0], y = n.inputs[1];
  return std::vector<int>{b.unbroadcast(b.emit("mul", {dy[0], y}), x), b.unbroadcast(b.emit("mul", {dy[0], x}), y)};
});

KILN_OP(div).inputs({"a", "b"}).set_infer(infer_binary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  // d(a/b) = dy/b, -dy*a/b^2 = -dy*out/b
  int x = n.inputs[0], y = n.inputs[1];
  int da = b.emit("div", {dy[0], y});
  int db = b.emit("neg", {b.emit("div", {b.emit("mul", {dy[0], n.outputs[0]}), y})});
  return std::vector<int>{b.unbroadcast(da, x), b.unbroadcast(db, y)};
});

// pow(a, b) = a^b. d/da = b * a^(b-1); d/db = a^b * log(a), taken as 0 where a <= 0 (pow_log),
// as TensorFlow does: there log(a) is -inf or NaN, and a trainable exponent would get NaN from a
// single zero in the base (where the true derivative, for b > 0, is 0).
KILN_OP(pow).inputs({"a", "b"}).set_infer(infer_binary).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  int x = n.inputs[0], y = n.inputs[1];
  int x_pow = b.emit("pow", {x, b.emit("sub", {y, b.scalar(1.0)})});
  int da = b.emit("mul", {dy[0], b.emit("mul", {y, x_pow})});
  int db = b.emit("mul", {dy[0], b.emit("mul", {n.outputs[0], b.emit("pow_log", {x})})});
  return std::vector<int>{b.unbroadcast(da, x), b.unbroadcast(db, y)};
});
// pow_log(x): log(x) where x > 0, else 0.
KILN_OP(pow_log).inputs({"x"}).set_infer(infer_unary).non_differentiable();

// maximum/minimum: the cotangent goes to the operand that was selected (ties to the left).
static std::vector<int> grad_select(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy, const char* cmp) {
  int x = n.inputs[0], y = n.inputs[1];
  int pick_x = b.emit(cmp, {x, y});
  int one = b.scalar(1.0);
  int pick_y = b.emit("sub", {one, pick_x});
  return {b.unbroadcast(b.emit("mul", {dy[0], pick_x}), x), b.unbroadcast(b.emit("mul", {dy[0], pick_y}), y)};
}
KILN_OP(maximum).inputs({"a", "b"}).set_infer(infer_binary).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) { return grad_select(b, n, dy, "greater_equal"); });
KILN_OP(minimum).inputs({"a", "b"}).set_infer(infer_binary).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) { return grad_select(b, n, dy, "less_equal"); });

// Comparisons give 1.0 where true and 0.0 elsewhere (f32), as Keras metrics need.
KILN_OP(equal).inputs({"a", "b"}).set_infer(infer_binary).non_differentiable();
KILN_OP(not_equal).inputs({"a", "b"}).set_infer(infer_binary).non_differentiable();
KILN_OP(greater).inputs({"a", "b"}).set_infer(infer_binary).non_differentiable();
KILN_OP(greater_equal).inputs({"a", "b"}).set_infer(infer_binary).non_differentiable();
KILN_OP(less).inputs({"a", "b"}).set_infer(infer_binary).non_differentiable();
KILN_OP(less_equal).inputs({"a", "b"}).set_infer(infer_binary).non_differentiable();

KILN_OP(constant).attr_float("value").set_infer([](const std::vector<Type>&, const AttrReader&) {
  return std::vector<Type>{scalar_f32()};
}).non_differentiable();

// sum_like(x, ref): sums x over the axes along which ref was broadcast, giving ref's type.
KILN_OP(sum_like).inputs({"x", "ref"}).set_infer([](const std::vector<Type>& in, const AttrReader&) {
  Type t = broadcast(in[0], in[1], "sum_like");
  if (t.dims != in[0].dims)
    throw ShapeError("ref " + in[1].str() + " does not broadcast to x " + in[0].str());
  return std::vector<Type>{in[1]};
}).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("broadcast_like", {dy[0], n.inputs[0]}), -1};
});

// broadcast_like(x, ref) {axes}: x broadcast to ref's type. With `axes`, x is ref with those
// axes removed (the result of a reduction without keepdims) and they are re-inserted first.
KILN_OP(broadcast_like).inputs({"x", "ref"}).attr_ints("axes", WhenAbsent{"x broadcasts to ref as it is"})
    .set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  Type x = in[0];
  if (a.has("axes")) {
    std::vector<int64_t> axes = a.get_ints("axes");
    int r = in[1].rank();
    if (x.rank() + static_cast<int>(axes.size()) != r)
      throw ShapeError("x " + x.str() + " plus " + std::to_string(axes.size()) + " axes does not have the rank of ref " + in[1].str());
    std::vector<bool> is_axis(r, false);
    for (int64_t ax : axes) {
      int i = norm_axis(ax, r, "broadcast_like");
      if (is_axis[i]) throw ShapeError("axis " + std::to_string(ax) + " is given twice in axes");
      is_axis[i] = true;
    }
    std::vector<int64_t> dims;
    int k = 0;
    for (int i = 0; i < r; ++i) dims.push_back(is_axis[i] ? 1 : x.dims[k++]);
    x.dims = dims;
  }
  Type t = broadcast(x, in[1], "broadcast_like");
  if (t.dims != in[1].dims) throw ShapeError("x " + in[0].str() + " does not broadcast to ref " + in[1].str());
  return std::vector<Type>{in[1]};
}).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  AttrReader a = attrs_of(n);
  if (!a.has("axes")) return std::vector<int>{b.emit("sum_like", {dy[0], n.inputs[0]}), -1};
  return std::vector<int>{b.emit("reduce_sum", {dy[0]}, {{"axes", a.get_ints("axes")}, {"keepdims", int64_t(0)}}), -1};
});

}  // namespace kiln::ops
