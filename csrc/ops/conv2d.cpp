// conv2d, channels last, and its two gradient helpers. Cross-correlation, as TensorFlow
// computes it (no kernel flip; Theano's flipped convolution is a Python-side kernel flip).
// Shape letters: x [B, H, W, C] (B may be ? or ?*k), W [KH, KW, C, F], y [B, OH, OW, F];
// OH, OW and the padding follow window.h (valid / same, TensorFlow's split).
#include "ops/activations.h"
#include "ops/common.h"
#include "ops/window.h"

namespace kiln::ops {
namespace {

// conv2d(x, W [, b]) {strides=[1,1], padding="valid", activation="linear"}:
//   y[b, oh, ow, f] = act(sum over kh, kw, c of x[b, oh*SH - top + kh, ow*SW - left + kw, c] * W[kh, kw, c, f]
//                         + b[f])
// with x read as 0 outside [0, H) x [0, W). The bias and activation (dense's list) are the
// epilogue the fusion pass folds in (passes/fuse_dense.cpp); written by hand they work the same.
// With pool=[PH, PW] (default [1, 1]: none), that result is then max-pooled over PH x PW windows
// with stride PH x PW, valid: y is [B, OH / PH, OW / PW, F]. The pass folds a max pool2d into a
// conv2d whose result nothing else reads, so only graphs without the backward get it (predict);
// conv2d has no gradient with a pool.
std::vector<Type> infer_conv2d(const std::vector<Type>& in, const AttrReader& a) {
  const Type &x = in[0], &w = in[1];
  require_f32(x, "x");
  require_f32(w, "W");
  if (x.rank() != 4) throw ShapeError("x must be [B, H, W, C] (rank 4, channels last), got " + x.str());
  if (w.rank() != 4) throw ShapeError("W must be [KH, KW, C, F] (rank 4), got " + w.str());
  for (int64_t d : w.dims)
    if (ir::is_batch(d)) throw ShapeError("W " + w.str() + " must not carry the batch dim ?");
  if (x.dims[3] != w.dims[2])
    throw ShapeError("channels differ: x " + x.str() + " has C=" + std::to_string(x.dims[3]) + ", W " + w.str() +
                     " (KH, KW, C, F) has C=" + std::to_string(w.dims[2]));
  if (w.dims[0] < 1 || w.dims[1] < 1) throw ShapeError("the kernel of W " + w.str() + " must be at least 1x1");
  std::string kernel = "the " + std::to_string(w.dims[0]) + "x" + std::to_string(w.dims[1]) + " kernel of W " + w.str();
  std::array<int64_t, 2> o = window_2d(x, w.dims[0], w.dims[1], a, kernel);
  Type y{ir::DType::f32, {x.dims[0], o[0], o[1], w.dims[3]}};
  if (in.size() == 3 && in[2] != Type{ir::DType::f32, {w.dims[3]}})
    throw ShapeError("b must be [F] = [" + std::to_string(w.dims[3]) + "] for W " + w.str() + ", got " + in[2].str());
  return {y};
}

// conv2d's own rule: the geometry above, and an activation from dense's list.
std::vector<Type> infer_conv2d_op(const std::vector<Type>& in, const AttrReader& a) {
  std::string act = a.get_str("activation");
  if (!dense_activation(act))
    throw ValueError("unsupported activation '" + act + "' (accepted: " + dense_activation_names() + ")");
  Type y = infer_conv2d(in, a)[0];
  std::vector<int64_t> p = a.get_ints("pool");
  if (p.size() != 2 || p[0] < 1 || p[1] < 1) throw ValueError("pool must be two window sizes of at least 1");
  if (p[0] == 1 && p[1] == 1) return {y};
  for (int k = 0; k < 2; ++k) {
    int64_t d = y.dims[1 + k];
    if (d < 0) throw ShapeError("a fused pool needs static image sizes, got " + y.str());
    if (p[k] > d)
      throw ShapeError("the " + std::to_string(p[0]) + "x" + std::to_string(p[1]) + " pool is larger than the result " +
                       y.str() + " it pools");
    y.dims[1 + k] = d / p[k];
  }
  return {y};
}

// The helpers take the forward operands as well as dy: dy must be exactly conv2d(x, W)'s type.
// (Their attributes are conv2d's geometry: the fused epilogue is differentiated before them.)
void check_cotangent(const Type& dy, const Type& x, const Type& w, const AttrReader& a) {
  Type y = infer_conv2d({x, w}, a)[0];
  if (dy != y)
    throw ShapeError("cotangent " + dy.str() + " does not match the conv2d result " + y.str() + " of x " + x.str() +
                     " and W " + w.str());
}

std::vector<int> grad_conv2d(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  int x = n.inputs[0], w = n.inputs[1];
  std::vector<int64_t> pool = attrs_of(n).get_ints("pool");
  if (pool[0] != 1 || pool[1] != 1)
    throw ValueError("conv2d with a fused pool has no gradient: the fusion is for graphs without a backward pass");
  std::string act = attrs_of(n).get_str("activation");
  int dz = dy[0];  // through the epilogue first: the activation (from y), then the bias
  if (act == "softmax") dz = b.emit("softmax_grad", {dz, n.outputs[0]}, {{"axis", int64_t(-1)}});
  else if (act != "linear") dz = b.emit(act + "_grad", {dz, n.outputs[0]});
  ir::Attrs geometry = n.attrs;
  geometry.erase("activation");
  geometry.erase("pool");
  std::vector<int> g = {b.emit("conv2d_grad_input", {dz, w, x}, geometry), b.emit("conv2d_grad_filter", {dz, x, w}, geometry)};
  if (n.inputs.size() == 3) g.push_back(b.emit("sum_like", {dz, n.inputs[2]}));
  return g;
}

}  // namespace

KILN_OP(conv2d).inputs({"x", "W", "b"}, 1).attr_ints("strides", {1, 1}).attr_str("padding", "valid")
    .attr_str("activation", "linear").attr_ints("pool", {1, 1}).set_infer(infer_conv2d_op).set_grad(grad_conv2d);

// conv2d_grad_input(dy, W, x) {strides, padding, activation="linear"} -> dx, x's type: dy
// correlated back through W (each dy[b, oh, ow, :] @ W^T scattered over its window, padding
// dropped). With an activation (relu, sigmoid, tanh) x is that activation's result and dx goes
// on through it, <activation>_grad(dx, x), as passes/fuse_grad.cpp folds in.
KILN_OP(conv2d_grad_input).inputs({"dy", "W", "x"}).attrs_like("conv2d", {"strides", "padding", "activation"})
    .set_infer([](const std::vector<Type>& in, const AttrReader& a) {
      check_elementwise_activation(a);
      check_cotangent(in[0], in[2], in[1], a);
      return std::vector<Type>{in[2]};
    }).non_differentiable();

// conv2d_grad_filter(dy, x, W) {strides, padding} -> dW, W's type: the sum over b, oh, ow of
// each window of x (zero padded) times dy[b, oh, ow, :].
KILN_OP(conv2d_grad_filter).inputs({"dy", "x", "W"}).attrs_like("conv2d", {"strides", "padding"})
    .set_infer([](const std::vector<Type>& in, const AttrReader& a) {
      check_cotangent(in[0], in[1], in[2], a);
      return std::vector<Type>{in[2]};
    }).non_differentiable();

}  // namespace kiln::ops
