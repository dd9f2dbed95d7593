// CPU-only build: the CUDA entry points exist and say clearly that there is no CUDA.
#include "cuda/device.h"

#include "base/errors.h"

namespace kiln::cuda {

bool compiled() { return false; }
int device_count() { return 0; }
std::string status() { return "no CUDA device: kiln was built without CUDA (KILN_CUDA=OFF or no nvcc)"; }
std::vector<float> axpy_selftest(float, const std::vector<float>&, const std::vector<float>&) {
  throw Error("no CUDA implementation: kiln was built without CUDA");
}

}  // namespace kiln::cuda
