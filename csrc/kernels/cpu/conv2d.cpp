// conv2d and its gradients: Winograd (winograd.h) for stride-1 3x3 and 5x5 kernels with enough
// channels, a direct forward (conv_direct.h) for short patches, else im2col + GEMM; conv2d.h
// says which a shape gets.
// Shape letters: x [B, H, W, C], W [KH, KW, C, F] read as a [K, F] matrix (K = KH*KW*C, the
// patch length), y and dy [B, OH, OW, F]; P = OH*OW output positions per image.
//
// Images go in blocks of NB. im2col writes the block's patches as the rows of col [NB*P, K]
// (zeros where a window leaves x), and one GEMM does the whole block:
//   conv2d              y[block] = col @ W
//   conv2d_grad_filter  dW      += col^T @ dy[block]
//   conv2d_grad_input   dcol     = dy[block] @ W^T, then col2im adds each x position's entries.
// NB is as large as kColBudget allows (at least one image): small images make one tall GEMM
// instead of many thin ones, and the workspace stays bounded. The workspace (workspace.h) is a thread_local
// vector that only grows, so a warm training step allocates nothing. A 1x1 kernel with stride 1
// (never padded) needs no im2col: x itself is col. GEMMs run outside any OpenMP region of ours
// (sgemm splits big ones over the threads itself); im2col and col2im are the parallel loops.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/epilogue.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/pool2d.h"
#include "kernels/cpu/winograd.h"
#include "kernels/cpu/workspace.h"
#include "ops/window.h"

