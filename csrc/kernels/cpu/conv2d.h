// Which method conv2d's CPU kernels pick for a shape: a test and benchmark aid.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace kiln::cpu {

// "winograd F(4x4,3x3)" (or another F(m x m, r x r)), "direct" (conv2d with a short patch:
// conv_direct.h), "gemm" (1x1, stride 1) or "im2col", for
// node `n` (conv2d, conv2d_grad_input or conv2d_grad_filter, with its attributes) on an x of
// shape `x` [B, H, W, C] and a W of shape `w` [KH, KW, C, F].
std::string conv2d_method(const ir::Node& n, const std::vector<int64_t>& x, const std::vector<int64_t>& w);

}  // namespace kiln::cpu
