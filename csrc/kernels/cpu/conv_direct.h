// conv2d's forward for few input channels, computed directly: each output position's F results
// stay in registers over its KH*KW*C taps, each tap one x element broadcast against one row of
// W. Where the patch is short (one or three input channels) im2col + GEMM writes and rereads a
// column matrix for a GEMM of inner dimension K = 9 or 27, which runs far from the multipliers'
// peak; this writes y once, in a pass bound by that write. (A 1x1 kernel with stride 1 keeps
// its GEMM: x is its column matrix already.)
#pragma once

#include <cstdint>

#include "ops/activations.h"

namespace kiln::cpu {

struct DirectConv {
  int64_t B, H, W, C, KH, KW, F, OH, OW, SH, SW, top, left;
};

// Whether direct_conv takes the shape: F a multiple of 16 up to 64, patches of at most
// kDirectMaxPatch elements.
constexpr int64_t kDirectMaxPatch = 32;
bool direct_conv_fits(const DirectConv& g);

// y [B, OH, OW, F] = act(x [B, H, W, C] correlated with w [KH, KW, C, F] + bias), bias may be
// null. Rows (b, oh) go over the threads; each result is summed in the same order on any count.
void direct_conv(const DirectConv& g, const float* x, const float* w, const float* bias, ops::Activation act,
                 float* y);

}  // namespace kiln::cpu
