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

// The filter gradient the same way round: dw [KH, KW, C, F] = the sum over output positions of
// each tap's x element times dy's row, all KH*KW*C taps' 16 columns in registers over an image's
// positions; one partial sum per image (over the threads), added in image order. For patches
// of at most kDirectMaxGradPatch elements and F a multiple of 16.
constexpr int64_t kDirectMaxGradPatch = 28;
bool direct_grad_filter_fits(const DirectConv& g);
void direct_conv_grad_filter(const DirectConv& g, const float* x, const float* dy, float* dw);

}  // namespace kiln::cpu
