// Max pooling over windows that tile the input (stride = window, valid), for the kernels that
// pool their own results (conv2d {pool}): pool2d's rule, the first maximum in row-major window
// order, a NaN winning.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// y [B, H / PH, W / PW, C] from x [B, H, W, C]; rows and columns past the last whole window are
// dropped. Runs on the calling thread.
void max_pool_tiles(const float* x, int64_t B, int64_t H, int64_t W, int64_t C, int64_t PH, int64_t PW, float* y);

// One window: out[:C] = the max over rows [h0, h0 + PH) and columns [w0, w0 + PW) of the
// image `img` (W columns of C floats each).
void max_pool_window(const float* img, int64_t W, int64_t C, int64_t h0, int64_t w0, int64_t PH, int64_t PW, float* out);

}  // namespace kiln::cpu
