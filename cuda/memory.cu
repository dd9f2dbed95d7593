// The GPU's memory behind memory::DeviceMemory: cudaMalloc'd buffers on the first device and
// synchronous copies. Every failure is a kiln error naming the size or the copy; an allocation
// that does not fit is OutOfMemory, as on the host.
#include <cuda_runtime.h>

#include "base/errors.h"
#include "device.h"
#include "memory/device_memory.h"

namespace kiln::cuda {

namespace {

std::string reason(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

void check(cudaError_t e, const char* what, size_t bytes) {
  if (e != cudaSuccess) throw kiln::Error(std::string("cuda: ") + what + " of " + std::to_string(bytes) + " bytes failed: " + reason(e));
}

void* allocate(size_t bytes) {
  if (device_count() == 0) throw kiln::Error(status());
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes ? bytes : 64);  // cudaMalloc aligns to 256 bytes
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw kiln::OutOfMemory("out of GPU memory allocating " + std::to_string(bytes) + " bytes");
  }
  check(e, "cudaMalloc", bytes);
  return p;
}

void release(void* p) {
  if (p) cudaFree(p);
}

void zero(void* p, size_t bytes) { check(cudaMemset(p, 0, bytes), "cudaMemset", bytes); }

void to_device(void* dst, const void* host, size_t bytes) {
  check(cudaMemcpy(dst, host, bytes, cudaMemcpyHostToDevice), "copy to the device", bytes);
}

void to_host(void* host, const void* src, size_t bytes) {
  check(cudaMemcpy(host, src, bytes, cudaMemcpyDeviceToHost), "copy to the host", bytes);
}

bool usable() { return device_count() > 0; }

}  // namespace

const memory::DeviceMemory& memory() {
  static const memory::DeviceMemory m{allocate, release, zero, to_device, to_host, usable, status};
  return m;
}

}  // namespace kiln::cuda
