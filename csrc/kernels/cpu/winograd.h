// Winograd minimal filtering for stride-1 convolutions (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015): an r x r correlation computed m x m outputs at a time
// from a = m + r - 1 square input tiles, with a*a multiplies per tile and channel pair instead of
// m*m*r*r. Channels-last, as conv2d's kernels are; the a*a products over the channels are a*a
// GEMMs over a block of tiles, and the transforms run vectorized along the channels.
//
//   y tile = AT [ (G w G^T) (.) (BT d B) ] A            forward, summed over input channels
//   dx      = the forward of dy with w turned 180 degrees and its C and F swapped
//   dw      = G^T [ sum over tiles of (BT d B) (.) (A dy AT) ] G
#pragma once

#include <cstdint>
#include <vector>

#include "ops/activations.h"

namespace kiln::cpu::winograd {

// F(m x m, r x r): AT [m][a], BT [a][a], G [a][r], row-major.
struct Transform {
  int m = 0, r = 0, a = 0;
  std::vector<float> AT, BT, G;
};

// The transform for an r x r kernel, or nullptr when none is set up for r.
const Transform* for_kernel(int64_t r);

// A stride-1 correlation y[b, oh, ow, f] = sum over kh, kw, c of
// x[b, oh + kh - top, ow + kw - left, c] * w[kh, kw, c, f], x taken as zero outside [H, W].
struct Conv {
  int64_t B, H, W, C, F, OH, OW, top, left;
};

// Floats of the transformed filter U [a*a][C][F].
int64_t filter_size(const Transform& t, int64_t C, int64_t F);
// U from w [r][r][C][F]; with `turn`, from w turned 180 degrees with C and F swapped (the data
// gradient's filter: U is then [a*a][F][C]).
void transform_filter(const Transform& t, const float* w, int64_t C, int64_t F, bool turn, float* U);
// y [B, OH, OW, F] = the correlation of x with the filter transformed into U, then the bias (may be
// null) and the activation; with a pool of ph x pw (both dividing m), then max-pooled over
// windows tiling it: y is [B, OH / ph, OW / pw, F]. With `through` (y's shape, no pool), each
// row of y then goes on through `through_act`'s derivative (not softmax: epilogue.h's
// elementwise_activation), y = <through_act>_grad(y, through)
// (conv2d_grad_input {activation}: the data gradient taken through the activation of x).
void forward(const Transform& t, const Conv& g, const float* x, const float* U, const float* bias, ops::Activation act,
             float* y, int ph = 1, int pw = 1, const float* through = nullptr,
             ops::Activation through_act = ops::Activation::linear);
// dw [r][r][C][F] = d(sum y * dy)/dw for y = forward(x, w).
void grad_filter(const Transform& t, const Conv& g, const float* x, const float* dy, float* dw);

}  // namespace kiln::cpu::winograd
