// Persistent tensors and initializers.
#include "runtime/store.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "memory/device_memory.h"

namespace kiln::rt {

Buffer::Buffer(size_t bytes, bool zero, Device device) : bytes_(bytes), device_(device) {
  const memory::DeviceMemory& m = memory::memory_of(device);
  data_ = m.allocate(bytes);
  if (zero && bytes) {
    try {
      m.zero(data_, bytes);
    } catch (...) {
      m.release(data_);
      throw;
    }
  }
}

Buffer::~Buffer() { memory::memory_of(device_).release(data_); }

void Tensor::write(const std::function<void(float*)>& fill) {
  if (buf.device() == Device::cpu) return fill(buf.f());
  std::vector<float> host(static_cast<size_t>(numel()));
  fill(host.data());
  memory::to_device(buf.device(), buf.data(), host.data(), bytes());
}

size_t dtype_size(ir::DType) { return 4; }

std::shared_ptr<Tensor> Store::find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second;
}

std::shared_ptr<Tensor> Store::create_locked(const std::string& name, const ir::Type& type, bool* created) {
  for (int64_t d : type.dims)
    if (d < 0) throw ShapeError("%" + name + ": a stored tensor cannot have a batch dimension");
  auto it = tensors_.find(name);
  if (it != tensors_.end()) {
    if (it->second->type != type)
      throw ShapeError("%" + name + " is stored as " + it->second->type.str() + " but the graph declares " + type.str());
    if (created) *created = false;
    return it->second;
  }
  auto t = std::make_shared<Tensor>(type, static_cast<size_t>(type.numel(1)) * dtype_size(type.dtype), device_);
  tensors_[name] = t;
  if (created) *created = true;
  return t;
}

std::shared_ptr<Tensor> Store::create(const std::string& name, const ir::Type& type, bool* created) {
  std::lock_guard<std::mutex> lock(mu_);
  return create_locked(name, type, created);
}

std::shared_ptr<Tensor> Store::obtain(const std::string& name, const ir::Type& type,
                                      const std::function<void(Tensor&)>& init) {
  std::lock_guard<std::mutex> lock(mu_);
  bool created = false;
  std::shared_ptr<Tensor> t = create_locked(name, type, &created);
  if (created) {
    try {
      init(*t);
    } catch (...) {
      tensors_.erase(name);  // a failed initializer leaves nothing half made behind
      throw;
    }
  }
  return t;
}

void Store::set(const std::string& name, const ir::Type& type, const void* data) {
  std::shared_ptr<Tensor> t = create(name, type);
  std::unique_lock<std::shared_mutex> lock(t->mu);
  memory::to_device(device_, t->buf.data(), data, t->bytes());
}

void Store::get(const Tensor& t, void* out) const {
  std::shared_lock<std::shared_mutex> lock(t.mu);
  memory::to_host(t.buf.device(), out, t.buf.data(), t.bytes());
}

void Store::remove(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  tensors_.erase(name);
}

std::vector<std::string> Store::names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> v;
  for (auto& [k, _] : tensors_) v.push_back(k);
  return v;
}

static void fans(const std::vector<int64_t>& d, double* fan_in, double* fan_out) {
  if (d.size() == 2) {
    *fan_in = double(d[0]);
    *fan_out = double(d[1]);
  } else if (d.size() == 4 || d.size() == 5) {  // channels-last kernels: [..spatial.., in, out]
    double rf = 1;
    for (size_t i = 0; i + 2 < d.size(); ++i) rf *= double(d[i]);
    *fan_in = double(d[d.size() - 2]) * rf;
    *fan_out = double(d[d.size() - 1]) * rf;
  } else {
    double n = 1;
    for (int64_t x : d) n *= double(x);
    *fan_in = *fan_out = std::sqrt(n);
  }
}

void initialize(float* out, const std::vector<int64_t>& dims, const std::string& kind, uint64_t seed, double scale) {
  int64_t n = 1;
  for (int64_t x : dims) n *= x;
  std::mt19937_64 rng(seed);
  double fi = 1, fo = 1;
  fans(dims, &fi, &fo);
  auto uniform = [&](double lim) {
    std::uniform_real_distribution<double> u(-lim, lim);
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(u(rng));
  };
  auto normal = [&](double sd) {
    std::normal_distribution<double> g(0.0, sd);
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(g(rng));
  };
  if (kind == "zero" || kind == "zeros") std::fill(out, out + n, 0.f);
  else if (kind == "one" || kind == "ones") std::fill(out, out + n, 1.f);
  else if (kind == "uniform") uniform(scale > 0 ? scale : 0.05);
  else if (kind == "normal") normal(scale > 0 ? scale : 0.05);
  else if (kind == "glorot_uniform") uniform(std::sqrt(6.0 / (fi + fo)));
  else if (kind == "glorot_normal") normal(std::sqrt(2.0 / (fi + fo)));
  else if (kind == "he_uniform") uniform(std::sqrt(6.0 / fi));
  else if (kind == "he_normal") normal(std::sqrt(2.0 / fi));
  else if (kind == "lecun_uniform") uniform(std::sqrt(3.0 / fi));
  else if (kind == "identity") {
    if (dims.size() != 2 || dims[0] != dims[1])
      throw ValueError("initializer 'identity' needs a square 2-D shape, got " + ir::Type{ir::DType::f32, dims}.str());
    std::fill(out, out + n, 0.f);
    for (int64_t i = 0; i < dims[0]; ++i) out[i * dims[0] + i] = static_cast<float>(scale > 0 ? scale : 1.0);
  } else if (kind == "orthogonal") {
    // Keras: the orthonormal factor of a standard normal matrix of shape (dims[0], rest),
    // times scale (1.1 in Keras 1). Gram-Schmidt over the shorter side, in double.
    int64_t rows = dims.empty() ? 1 : dims[0], cols = rows ? n / rows : 0;
    bool by_rows = rows <= cols;
    int64_t k = by_rows ? rows : cols, len = by_rows ? cols : rows;
    std::vector<double> a(n);
    std::normal_distribution<double> g(0.0, 1.0);
    for (auto& v : a) v = g(rng);
    auto at = [&](int64_t vec, int64_t i) -> double& { return by_rows ? a[vec * cols + i] : a[i * cols + vec]; };
    for (int64_t v = 0; v < k; ++v) {
      for (int pass = 0; pass < 2; ++pass)
        for (int64_t u = 0; u < v; ++u) {
          double dot = 0;
          for (int64_t i = 0; i < len; ++i) dot += at(v, i) * at(u, i);
          for (int64_t i = 0; i < len; ++i) at(v, i) -= dot * at(u, i);
        }
      double nrm = 0;
      for (int64_t i = 0; i < len; ++i) nrm += at(v, i) * at(v, i);
      nrm = std::sqrt(nrm);
      for (int64_t i = 0; i < len; ++i) at(v, i) /= nrm;
    }
    double s = scale > 0 ? scale : 1.1;
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(a[i] * s);
  } else {
    throw ValueError("unknown initializer '" + kind +
                     "' (accepted: zero, one, uniform, normal, glorot_uniform, glorot_normal, he_uniform, he_normal, "
                     "lecun_uniform, orthogonal, identity)");
  }
}

}  // namespace kiln::rt
