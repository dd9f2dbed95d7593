// matmul, bias_add and the fused dense (matmul + bias + activation) the fusion pass makes.
// Shape letters: M rows of the left operand (all leading dims flattened), K contracted, N out.
#include <algorithm>

#include "ops/activations.h"
#include "ops/common.h"

namespace kiln::ops {

// matmul(a, b):                 a [..., K], b [K, N]        -> [..., N]
// matmul(a, b) {transpose_b=1}: a [..., K], b [N, K]        -> [..., N]
// matmul(a, b) {transpose_a=1}: a [P..., M], b [P..., N]    -> [M, N]   (sum over all of P)
static Type matmul_type(const Type& x, const Type& w, bool ta, bool tb) {
  require_f32(x, "a");
  require_f32(w, "b");
  if (ta && tb) throw ShapeError("transpose_a and transpose_b together are not supported");
  if (x.rank() < 1 || w.rank() < 1) throw ShapeError("operands must have rank >= 1");
  if (ta) {
    if (x.rank() != w.rank() || !std::equal(x.dims.begin(), x.dims.end() - 1, w.dims.begin()))
      throw ShapeError("with transpose_a, a " + x.str() + " and b " + w.str() + " must agree on all but the last dim");
    return Type{ir::DType::f32, {x.dims.back(), w.dims.back()}};
  }
  if (x.rank() < 2) throw ShapeError("a must have rank >= 2, got " + x.str());
  if (w.rank() != 2) throw ShapeError("b must be a matrix, got " + w.str());
  int64_t K = x.dims.back();
  int64_t wk = tb ? w.dims[1] : w.dims[0], N = tb ? w.dims[0] : w.dims[1];
  if (K != wk)
    throw ShapeError("contracted dims differ: a " + x.str() + " has K=" + std::to_string(K) + ", b " + w.str() +
                     " has K=" + std::to_string(wk));
  Type t = x;
  t.dims.back() = N;
  return t;
}

static std::vector<Type> infer_matmul(const std::vector<Type>& in, const AttrReader& a) {
  return {matmul_type(in[0], in[1], a.get_bool("transpose_a"), a.get_bool("transpose_b"))};
}

static std::vector<int> grad_matmul(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  int x = n.inputs[0], w = n.inputs[1], d = dy[0];
  using A = ir::Attrs;
  AttrReader a = attrs_of(n);
  if (a.get_bool("transpose_a"))
    return {b.emit("matmul", {w, d}, A{{"transpose_b", int64_t(1)}}), b.emit("matmul", {x, d})};
  if (a.get_bool("transpose_b"))
    return {b.emit("matmul", {d, w}), b.emit("matmul", {d, x}, A{{"transpose_a", int64_t(1)}})};
  return {b.emit("matmul", {d, w}, A{{"transpose_b", int64_t(1)}}), b.emit("matmul", {x, d}, A{{"transpose_a", int64_t(1)}})};
}

KILN_OP(matmul).inputs({"a", "b"}).attr_bool("transpose_a", false).attr_bool("transpose_b", false)
    .set_infer(infer_matmul).set_grad(grad_matmul);

static void check_bias(const Type& x, const Type& b) {
  require_f32(b, "bias");
  if (b.rank() != 1 || x.rank() < 1 || b.dims[0] != x.dims.back())
    throw ShapeError("bias " + b.str() + " does not match the last dim of " + x.str());
}

KILN_OP(bias_add).inputs({"x", "bias"}).set_infer([](const std::vector<Type>& in, const AttrReader&) {
  require_f32(in[0], "x");
  check_bias(in[0], in[1]);
  return std::vector<Type>{in[0]};
}).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{dy[0], b.emit("sum_like", {dy[0], n.inputs[1]})};
});

// dense(x, W[, b]) {activation="linear"}: act(x @ W + b), x [..., K], W [K, N], with act one of
// ops/activations.h's list.
KILN_OP(dense).inputs({"x", "W", "b"}, 1).attr_str("activation", "linear").set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  std::vector<Type> t = {matmul_type(in[0], in[1], false, false)};
  if (in.size() == 3) check_bias(t[0], in[2]);
  std::string act = a.get_str("activation");
  if (!dense_activation(act))
    throw ValueError("unsupported activation '" + act + "' (accepted: " + dense_activation_names() + ")");
  return t;
}).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  std::string act = attrs_of(n).get_str("activation");
  int dz = dy[0];
  if (act == "softmax") dz = b.emit("softmax_grad", {dz, n.outputs[0]}, {{"axis", int64_t(-1)}});
  else if (act != "linear") dz = b.emit(act + "_grad", {dz, n.outputs[0]});
  int x = n.inputs[0], w = n.inputs[1];
  std::vector<int> g = {b.emit("matmul", {dz, w}, {{"transpose_b", int64_t(1)}}),
                        b.emit("matmul", {x, dz}, {{"transpose_a", int64_t(1)}})};
  if (n.inputs.size() == 3) g.push_back(b.emit("sum_like", {dz, n.inputs[2]}));
  return g;
});

}  // namespace kiln::ops
