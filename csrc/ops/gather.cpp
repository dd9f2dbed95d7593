// Ops indexed by data: gather (rows of a table, e.g. an embedding lookup), its scatter-add
// gradient, and one_hot. Indices are f32 holding integers (as argmax returns them); the kernels
// reject a non-integer or out-of-range index with a ValueError naming it.
// Shape letters: N rows of the table, D... the dims of one row, I... the dims of the indices.
#include "ops/common.h"

namespace kiln::ops {
namespace {

// gather(params, indices): params [N, D...] (no batch dim), indices [I...] -> [I..., D...].
std::vector<Type> infer_gather(const std::vector<Type>& in, const AttrReader&) {
  const Type &params = in[0], &indices = in[1];
  require_f32(params, "params");
  require_f32(indices, "indices");
  if (params.rank() < 1) throw ShapeError("params must be a table [N, ...] of rank >= 1, got " + params.str());
  for (int64_t d : params.dims)
    if (ir::is_batch(d))
      throw ShapeError("params must be a table [N, ...] with no batch dim ? (such as an embedding matrix), got " +
                       params.str());
  Type t = indices;
  t.dims.insert(t.dims.end(), params.dims.begin() + 1, params.dims.end());
  return {t};
}

}  // namespace

KILN_OP(gather).inputs({"params", "indices"}).set_infer(infer_gather).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      return std::vector<int>{b.emit("gather_grad", {dy[0], n.inputs[1], n.inputs[0]}), -1};
    });

// gather_grad(dy, indices, params): dy [I..., D...] scatter-added into zeros of params' type
// (a row gathered twice gets both cotangents).
KILN_OP(gather_grad).inputs({"dy", "indices", "params"}).set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  Type y = infer_gather({in[2], in[1]}, a)[0];
  if (in[0] != y)
    throw ShapeError("cotangent " + in[0].str() + " does not match the gather " + y.str() + " of params " +
                     in[2].str() + " by indices " + in[1].str());
  return std::vector<Type>{in[2]};
}).non_differentiable();

// one_hot(indices) {depth}: [I...] -> [I..., depth], 1 at each index and 0 elsewhere.
KILN_OP(one_hot).inputs({"indices"}).attr_int("depth").set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  require_f32(in[0], "indices");
  int64_t depth = a.get_int("depth");
  if (depth < 1) throw ShapeError("depth must be >= 1, got " + std::to_string(depth));
  Type t = in[0];
  t.dims.push_back(depth);
  return std::vector<Type>{t};
}).non_differentiable();

}  // namespace kiln::ops