namespace kiln::cpu {
namespace {

// Floats of col per block: 8 MiB, about where a taller GEMM stops paying for the cache misses.
constexpr int64_t kColBudget = int64_t(1) << 21;

struct ConvGeometry {
  int64_t B, H, W, C, KH, KW, F, OH, OW, SH, SW, top, left;
  int64_t P() const { return OH * OW; }
  int64_t K() const { return KH * KW * C; }
  bool pointwise() const { return KH == 1 && KW == 1 && SH == 1 && SW == 1 && top == 0 && left == 0; }
  int64_t block() const {  // NB
    int64_t per = P() * K();
    return per > 0 ? std::clamp<int64_t>(kColBudget / per, 1, std::max<int64_t>(B, 1)) : std::max<int64_t>(B, 1);
  }
};

ConvGeometry geometry(const ir::Node& n, const TensorView& x, const TensorView& w) {
  ConvGeometry g;
  g.B = x.dims[0], g.H = x.dims[1], g.W = x.dims[2], g.C = x.dims[3];
  g.KH = w.dims[0], g.KW = w.dims[1], g.F = w.dims[3];
  ops::AttrReader a = ops::attrs_of(n);
  std::array<int64_t, 2> s = ops::window_strides(a, g.KH, g.KW);
  bool same = ops::window_same(a);
  ops::Window1D wh = ops::window_1d(g.H, g.KH, s[0], same), ww = ops::window_1d(g.W, g.KW, s[1], same);
  g.SH = s[0], g.SW = s[1], g.OH = wh.out, g.OW = ww.out, g.top = wh.before, g.left = ww.before;
  return g;
}

// Winograd pays once the channels reach 16 (its transforms run 16 channels at a time, leftover
// ones one by one). Measured (bench/README.md) on 3x3 convolutions of 32x32 images at batch
// 32, one thread: with 16 channels or more on both sides it beat im2col 2.2-2.9x; with 8 output
// channels it was 2-3x slower. With 1 or 3 input channels the forward broke even, and the filter
// gradient, whose transforms are of x and dy, still won 1.3x: it needs only F >= 16.
constexpr int64_t kWinogradMinChannels = 16;

// The Winograd transform for a correlation with `in` input and `out` output channels (the
// filter gradient: of x with `in` and dy with `out` channels), or null.
const winograd::Transform* winograd_for(const ConvGeometry& g, int64_t in, int64_t out, bool filter_gradient) {
  if (g.SH != 1 || g.SW != 1 || g.KH != g.KW || out < kWinogradMinChannels) return nullptr;
  if (in < (filter_gradient ? 1 : kWinogradMinChannels)) return nullptr;
  return winograd::for_kernel(g.KH);
}

winograd::Conv as_correlation(const ConvGeometry& g) { return {g.B, g.H, g.W, g.C, g.F, g.OH, g.OW, g.top, g.left}; }

DirectConv as_direct(const ConvGeometry& g) {
  return {g.B, g.H, g.W, g.C, g.KH, g.KW, g.F, g.OH, g.OW, g.SH, g.SW, g.top, g.left};
}

// Whether the forward / the filter gradient runs direct (conv_direct.h): a short patch, and not
// a stride-1 1x1, whose GEMM needs no im2col, unless its inner dimension is tiny (the RGB 1x1s of
// an inception module: a GEMM with K = 3 runs far from peak and its epilogue rereads y; direct
// writes y once). The kernels and conv2d_method both ask these.
constexpr int64_t kDirectMaxPointwise = 4;
bool direct_forward(const ConvGeometry& g) {
  return g.K() > 0 && (!g.pointwise() || g.K() <= kDirectMaxPointwise) && direct_conv_fits(as_direct(g));
}
bool direct_filter_gradient(const ConvGeometry& g) {
  return g.K() > 0 && !g.pointwise() && direct_grad_filter_fits(as_direct(g));
}

// col [nb*P, K] from images b0 .. b0+nb-1; row (b, oh, ow) holds the window in (kh, kw, c) order.
void im2col(const ConvGeometry& g, const float* x, int64_t b0, int64_t nb, float* col) {
  const int64_t P = g.P(), K = g.K(), KWC = g.KW * g.C, rows = nb * P;
#pragma omp parallel for schedule(static) if (rows * K > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t b = b0 + r / P, oh = r % P / g.OW, ow = r % g.OW;
    int64_t ih0 = oh * g.SH - g.top, iw0 = ow * g.SW - g.left;
    int64_t kw0 = std::max<int64_t>(0, -iw0), kw1 = std::min(g.KW, g.W - iw0);  // taps inside x
    float* dst = col + r * K;
    for (int64_t kh = 0; kh < g.KH; ++kh, dst += KWC) {
      int64_t ih = ih0 + kh;
      if (ih < 0 || ih >= g.H || kw0 >= kw1) {
        std::fill(dst, dst + KWC, 0.f);
        continue;
      }
      // taps [kw0, kw1) of the row are inside x: elements [a, e) of dst, from src[off + q]
      const int64_t a = kw0 * g.C, e = kw1 * g.C, off = iw0 * g.C;
      const float* src = x + (b * g.H + ih) * g.W * g.C;
      if (KWC < 64) {  // a few channels: plain loops, not library calls per short run
        for (int64_t q = 0; q < a; ++q) dst[q] = 0.f;
        for (int64_t q = a; q < e; ++q) dst[q] = src[off + q];
        for (int64_t q = e; q < KWC; ++q) dst[q] = 0.f;
        continue;
      }
      std::fill(dst, dst + a, 0.f);
      std::memcpy(dst + a, src + off + a, (e - a) * sizeof(float));
      std::fill(dst + e, dst + KWC, 0.f);
    }
  }
}

// The transpose of im2col: dx[b, ih, iw, :] = the sum of the dcol entries that im2col would have
// read from x[b, ih, iw, :]. Written as a gather over rows of dx, so threads never share a row.
void col2im(const ConvGeometry& g, const float* dcol, int64_t b0, int64_t nb, float* dx) {
  const int64_t K = g.K(), rows = nb * g.H;
#pragma omp parallel for schedule(static) if (nb * g.P() * K > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t b = r / g.H, ih = r % g.H;
    float* out = dx + ((b0 + b) * g.H + ih) * g.W * g.C;
    std::fill(out, out + g.W * g.C, 0.f);
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      int64_t t = ih + g.top - kh;  // = oh * SH for the window whose tap kh lands on row ih
      if (t < 0 || t % g.SH != 0 || t / g.SH >= g.OH) continue;
      const float* src_row = dcol + (b * g.P() + t / g.SH * g.OW) * K + kh * g.KW * g.C;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const float* src = src_row + ow * K;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          int64_t iw = ow * g.SW - g.left + kw;
          if (iw < 0 || iw >= g.W) continue;
          float* d = out + iw * g.C;
          const float* s = src + kw * g.C;
          for (int64_t c = 0; c < g.C; ++c) d[c] += s[c];
        }
      }
    }
  }
}

