// The host stand-in for the CUDA device (standin.h).
#include "runtime/standin.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/errors.h"
#include "kernels/kernel.h"
#include "memory/device_memory.h"

namespace kiln::rt::standin {

namespace {

std::mutex mu;                                 // guards live and the counts
std::map<uintptr_t, size_t> live;              // start -> bytes
Counts totals;
std::vector<std::string> wrapped;              // ops given a stand-in kernel by install()
bool installed = false;

void* allocate(size_t bytes) {
  size_t n = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, n ? n : 64);
  if (!p) throw OutOfMemory("out of memory allocating " + std::to_string(bytes) + " bytes (device stand-in)");
  std::lock_guard<std::mutex> lock(mu);
  live[reinterpret_cast<uintptr_t>(p)] = n ? n : 64;
  ++totals.live;
  totals.live_bytes += static_cast<int64_t>(bytes);
  return p;
}

void release(void* p) {
  if (!p) return;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = live.find(reinterpret_cast<uintptr_t>(p));
    if (it == live.end()) throw std::logic_error("device stand-in: release of memory it did not allocate");
    --totals.live;
    totals.live_bytes -= static_cast<int64_t>(it->second);
    live.erase(it);
  }
  std::free(p);
}

// Whether [p, p + bytes) lies inside one live allocation.
bool owned(const void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(mu);
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = live.upper_bound(a);
  if (it == live.begin()) return false;
  --it;
  return a + bytes <= it->first + it->second;
}

void require_owned(const void* p, size_t bytes, const char* what) {
  if (!owned(p, bytes))
    throw ValueError(std::string("device stand-in: ") + what + " is not device memory (" + std::to_string(bytes) + " bytes)");
}

void zero(void* p, size_t bytes) {
  require_owned(p, bytes, "the buffer to zero");
  std::memset(p, 0, bytes);
}

void to_device(void* dst, const void* host, size_t bytes) {
  require_owned(dst, bytes, "the destination of a copy to the device");
  if (owned(host, 1)) throw ValueError("device stand-in: the source of a copy to the device is device memory");
  std::memcpy(dst, host, bytes);
  std::lock_guard<std::mutex> lock(mu);
  ++totals.to_device;
  totals.to_device_bytes += static_cast<int64_t>(bytes);
}

void to_host(void* host, const void* src, size_t bytes) {
  require_owned(src, bytes, "the source of a copy to the host");
  if (owned(host, 1)) throw ValueError("device stand-in: the destination of a copy to the host is device memory");
  std::memcpy(host, src, bytes);
  std::lock_guard<std::mutex> lock(mu);
  ++totals.to_host;
  totals.to_host_bytes += static_cast<int64_t>(bytes);
}

bool usable() { return true; }
std::string status() { return "cuda: the host stand-in (tests of the device plumbing; no GPU is used)"; }

const memory::DeviceMemory kMemory{allocate, release, zero, to_device, to_host, usable, status};

// Every stand-in CUDA kernel: the operands and results must be device memory; then the op's CPU kernel.
void checked(const kernels::KernelArgs& a) {
  auto check = [&](const std::vector<kernels::TensorView>& views, const char* side) {
    for (size_t i = 0; i < views.size(); ++i)
      if (views[i].numel > 0 && !owned(views[i].data, static_cast<size_t>(views[i].numel) * 4))
        throw ValueError("device stand-in: " + std::string(side) + " " + std::to_string(i) + " of [" + a.node.op +
                         "] is not device memory (a host pointer reached a device kernel)");
  };
  check(a.in, "operand");
  check(a.out, "result");
  {
    std::lock_guard<std::mutex> lock(mu);
    ++totals.kernel_calls;
  }
  kernels::find_kernel(Device::cpu, a.node.op)(a);
}

}  // namespace

void install() {
  if (installed) return;
  for (const std::string& op : kernels::ops_with_kernel(Device::cpu))
    if (!kernels::find_kernel(Device::cuda, op)) {
      kernels::register_kernel(Device::cuda, op, checked);
      wrapped.push_back(op);
    }
  memory::replace_memory(Device::cuda, &kMemory);
  std::lock_guard<std::mutex> lock(mu);
  int64_t l = totals.live, lb = totals.live_bytes;
  totals = Counts{};
  totals.live = l;
  totals.live_bytes = lb;
  installed = true;
}

void remove() {
  if (!installed) return;
  for (const std::string& op : wrapped) kernels::unregister_kernel(Device::cuda, op);
  wrapped.clear();
  memory::replace_memory(Device::cuda, nullptr);
  installed = false;
}

Counts counts() {
  std::lock_guard<std::mutex> lock(mu);
  return totals;
}

}  // namespace kiln::rt::standin
