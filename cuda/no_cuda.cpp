// CPU-only build: the CUDA entry points exist and say clearly that there is no CUDA.
#include "cuda/device.h"

#include "base/errors.h"
#include "memory/device_memory.h"

namespace kiln::cuda {

bool compiled() { return false; }
int device_count() { return 0; }
std::string status() { return "no CUDA device: kiln was built without CUDA (KILN_CUDA=OFF or no nvcc)"; }
std::vector<float> axpy_selftest(float, const std::vector<float>&, const std::vector<float>&) {
  throw Error("no CUDA implementation: kiln was built without CUDA");
}

namespace {
[[noreturn]] void none() { throw Error("no CUDA implementation: kiln was built without CUDA"); }
void* allocate(size_t) { none(); }
void release(void*) {}
void zero(void*, size_t) { none(); }
void copy(void*, const void*, size_t) { none(); }
bool usable() { return false; }
}  // namespace

const memory::DeviceMemory& memory() {
  static const memory::DeviceMemory m{allocate, release, zero, copy, copy, usable, status};
  return m;
}

}  // namespace kiln::cuda
