// pool2d (max / avg) and pool2d_grad. Shape letters: x [B, H, W, C], a PH x PW window moved by
// [SH, SW], y and dy [B, OH, OW, C]. Each window is clipped to x (padding is never a value), so
// max sees only real positions and avg divides by their count. Channels are the inner loop:
// contiguous in NHWC, so every step works on C floats at once.
//
// max keeps the first maximum in row-major window order (a later value must be strictly
// larger), except that a NaN wins and stays, as NumPy's max. The gradient routes dy to the first
// position where x equals y (the first NaN for a NaN result), which is the forward's choice.
// Overlapping windows (stride < pool) add into one dx element, so the backward splits the work
// by image (each thread owns whole images of dx); the forward by output row.
#include <algorithm>
#include <vector>

#include "kernels/cpu/epilogue.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/pool2d.h"
#include "kernels/cpu/workspace.h"
#include "ops/window.h"

namespace kiln::cpu {
namespace {

struct PoolGeometry {
  int64_t B, H, W, C, PH, PW, SH, SW, OH, OW, top, left;
  bool max;
  // Rows [h0, h1) and columns [w0, w1) of x in window (oh, ow).
  void window(int64_t oh, int64_t ow, int64_t* h0, int64_t* h1, int64_t* w0, int64_t* w1) const {
    int64_t h = oh * SH - top, w = ow * SW - left;
    *h0 = std::max<int64_t>(h, 0), *h1 = std::min(h + PH, H);
    *w0 = std::max<int64_t>(w, 0), *w1 = std::min(w + PW, W);
  }
};

PoolGeometry geometry(const ir::Node& n, const TensorView& x) {
  PoolGeometry g;
  g.B = x.dims[0], g.H = x.dims[1], g.W = x.dims[2], g.C = x.dims[3];
  ops::AttrReader a = ops::attrs_of(n);
  std::vector<int64_t> pool = a.get_ints("pool");
  g.PH = pool[0], g.PW = pool[1];
  std::array<int64_t, 2> s = ops::window_strides(a, g.PH, g.PW);
  bool same = ops::window_same(a);
  ops::Window1D wh = ops::window_1d(g.H, g.PH, s[0], same), ww = ops::window_1d(g.W, g.PW, s[1], same);
  g.SH = s[0], g.SW = s[1], g.OH = wh.out, g.OW = ww.out, g.top = wh.before, g.left = ww.before;
  g.max = a.get_str("mode") == "max";
  return g;
}

// Output row oh of image `img` into `out` (OW x C), multi-versioned: the channel loops vectorize.
KILN_VECTOR void pool_row(const PoolGeometry& g, const float* img, int64_t oh, float* out) {
  const int64_t C = g.C;
  for (int64_t ow = 0; ow < g.OW; ++ow, out += C) {
    int64_t h0, h1, w0, w1;
    g.window(oh, ow, &h0, &h1, &w0, &w1);
    if (g.max) {
      std::copy(img + (h0 * g.W + w0) * C, img + (h0 * g.W + w0 + 1) * C, out);
      for (int64_t h = h0; h < h1; ++h)
        for (int64_t w = h == h0 ? w0 + 1 : w0; w < w1; ++w) {
          const float* v = img + (h * g.W + w) * C;
          for (int64_t c = 0; c < C; ++c) out[c] = (v[c] > out[c] || v[c] != v[c]) ? v[c] : out[c];
        }
    } else {
      std::fill(out, out + C, 0.f);
      for (int64_t h = h0; h < h1; ++h)
        for (int64_t w = w0; w < w1; ++w) {
          const float* v = img + (h * g.W + w) * C;
          for (int64_t c = 0; c < C; ++c) out[c] += v[c];
        }
      float count = static_cast<float>((h1 - h0) * (w1 - w0));
      for (int64_t c = 0; c < C; ++c) out[c] /= count;
    }
  }
}

// With few channels (an RGB image) the channel loop above is too short to vectorize. The window
// is separable, so output row oh is made in two passes: the window's rows reduced into one row
// `col` of W x C (contiguous: it vectorizes), then each output reduces PW entries of col; with
// stride 1 the outputs whose window lies inside x are one contiguous loop over OW x C. Each
// output is a function of its own window only, so results do not depend on the threads.
constexpr int64_t kSmallChannels = 16;

inline float pool_step(bool max, float acc, float v) {
  if (max) return (v > acc || v != v) ? v : acc;  // a NaN wins and stays, as above
  return acc + v;
}

KILN_VECTOR void pool_row_few_channels(const PoolGeometry& g, const float* img, int64_t oh, float* out, float* col) {
  const int64_t C = g.C, WC = g.W * C;
  const bool max = g.max;
  int64_t h0, h1, w0, w1;
  g.window(oh, 0, &h0, &h1, &w0, &w1);  // the rows depend on oh alone
  std::copy(img + h0 * WC, img + (h0 + 1) * WC, col);
  for (int64_t h = h0 + 1; h < h1; ++h) {
    const float* v = img + h * WC;
    for (int64_t j = 0; j < WC; ++j) col[j] = pool_step(max, col[j], v[j]);
  }
  const int64_t rows = h1 - h0;
  int64_t lo = g.OW, hi = g.OW;  // [lo, hi): stride-1 outputs with the whole window inside x
  if (g.SW == 1) {
    lo = std::min(g.OW, g.left);
    hi = std::max(lo, std::min(g.OW, g.W - g.PW + g.left + 1));
  }
  for (int64_t ow = 0; ow < g.OW; ++ow) {
    if (ow == lo) ow = hi;
    if (ow >= g.OW) break;
    g.window(oh, ow, &h0, &h1, &w0, &w1);
    float* o = out + ow * C;
    std::copy(col + w0 * C, col + (w0 + 1) * C, o);
    for (int64_t w = w0 + 1; w < w1; ++w)
      for (int64_t c = 0; c < C; ++c) o[c] = pool_step(max, o[c], col[w * C + c]);
    if (!max)
      for (int64_t c = 0; c < C; ++c) o[c] /= static_cast<float>(rows * (w1 - w0));
  }
  if (hi > lo) {
    const int64_t n = (hi - lo) * C;
    const float* base = col + (lo - g.left) * C;
    float* o = out + lo * C;
    std::copy(base, base + n, o);
    for (int64_t k = 1; k < g.PW; ++k)
      for (int64_t j = 0; j < n; ++j) o[j] = pool_step(max, o[j], base[k * C + j]);
    if (!max)
      for (int64_t j = 0; j < n; ++j) o[j] /= static_cast<float>(rows * g.PW);
  }
}

void pool2d_k(const KernelArgs& a) {
  const TensorView &x = a.in[0], &y = a.out[0];
  PoolGeometry g = geometry(a.node, x);
  const int64_t rows = g.B * g.OH;
  const bool few = g.C < kSmallChannels;
  parallel_for(rows, y.numel * g.PH * g.PW > kParallelMin, [&](int64_t r) {
    const float* img = x.f() + r / g.OH * g.H * g.W * g.C;
    float* out = y.f() + r * g.OW * g.C;
    if (!few) return pool_row(g, img, r % g.OH, out);
    thread_local std::vector<float> col;
    col.resize(static_cast<size_t>(g.W * g.C));
    pool_row_few_channels(g, img, r % g.OH, out, col.data());
  });
}

// Max pooling whose windows tile x exactly (stride = pool, no padding, nothing left over, as
// MaxPooling2D((2, 2)) on an even size): each dx element is in one window, so dx is written once,
// window by window in row-major order, with no zero fill and no scatter (the general loop below
// takes 4-6 times longer on the MNIST convnet's pool). `taken` marks the channels whose winner
// an earlier position of the window already was.
bool tiles_exactly(const PoolGeometry& g) {
  return g.max && g.SH == g.PH && g.SW == g.PW && g.top == 0 && g.left == 0 && g.OH * g.PH == g.H &&
         g.OW * g.PW == g.W;
}

KILN_VECTOR void max_grad_tiled(const PoolGeometry& g, const float* dy, const float* x, const float* y, float* dx,
                                int64_t b, float* taken) {
  const int64_t C = g.C;
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const int64_t o = ((b * g.OH + oh) * g.OW + ow) * C;
      const float *gy = dy + o, *yv = y + o;
      std::fill(taken, taken + C, 0.f);
      for (int64_t h = oh * g.PH; h < (oh + 1) * g.PH; ++h)
        for (int64_t w = ow * g.PW; w < (ow + 1) * g.PW; ++w) {
          const int64_t at = ((b * g.H + h) * g.W + w) * C;
          const float* v = x + at;
          float* d = dx + at;
          for (int64_t c = 0; c < C; ++c) {
            bool win = taken[c] == 0.f && (v[c] == yv[c] || (v[c] != v[c] && yv[c] != yv[c]));
            d[c] = win ? gy[c] : 0.f;
            taken[c] = win ? 1.f : taken[c];
          }
        }
    }
}

// pool2d_grad(dy, x, y) -> dx
void pool2d_grad_k(const KernelArgs& a) {
  const TensorView &dy = a.in[0], &x = a.in[1], &y = a.in[2], &dx = a.out[0];
  PoolGeometry g = geometry(a.node, x);
  const int64_t C = g.C, img_size = g.H * g.W * C;
  const bool tiled = tiles_exactly(g);
  const ops::Activation act = elementwise_activation("pool2d_grad", a.attrs().get_str("activation"));
#pragma omp parallel for schedule(static) if (g.B > 1 && dx.numel * g.PH * g.PW > kParallelMin)
  for (int64_t b = 0; b < g.B; ++b) {
    const float* xi = x.f() + b * img_size;
    float* dxi = dx.f() + b * img_size;
    if (tiled) {
      max_grad_tiled(g, dy.f(), x.f(), y.f(), dx.f(), b, workspace(kWsPoolChannels, C));
      activation_grad_row(dxi, xi, img_size, act);  // the image is still in cache
      continue;
    }
    std::fill(dxi, dxi + img_size, 0.f);
    // per channel: the average's share, or the offset of the window's winner in the image
    float* share = workspace(kWsPoolChannels, C);
    int64_t* pos = reinterpret_cast<int64_t*>(workspace(kWsPoolPositions, 2 * C));
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        int64_t h0, h1, w0, w1, o = ((b * g.OH + oh) * g.OW + ow) * C;
        g.window(oh, ow, &h0, &h1, &w0, &w1);
        const float* gy = dy.f() + o;
        if (g.max) {  // first the winning position per channel (a select loop), then one add each
          const float* yv = y.f() + o;
          std::fill(pos, pos + C, -1);
          for (int64_t h = h1 - 1; h >= h0; --h)  // backwards, so the first match is written last
            for (int64_t w = w1 - 1; w >= w0; --w) {
              const int64_t at = (h * g.W + w) * C;
              const float* v = xi + at;
              for (int64_t c = 0; c < C; ++c)
                pos[c] = (v[c] == yv[c] || (v[c] != v[c] && yv[c] != yv[c])) ? at : pos[c];
            }
          for (int64_t c = 0; c < C; ++c)
            if (pos[c] >= 0) dxi[pos[c] + c] += gy[c];
        } else {
          float count = static_cast<float>((h1 - h0) * (w1 - w0));
          for (int64_t c = 0; c < C; ++c) share[c] = gy[c] / count;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) {
              float* d = dxi + (h * g.W + w) * C;
              for (int64_t c = 0; c < C; ++c) d[c] += share[c];
            }
        }
      }
    activation_grad_row(dxi, xi, img_size, act);
  }
}

}  // namespace

KILN_VECTOR void max_pool_window(const float* img, int64_t W, int64_t C, int64_t h0, int64_t w0, int64_t PH, int64_t PW,
                                 float* out) {
  const float* first = img + (h0 * W + w0) * C;
  for (int64_t c = 0; c < C; ++c) out[c] = first[c];
  for (int64_t h = h0; h < h0 + PH; ++h)
    for (int64_t w = h == h0 ? w0 + 1 : w0; w < w0 + PW; ++w) {
      const float* v = img + (h * W + w) * C;
      for (int64_t c = 0; c < C; ++c) out[c] = (v[c] > out[c] || v[c] != v[c]) ? v[c] : out[c];
    }
}

void max_pool_tiles(const float* x, int64_t B, int64_t H, int64_t W, int64_t C, int64_t PH, int64_t PW, float* y) {
  const int64_t OH = H / PH, OW = W / PW;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        max_pool_window(x + b * H * W * C, W, C, oh * PH, ow * PW, PH, PW, y + ((b * OH + oh) * OW + ow) * C);
}

KILN_CPU_KERNEL(pool2d, pool2d_k);
KILN_CPU_KERNEL(pool2d_grad, pool2d_grad_k);

}  // namespace kiln::cpu
