// The Store owns every persistent tensor by name: parameters and optimizer state. All programs
// compiled in a process bind to the same Store, so layers shared between models share weights,
// and a value set from Python (set_weights, K.set_value(lr)) is seen by the next step.
// A Store keeps its tensors on one device (memory/device_memory.h), the device of every program
// bound to it: one Store per device, and get/set copy between that device and the host.
//
// Threads: the name table is guarded by the Store's mutex; each tensor's contents by its own
// reader/writer lock, which a program run holds for the whole run (shared for the tensors it
// reads, exclusive for those it writes) and get/set hold while copying. So a predict in one
// thread sees the weights of a whole number of training steps in another, never half a step.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/device.h"
#include "ir/ir.h"

namespace kiln::rt {

// 64-byte aligned storage in a device's memory, never reallocated: programs keep raw pointers
// into it. Zero-filled unless `zero` is false (arenas: every value is written before it is
// read, and not touching the pages keeps a large plan from being charged for memory it never
// uses). A failed allocation throws OutOfMemory naming the size.
class Buffer {
 public:
  explicit Buffer(size_t bytes, bool zero = true, Device device = Device::cpu);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* data() const { return data_; }
  float* f() const { return static_cast<float*>(data_); }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

struct Tensor {
  ir::Type type;  // no batch dim
  Buffer buf;
  mutable std::shared_mutex mu;  // guards the contents of buf (see the top of this file)
  Tensor(const ir::Type& t, size_t bytes, Device d) : type(t), buf(bytes, true, d) {}
  int64_t numel() const { return type.numel(1); }
  size_t bytes() const { return static_cast<size_t>(numel()) * 4; }
  // Fills the tensor from the host: `fill` writes numel() floats, straight into the tensor on
  // the CPU, through a staging copy elsewhere.
  void write(const std::function<void(float*)>& fill);
};

class Store {
 public:
  explicit Store(Device device = Device::cpu) : device_(device) {}
  Device device() const { return device_; }
  std::shared_ptr<Tensor> find(const std::string& name) const;
  // Creates a zero-filled tensor; an existing one of the same type is returned as is, one of
  // another type is an error naming both types.
  std::shared_ptr<Tensor> create(const std::string& name, const ir::Type& type, bool* created = nullptr);
  // The tensor of this name, created and filled by `init` when absent. Creation and filling
  // happen under the Store's lock, so no other thread sees a tensor before it is initialized.
  std::shared_ptr<Tensor> obtain(const std::string& name, const ir::Type& type, const std::function<void(Tensor&)>& init);
  // Copies in from or out to the host under the tensor's lock. `set` creates the tensor when absent.
  void set(const std::string& name, const ir::Type& type, const void* data);
  void get(const Tensor& t, void* out) const;
  void remove(const std::string& name);
  std::vector<std::string> names() const;

 private:
  std::shared_ptr<Tensor> create_locked(const std::string& name, const ir::Type& type, bool* created);
  const Device device_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Tensor>> tensors_;
};


size_t dtype_size(ir::DType t);

// Fills `out` by a Keras initializer name (zeros, ones, uniform, normal, glorot_uniform,
// glorot_normal, he_uniform, he_normal, lecun_uniform, orthogonal, identity). Fans as Keras 1:
// 2-D (in, out); 4-D conv kernels [rows, cols, in, out]; otherwise sqrt(numel) each.
void initialize(float* out, const std::vector<int64_t>& dims, const std::string& kind, uint64_t seed, double scale);

}  // namespace kiln::rt