// y = conv2d(x, w) with the bias and activation, then max-pooled over ph x pw windows tiling it
// (1 x 1: none), by the method the shape gets. Winograd pools each output tile while it is in
// cache when the pool divides the tile; otherwise the whole result goes to scratch first.
void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias, ops::Activation act,
                    int64_t ph, int64_t pw, float* y) {
  const int64_t P = g.P(), K = g.K();
  const winograd::Transform* t = K > 0 ? winograd_for(g, g.C, g.F, false) : nullptr;
  if (t && t->m % ph == 0 && t->m % pw == 0) {
    float* U = workspace(kWsWinogradFilter, winograd::filter_size(*t, g.C, g.F));
    winograd::transform_filter(*t, w, g.C, g.F, false, U);
    winograd::forward(*t, as_correlation(g), x, U, bias, act, y, int(ph), int(pw));
    return;
  }
  if (ph > 1 || pw > 1) {
    float* full = workspace(kWsConvPooled, g.B * P * g.F);
    conv2d_forward(g, x, w, bias, act, 1, 1, full);
    parallel_for(g.B, g.B * P * g.F > kParallelMin, [&](int64_t b) {
      max_pool_tiles(full + b * P * g.F, 1, g.OH, g.OW, g.F, ph, pw, y + b * (g.OH / ph) * (g.OW / pw) * g.F);
    });
    return;
  }
  if (direct_forward(g)) {
    direct_conv(as_direct(g), x, w, bias, act, y);
    return;
  }
  if (K == 0 || g.pointwise()) {  // C = 0: empty sums; 1x1 stride 1: x is already the column matrix
    if (K == 0) {
      std::fill(y, y + g.B * P * g.F, 0.f);
      bias_activation_rows(y, g.B * P, g.F, bias, act);
    } else {
      gemm_bias_activation(x, w, g.B * P, K, g.F, bias, act, y);
    }
    return;
  }
  const int64_t NB = g.block();
  float* col = workspace(kWsConvCol, NB * P * K);
  for (int64_t b0 = 0; b0 < g.B; b0 += NB) {
    int64_t nb = std::min(NB, g.B - b0);
    im2col(g, x, b0, nb, col);
    gemm_bias_activation(col, w, nb * P, K, g.F, bias, act, y + b0 * P * g.F);
  }
}

// conv2d(x, W [, b]) {pool} -> y, with the bias and activation applied to each block of output
// rows right after its GEMM, while it is in cache.
void conv2d_k(const KernelArgs& a) {
  const TensorView &x = a.in[0], &w = a.in[1], &y = a.out[0];
  ConvGeometry g = geometry(a.node, x, w);
  const float* bias = a.in.size() == 3 ? a.in[2].f() : nullptr;
  const ops::Activation act = epilogue_activation("conv2d", a.attrs().get_str("activation"));
  if (y.numel == 0) return;
  std::vector<int64_t> pool = a.attrs().get_ints("pool");
  conv2d_forward(g, x.f(), w.f(), bias, act, pool[0], pool[1], y.f());
}

