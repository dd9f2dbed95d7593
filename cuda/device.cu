// Device discovery and an end-to-end self test. Only the runtime API is used, with static
// cudart: importing kiln never opens libcuda; the first call here does, and every failure maps
// to "no CUDA device: <error name>: <text>".
#include <cuda_runtime.h>


#include "base/errors.h"
#include "device.h"

namespace kiln::cuda {

namespace {

std::string describe(cudaError_t e) {
  return std::string("no CUDA device: ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
}

void check(cudaError_t e) {
  if (e != cudaSuccess) throw kiln::Error(describe(e));
}

__global__ void axpy_kernel(int n, float a, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += a * x[i];
}

}  // namespace

bool compiled() { return true; }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls report afresh
    return 0;
  }
  return n;
}

std::string status() {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return describe(e);
  }
  if (n == 0) return "no CUDA device: cudaGetDeviceCount returned 0";
  cudaDeviceProp p;
  e = cudaGetDeviceProperties(&p, 0);
  if (e != cudaSuccess) return describe(e);
  return "cuda: " + std::to_string(n) + " device(s); 0: " + p.name + ", sm_" + std::to_string(p.major) +
         std::to_string(p.minor) + ", " + std::to_string(p.totalGlobalMem >> 20) + " MiB";
}

std::vector<float> axpy_selftest(float a, const std::vector<float>& x, const std::vector<float>& y) {
  if (x.size() != y.size()) throw kiln::ValueError("axpy_selftest: x and y differ in length");
  if (device_count() == 0) throw kiln::Error(status());
  int n = static_cast<int>(x.size());
  float *dx = nullptr, *dy = nullptr;
  size_t bytes = sizeof(float) * (n ? n : 1);
  check(cudaMalloc(&dx, bytes));
  cudaError_t e = cudaMalloc(&dy, bytes);
  if (e != cudaSuccess) {
    cudaFree(dx);
    check(e);
  }
  std::vector<float> out(y);
  e = cudaMemcpy(dx, x.data(), sizeof(float) * n, cudaMemcpyHostToDevice);
  if (e == cudaSuccess) e = cudaMemcpy(dy, y.data(), sizeof(float) * n, cudaMemcpyHostToDevice);
  if (e == cudaSuccess && n > 0) {
    axpy_kernel<<<(n + 255) / 256, 256>>>(n, a, dx, dy);
    e = cudaGetLastError();
  }
  if (e == cudaSuccess) e = cudaMemcpy(out.data(), dy, sizeof(float) * n, cudaMemcpyDeviceToHost);
  cudaFree(dx);
  cudaFree(dy);
  check(e);
  return out;
}

}  // namespace kiln::cuda
