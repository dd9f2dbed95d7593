// matmul, bias_add and the fused dense. GEMMs go to BLAS, or to small_gemm where BLAS packs
// more than it multiplies; the bias and activation of dense run over each output row while it
// is still in cache (epilogue.h).
#include "kernels/cpu/epilogue.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/small_gemm.h"
#include "ops/activations.h"

namespace kiln::cpu {
namespace {

void matmul_k(const KernelArgs& a) {
  const TensorView &x = a.in[0], &w = a.in[1], &y = a.out[0];
  ops::AttrReader attrs = a.attrs();
  bool ta = attrs.get_bool("transpose_a"), tb = attrs.get_bool("transpose_b");
  if (ta) {  // [P, M]^T @ [P, N] -> [M, N]
    int64_t M = x.dims.back(), N = w.dims.back(), P = M ? x.numel / M : 0;
    if (P == 0) {
      std::fill(y.f(), y.f() + y.numel, 0.f);
      return;
    }
    if (M >= 16 && N % 16 == 0 && N <= 256 && P * N <= kSmallGemmFloats && P * M <= (int64_t(1) << 18)) {
      // a weight's gradient (x^T dy over a batch): all of dy in L2 and x at most 1 MiB, one run
      // of x's columns per thread; each element sums the rows in order whatever the split. On
      // one thread the guide's MLP's first-layer gradient (784 columns) took 10-15% less than
      // OpenBLAS at batch 128 and 256; a 9,216-column x (the convnet's Dense) took 47% more.
      parallel_runs(M, 6, M * N * P > (int64_t(1) << 20), [&](int64_t m0, int64_t m1) {
        small_gemm(true, false, m1 - m0, N, P, x.f() + m0, M, w.f(), N, y.f() + m0 * N, N);
      });
      return;
    }
    sgemm(true, false, M, N, P, 1.f, x.f(), M, w.f(), N, 0.f, y.f(), N);
    return;
  }
  int64_t K = x.dims.back(), N = y.dims.back(), M = K ? x.numel / K : y.numel / (N ? N : 1);
  if (K == 0) {
    std::fill(y.f(), y.f() + y.numel, 0.f);
    return;
  }
  sgemm(false, tb, M, N, K, 1.f, x.f(), K, w.f(), tb ? K : N, 0.f, y.f(), N);
}

void bias_add_k(const KernelArgs& a) {
  const float* x = a.in[0].f();
  const float* b = a.in[1].f();
  float* y = a.out[0].f();
  int64_t N = a.in[1].numel, rows = N ? a.out[0].numel / N : 0;
  parallel_for(rows, a.out[0].numel > kParallelMin, [&](int64_t i) {
    for (int64_t j = 0; j < N; ++j) y[i * N + j] = x[i * N + j] + b[j];
  });
}

void dense_k(const KernelArgs& a) {
  const TensorView &x = a.in[0], &w = a.in[1], &y = a.out[0];
  int64_t K = x.dims.back(), N = w.dims[1], M = N ? y.numel / N : 0;
  float* yp = y.f();
  const float* b = a.in.size() == 3 ? a.in[2].f() : nullptr;
  ops::Activation act = epilogue_activation("dense", a.attrs().get_str("activation"));
  if (K > 0) return gemm_bias_activation(x.f(), w.f(), M, K, N, b, act, yp);
  std::fill(yp, yp + y.numel, 0.f);
  bias_activation_rows(yp, M, N, b, act);
}

}  // namespace

KILN_CPU_KERNEL(matmul, matmul_k);
KILN_CPU_KERNEL(bias_add, bias_add_k);
KILN_CPU_KERNEL(dense, dense_k);

}  // namespace kiln::cpu
