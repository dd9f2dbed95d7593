// CUDA device plumbing shared by the CUDA build (cuda/device.cu) and the CPU-only stub
// (cuda/no_cuda.cpp). Nothing here touches the driver at load time.
#pragma once

#include <string>
#include <vector>

namespace kiln::memory {
struct DeviceMemory;  // csrc/memory/device_memory.h
}

namespace kiln::cuda {

bool compiled();                 // built with nvcc
int device_count();              // 0 when no driver or no GPU; never throws
std::string status();            // "cuda: <name>, ..." or "no CUDA device: <reason>"
// Runs y = a*x + y on the first GPU and copies the result back; throws "no CUDA device: ..."
// when none is usable. Proves the toolchain, driver and device work end to end.
std::vector<float> axpy_selftest(float a, const std::vector<float>& x, const std::vector<float>& y);
// The GPU's memory for the runtime (cuda/memory.cu): device allocations and copies to and from
// the host. Without CUDA every call but usable/status throws "no CUDA device: ...".
const memory::DeviceMemory& memory();

}  // namespace kiln::cuda
