// CUDA device plumbing shared by the CUDA build (cuda/device.cu) and the CPU-only stub
// (cuda/no_cuda.cpp). Nothing here touches the driver at load time.
#pragma once

#include <string>
#include <vector>

namespace kiln::cuda {

bool compiled();                 // built with nvcc
int device_count();              // 0 when no driver or no GPU; never throws
std::string status();            // "cuda: <name>, ..." or "no CUDA device: <reason>"
// Runs y = a*x + y on the first GPU and copies the result back; throws "no CUDA device: ..."
// when none is usable. Proves the toolchain, driver and device work end to end.
std::vector<float> axpy_selftest(float a, const std::vector<float>& x, const std::vector<float>& y);

}  // namespace kiln::cuda
