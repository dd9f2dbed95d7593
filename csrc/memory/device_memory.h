// Where a device's bytes live and how they move: each device's allocator and its copies to and
// from the host, behind one table of functions so the runtime (arenas, the Store, the loops'
// edges) never names a backend. The CPU's is plain aligned host memory (device_memory.cpp);
// CUDA's is cuda/memory.cu, or in a build without CUDA cuda/no_cuda.cpp, which says there is none.
//
//   const memory::DeviceMemory& m = memory::memory_of(Device::cuda);
//   void* p = m.allocate(bytes);            // OutOfMemory naming the size
//   memory::to_device(Device::cuda, p, host, bytes);
//
// A program's data moves between host and device only at its edges: inputs in, outputs and
// reported scalars out, weights by get/set (docs/architecture.md, "Devices and CUDA").
#pragma once

#include <cstddef>
#include <string>

#include "base/device.h"

namespace kiln::memory {

struct DeviceMemory {
  void* (*allocate)(size_t bytes);  // 64-byte aligned at least, never null: OutOfMemory instead
  void (*release)(void* p);         // p from allocate, or null
  void (*zero)(void* p, size_t bytes);
  void (*to_device)(void* dst, const void* host, size_t bytes);
  void (*to_host)(void* host, const void* src, size_t bytes);
  bool (*usable)();           // whether programs can run on the device here
  std::string (*status)();    // why not, when not; what it is, when it is
};

const DeviceMemory& memory_of(Device d);

inline void to_device(Device d, void* dst, const void* host, size_t bytes) {
  if (bytes) memory_of(d).to_device(dst, host, bytes);
}
inline void to_host(Device d, void* host, const void* src, size_t bytes) {
  if (bytes) memory_of(d).to_host(host, src, bytes);
}

// Puts `m` in place of device d's own memory (nullptr: back to the backend's). Only for the host
// stand-in that tests the device plumbing without a GPU (runtime/standin.h); not thread-safe
// against running programs.
void replace_memory(Device d, const DeviceMemory* m);

}  // namespace kiln::memory
