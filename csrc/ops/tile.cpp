// Ops that replicate elements: tile (whole copies of x along each dim, np.tile) and repeat
// (each element repeated along one axis, np.repeat, Keras' K.repeat_elements), with gradient
// helpers that sum the copies back. The batch dim `?` is never replicated.
#include "ops/common.h"

namespace kiln::ops {
namespace {

// tile(x) {reps}: one rep per dim; result dim i is x's dim i times reps[i].
std::vector<Type> infer_tile(const std::vector<Type>& in, const AttrReader& a) {
  const Type& x = in[0];
  require_f32(x, "operand");
  std::vector<int64_t> reps = a.get_ints("reps");
  if (static_cast<int>(reps.size()) != x.rank())
    throw ShapeError("reps " + ints_str(reps) + " must have one entry per dim of " + x.str() + ": expected " +
                     std::to_string(x.rank()) + ", got " + std::to_string(reps.size()));
  Type t = x;
  for (int i = 0; i < x.rank(); ++i) {
    if (reps[i] < 0) throw ShapeError("reps " + ints_str(reps) + " must not be negative");
    if (ir::is_batch(x.dims[i])) {
      if (reps[i] != 1)
        throw ShapeError("reps " + ints_str(reps) + " must be 1 for the batch dim ? (axis " + std::to_string(i) +
                         ") of " + x.str() + ", got " + std::to_string(reps[i]));
      continue;
    }
    t.dims[i] = mul_dims(x.dims[i], reps[i]);
  }
  return {t};
}

// repeat(x) {axis, repeats}: x [.., A, ..] -> [.., A*repeats, ..], element a copied to
// positions a*repeats .. a*repeats + repeats-1.
std::vector<Type> infer_repeat(const std::vector<Type>& in, const AttrReader& a) {
  const Type& x = in[0];
  require_f32(x, "operand");
  int ax = norm_axis(a.get_int("axis"), x.rank(), "repeat");
  int64_t r = a.get_int("repeats");
  if (r < 0) throw ShapeError("repeats must be >= 0, got " + std::to_string(r));
  Type t = x;
  if (ir::is_batch(x.dims[ax])) {
    if (r != 1)
      throw ShapeError("axis " + std::to_string(ax) + " of " + x.str() +
                       " is the batch dim ?, which cannot be repeated: expected repeats=1, got " + std::to_string(r));
    return {t};
  }
  t.dims[ax] = mul_dims(x.dims[ax], r);
  return {t};
}

}  // namespace

KILN_OP(tile).inputs({"x"}).attr_ints("reps").set_infer(infer_tile).set_grad(grad_by("tile_grad"));
// tile_grad(dy, x) {reps}: the sum of dy's tiles, x's type.
KILN_OP(tile_grad).inputs({"dy", "x"}).attrs_like("tile").set_infer(infer_grad_of(infer_tile, "tiling")).non_differentiable();

KILN_OP(repeat).inputs({"x"}).attr_int("axis").attr_int("repeats").set_infer(infer_repeat).set_grad(grad_by("repeat_grad"));
// repeat_grad(dy, x) {axis, repeats}: each run of `repeats` copies summed, x's type.
KILN_OP(repeat_grad).inputs({"dy", "x"}).attrs_like("repeat").set_infer(infer_grad_of(infer_repeat, "repeat"))
    .non_differentiable();

}  // namespace kiln::ops
