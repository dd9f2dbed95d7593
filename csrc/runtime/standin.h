// A host stand-in for the CUDA device, so the device plumbing (one Store per device, arenas and
// parameters in the device's memory, copies only at a program's edges) is tested on machines
// without a GPU. Installed, it replaces CUDA's memory with host memory kept in a registry of its
// own, and gives every op that has a CPU kernel and no CUDA one a CUDA kernel that first checks
// that each operand and result lies in that registry (a host pointer reaching a device kernel is
// a ValueError naming the op and the operand), then runs the CPU kernel. Transfers are counted.
// Tests only (kiln._core._device_standin); never installed by kiln itself. Install and remove
// while no program runs; programs made while it was installed must be gone before removing it.
#pragma once

#include <cstdint>

namespace kiln::rt::standin {

struct Counts {
  int64_t to_device = 0, to_host = 0;              // copies
  int64_t to_device_bytes = 0, to_host_bytes = 0;
  int64_t live = 0, live_bytes = 0;                // allocations not yet released
  int64_t kernel_calls = 0;
};

void install();  // also resets the counts; installing twice is one install
void remove();
Counts counts();

}  // namespace kiln::rt::standin
