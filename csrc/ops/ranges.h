// Which elements two attribute rules select, shared by the schemas that check them and the CPU
// kernels that walk them, so that an absent attribute means the same to both:
//   reduction_axes: the axes a reduce_* op covers (`axes`; absent: every axis), in reduce.cpp.
//   slice_range:    the part of one axis slice and slice_grad take (`axis`, `begin` default 0,
//                   `end`; absent: the size of the axis), in shape.cpp.
// Kernels call them on concrete dims, where the schema's checks pass again.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/attrs.h"

namespace kiln::ops {

// Normalized (0..rank-1), sorted, without repeats; ShapeError for an axis out of range or twice.
std::vector<int64_t> reduction_axes(int rank, const AttrReader& a);

// begin..end-1 along `axis`, normalized: negative begin/end count from the end, as in Python,
// and then 0 <= begin <= end <= dim must hold (no clamping), else ShapeError.
struct SliceRange {
  int axis;
  int64_t begin, end;
};
SliceRange slice_range(const ir::Type& x, const AttrReader& a);

}  // namespace kiln::ops