// conv2d_grad_input(dy, W, x) {activation} -> dx, taken on through x's activation as each part
// of dx is written (Winograd: each output row; im2col: each block of images).
void conv2d_grad_input_k(const KernelArgs& a) {
  const TensorView &dy = a.in[0], &w = a.in[1], &x = a.in[2], &dx = a.out[0];
  ConvGeometry g = geometry(a.node, dx, w);
  const int64_t P = g.P(), K = g.K();
  const ops::Activation act = elementwise_activation("conv2d_grad_input", a.attrs().get_str("activation"));
  if (dx.numel == 0) return;
  if (dy.numel == 0) {  // F = 0, or no windows at all: dx is 0, and every derivative keeps it 0
    std::fill(dx.f(), dx.f() + dx.numel, 0.f);
    return;
  }
  if (const winograd::Transform* t = winograd_for(g, g.F, g.C, false)) {  // dx = dy correlated with W turned
    float* U = workspace(kWsWinogradFilter, winograd::filter_size(*t, g.F, g.C));
    winograd::transform_filter(*t, w.f(), g.C, g.F, true, U);
    winograd::Conv c{g.B, g.OH, g.OW, g.F, g.C, g.H, g.W, g.KH - 1 - g.top, g.KW - 1 - g.left};
    winograd::forward(*t, c, dy.f(), U, nullptr, ops::Activation::linear, dx.f(), 1, 1, x.f(), act);
    return;
  }
  if (g.pointwise()) {
    sgemm(false, true, g.B * P, K, g.F, 1.f, dy.f(), g.F, w.f(), g.F, 0.f, dx.f(), K);
    activation_grad(dx.f(), x.f(), dx.numel, act);
    return;
  }
  const int64_t NB = g.block(), image = g.H * g.W * g.C;
  float* dcol = workspace(kWsConvCol, NB * P * K);
  for (int64_t b0 = 0; b0 < g.B; b0 += NB) {
    int64_t nb = std::min(NB, g.B - b0);
    sgemm(false, true, nb * P, K, g.F, 1.f, dy.f() + b0 * P * g.F, g.F, w.f(), g.F, 0.f, dcol, K);
    col2im(g, dcol, b0, nb, dx.f());
    activation_grad(dx.f() + b0 * image, x.f() + b0 * image, nb * image, act);
  }
}

// conv2d_grad_filter(dy, x, W) -> dW
void conv2d_grad_filter_k(const KernelArgs& a) {
  const TensorView &dy = a.in[0], &x = a.in[1], &dw = a.out[0];
  ConvGeometry g = geometry(a.node, x, dw);
  const int64_t P = g.P(), K = g.K();
  if (dw.numel == 0) return;
  if (dy.numel == 0) {  // B = 0, or no windows at all
    std::fill(dw.f(), dw.f() + dw.numel, 0.f);
    return;
  }
  if (direct_filter_gradient(g)) {
    direct_conv_grad_filter(as_direct(g), x.f(), dy.f(), dw.f());
    return;
  }
  if (const winograd::Transform* t = winograd_for(g, g.C, g.F, true)) {
    winograd::grad_filter(*t, as_correlation(g), x.f(), dy.f(), dw.f());
    return;
  }
  if (g.pointwise()) {
    sgemm(true, false, K, g.F, g.B * P, 1.f, x.f(), K, dy.f(), g.F, 0.f, dw.f(), g.F);
    return;
  }
  const int64_t NB = g.block();
  float* col = workspace(kWsConvCol, NB * P * K);
  for (int64_t b0 = 0; b0 < g.B; b0 += NB) {
    int64_t nb = std::min(NB, g.B - b0);
    im2col(g, x.f(), b0, nb, col);
    sgemm(true, false, K, g.F, nb * P, 1.f, col, K, dy.f() + b0 * P * g.F, g.F, b0 == 0 ? 0.f : 1.f, dw.f(), g.F);
  }
}

}  // namespace

std::string conv2d_method(const ir::Node& n, const std::vector<int64_t>& x, const std::vector<int64_t>& w) {
  if (x.size() != 4 || w.size() != 4) throw ValueError("[" + n.op + "] conv2d_method takes 4-d x and W shapes");
  TensorView xv, wv;
  xv.dims = x, wv.dims = w;
  ConvGeometry g = geometry(n, xv, wv);
  bool data_grad = n.op == "conv2d_grad_input";
  if (n.op == "conv2d_grad_filter" && direct_filter_gradient(g)) return "direct";
  const winograd::Transform* t =
      winograd_for(g, data_grad ? g.F : g.C, data_grad ? g.C : g.F, n.op == "conv2d_grad_filter");
  if (t)
    return "winograd F(" + std::to_string(t->m) + "x" + std::to_string(t->m) + "," + std::to_string(t->r) + "x" +
           std::to_string(t->r) + ")";
  if (n.op == "conv2d" && direct_forward(g)) return "direct";
  return g.pointwise() ? "gemm" : "im2col";
}

KILN_CPU_KERNEL(conv2d, conv2d_k);
KILN_CPU_KERNEL(conv2d_grad_input, conv2d_grad_input_k);
KILN_CPU_KERNEL(conv2d_grad_filter, conv2d_grad_filter_k);

}  // namespace kiln::cpu
