// Binding a graph to the Store, the per-batch Execution pool, and the executor loop.
#include "runtime/program.h"

#include <algorithm>
#include <chrono>
#include <variant>

#include "memory/device_memory.h"
#include "ops/registry.h"
#include "runtime/denormals.h"
#include "runtime/numerics.h"

namespace kiln::rt {

namespace {
// A nested graph's Execution, leased from its program for as long as the parent's Execution lives.
class NestedRun final : public kernels::Subgraph {
 public:
  NestedRun(const Program& p, const ir::Sizes& sizes) : p_(p), lease_(p.acquire(sizes)) {}
  const std::vector<kernels::TensorView>& inputs() const override { return lease_->inputs; }
  const std::vector<kernels::TensorView>& outputs() const override { return lease_->outputs; }
  void run(kernels::ExecContext& ctx) override { p_.run_nested(*lease_, ctx); }

 private:
  const Program& p_;
  Program::Lease lease_;
};
}  // namespace

Program::Program(std::shared_ptr<Store> store, ir::Graph g, uint64_t seed, bool check_numerics, kernels::Device device)
    : store_(std::move(store)), g_(std::move(g)), check_numerics_(check_numerics), device_(device) {
  if (store_->device() != device_)
    throw ValueError(std::string("this Store keeps its tensors on ") + kernels::device_name(store_->device()) +
                     ", so it cannot hold the weights of a program for " + kernels::device_name(device_) +
                     " (one Store per device)");
  if (check_numerics_ && device_ != kernels::Device::cpu)
    throw ValueError(std::string("numerics checking reads every result on the host, so it runs on CPU programs only, not on ") +
                     kernels::device_name(device_));
  ir::verify(g_);
  for (const ir::Node& n : g_.nodes) {
    kernels::Kernel k = kernels::find_kernel(device_, n.op);
    if (!k)
      throw ValueError("[" + n.op + "] has no " + (device_ == kernels::Device::cpu ? "CPU" : "CUDA") +
                       " kernel, so this graph cannot run on " + kernels::device_name(device_) +
                       " (a program runs on one device, with no fallback to another)");
    kernels_.push_back(k);
    const ops::Schema& schema = ops::Registry::get().at(n.op);
    bodies_.push_back(schema.runs_body() ? std::make_unique<Program>(store_, ops::body_of(g_, n.attrs, n.op), seed,
                                                                     check_numerics, device_)
                                         : nullptr);
  }
  persistent_.resize(g_.values.size());
  auto bind_decl = [&](int v) {
    const ir::Value& val = g_.values[v];
    std::shared_ptr<Tensor> t = store_->find(val.name);
    if (!t) {
      if (!ir::has_attr(val.attrs, "init"))
        throw ValueError("%" + val.name + " has no stored value and no 'init' to create it from");
      t = store_->obtain(val.name, val.type, [&](Tensor& fresh) {
        const ir::AttrValue& init = val.attrs.at("init");
        fresh.write([&](float* out) {
          if (auto s = std::get_if<std::string>(&init)) {
            uint64_t sd = static_cast<uint64_t>(ir::attr_int(val.attrs, "seed", static_cast<int64_t>(seed + v)));
            initialize(out, val.type.dims, *s, sd, ir::attr_float(val.attrs, "scale", 0.0));
          } else {
            std::fill(out, out + fresh.numel(), static_cast<float>(ir::attr_float(val.attrs, "init", 0.0)));
          }
        });
      });
    }
    if (t->type != val.type)
      throw ShapeError("%" + val.name + " is stored as " + t->type.str() + " but the graph declares " + val.type.str());
    persistent_[v] = t;
  };
  for (int v : g_.params) bind_decl(v);
  for (int v : g_.states) bind_decl(v);

  std::map<Tensor*, bool> written;  // every stored tensor the program touches -> whether it writes it
  for (size_t v = 0; v < persistent_.size(); ++v)
    if (persistent_[v]) written.emplace(persistent_[v].get(), false);
  for (const ir::Node& n : g_.nodes) {
    writes_.push_back(ops::Registry::get().at(n.op).writes);
    for (int i : writes_.back())
      if (i < static_cast<int>(n.inputs.size()) && persistent_[n.inputs[i]]) written[persistent_[n.inputs[i]].get()] = true;
  }
  for (auto& [t, w] : written) access_.push_back({t, w});  // std::map orders by address
  for (const ir::Value& v : g_.values) named_ = named_ || v.type.has_names();
}

Program::~Program() = default;

// Re-infers every node with the named dims' lengths put in (the batch stays symbolic, as the
// shape rules expect it): what the symbolic verifier let through because ?t and ?u may be equal
// is checked here, once per plan.
void Program::check_sizes(const ir::Sizes& sizes) const {
  auto bound = [&](const ir::Type& t) {
    ir::Type b = t;
    for (int64_t& d : b.dims) d = ir::bind_names(d, sizes);
    return b;
  };
  for (const ir::Node& n : g_.nodes) {
    std::vector<ir::Type> in, want;
    for (int v : n.inputs) in.push_back(bound(g_.values[v].type));
    for (int v : n.outputs) want.push_back(bound(g_.values[v].type));
    std::vector<ir::Type> got;
    try {
      got = ops::infer(n.op, in, n.attrs, &g_);
    } catch (const Error& e) {
      throw ShapeError(where(n) + "at " + sizes.str() + ": " + e.what());
    }
    for (size_t i = 0; i < got.size() && i < want.size(); ++i)
      if (bound(got[i]) != want[i])  // a result type taken from a nested graph keeps its names
        throw ShapeError(where(n) + "at " + sizes.str() + " result " + std::to_string(i) + " is " + got[i].str() +
                         ", not " + want[i].str());
  }
}

std::shared_ptr<const memory::Plan> Program::plan(const ir::Sizes& sizes) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(sizes);
    if (it != plans_.end()) {
      plan_order_.erase(std::find(plan_order_.begin(), plan_order_.end(), sizes));
      plan_order_.push_back(sizes);
      return it->second;
    }
  }
  if (named_) check_sizes(sizes);
  auto p = std::make_shared<const memory::Plan>(memory::plan_memory(g_, sizes));  // outside the lock: pure
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = plans_.emplace(sizes, p);
  if (!inserted) return it->second;  // another thread planned it meanwhile
  plan_order_.push_back(sizes);
  if (plans_.size() > kMaxPlans) {
    ir::Sizes old = plan_order_.front();
    plan_order_.erase(plan_order_.begin());
    plans_.erase(old);
    idle_.erase(old);  // their arenas go with the plan
  }
  return p;
}

size_t Program::cached_plans() const {
  std::lock_guard<std::mutex> lock(mu_);
  return plans_.size();
}

std::unique_ptr<Execution> Program::make_execution(const ir::Sizes& sizes) const {
  auto e = std::make_unique<Execution>();
  e->sizes = sizes;
  e->batch = sizes.batch;
  e->plan = plan(sizes);
  e->device = device_;
  e->arena = std::make_unique<Buffer>(e->plan->arena_bytes, /*zero=*/false, device_);
  auto view = [&](int v) {
    kernels::TensorView t;
    const ir::Value& val = g_.values[v];
    t.dtype = val.type.dtype;
    for (int64_t d : val.type.dims) t.dims.push_back(ir::concrete_dim(d, sizes));
    t.numel = val.type.numel(sizes);
    if (persistent_[v]) t.data = persistent_[v]->buf.data();
    else t.data = static_cast<char*>(e->arena->data()) + e->plan->offset[v];
    return t;
  };
  e->steps.resize(g_.nodes.size());
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    for (int v : g_.nodes[i].inputs) e->steps[i].in.push_back(view(v));
    for (int v : g_.nodes[i].outputs) e->steps[i].out.push_back(view(v));
    if (bodies_[i]) e->steps[i].body = std::make_unique<NestedRun>(*bodies_[i], sizes);
  }
  for (int v : g_.inputs) e->inputs.push_back(view(v));
  for (int v : g_.outputs) e->outputs.push_back(view(v));
  // The places of each input and output value, and whether a run may move them (program.h).
  auto places = [&](int v, int own_slot, bool own_out) {
    std::vector<Execution::Place> out{{-1, own_slot, own_out}};
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      const ir::Node& n = g_.nodes[i];
      for (size_t k = 0; k < n.inputs.size(); ++k)
        if (n.inputs[k] == v) out.push_back({int(i), int(k), false});
      for (size_t k = 0; k < n.outputs.size(); ++k)
        if (n.outputs[k] == v) out.push_back({int(i), int(k), true});
    }
    return out;
  };
  auto written = [&](int v) {
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      for (int k : writes_[i])
        if (g_.nodes[i].inputs[k] == v) return true;
    return false;
  };
  auto count = [](const std::vector<int>& vs, int v) { return std::count(vs.begin(), vs.end(), v); };
  bool host = device_ == kernels::Device::cpu;  // a caller's array is host memory
  for (size_t i = 0; i < g_.inputs.size(); ++i) {
    int v = g_.inputs[i];
    e->input_places.push_back(places(v, int(i), false));
    e->input_bindable.push_back(host && !persistent_[v] && count(g_.outputs, v) == 0 && !written(v));
    e->input_home.push_back(e->inputs[i].data);
  }
  for (size_t j = 0; j < g_.outputs.size(); ++j) {
    int v = g_.outputs[j];
    e->output_places.push_back(places(v, int(j), true));
    e->output_bindable.push_back(host && !persistent_[v] && count(g_.inputs, v) == 0 && count(g_.outputs, v) == 1 &&
                                 !written(v));
    e->output_home.push_back(e->outputs[j].data);
  }
  return e;
}

namespace {
void set_places(Execution& ex, const std::vector<Execution::Place>& places, bool graph_out, void* data) {
  for (const Execution::Place& p : places) {
    if (p.step < 0) (graph_out ? ex.outputs : ex.inputs)[p.slot].data = data;
    else (p.out ? ex.steps[p.step].out : ex.steps[p.step].in)[p.slot].data = data;
  }
}
}  // namespace

void write_input(Execution& ex, size_t i, const void* host) {
  memory::to_device(ex.device, ex.inputs[i].data, host, static_cast<size_t>(ex.inputs[i].numel) * 4);
}

void read_output(const Execution& ex, size_t j, void* host) {
  memory::to_host(ex.device, host, ex.outputs[j].data, static_cast<size_t>(ex.outputs[j].numel) * 4);
}

void bind_input(Execution& ex, size_t i, const void* data) {
  if (i >= ex.inputs.size() || !ex.input_bindable[i]) throw ValueError("input " + std::to_string(i) + " cannot be bound");
  set_places(ex, ex.input_places[i], false, data ? const_cast<void*>(data) : ex.input_home[i]);
}

void bind_output(Execution& ex, size_t j, void* data) {
  if (j >= ex.outputs.size() || !ex.output_bindable[j]) throw ValueError("output " + std::to_string(j) + " cannot be bound");
  set_places(ex, ex.output_places[j], true, data ? data : ex.output_home[j]);
}

ir::Sizes Program::sizes_for(const std::vector<std::vector<int64_t>>& shapes) const {
  if (shapes.size() != g_.inputs.size())
    throw ValueError("the program takes " + std::to_string(g_.inputs.size()) + " inputs, got " + std::to_string(shapes.size()));
  ir::Sizes s(1);
  bool have_batch = false;
  std::vector<uint64_t> bound;
  auto input_name = [&](size_t i) { return "%" + g_.values[g_.inputs[i]].name; };
  for (size_t i = 0; i < shapes.size(); ++i) {
    const ir::Type& t = g_.values[g_.inputs[i]].type;
    if (static_cast<int>(shapes[i].size()) != t.rank()) continue;  // reported below
    for (int k = 0; k < t.rank(); ++k) {
      int64_t d = t.dims[k], n = shapes[i][k];
      if (d == ir::kBatch && !have_batch && k == 0) {
        s.batch = n;
        have_batch = true;
      } else if (ir::is_named(d)) {
        uint64_t code = ir::dim_parts(d).name;
        if (std::find(bound.begin(), bound.end(), code) != bound.end()) continue;
        if (n < 1)
          throw ShapeError("input " + input_name(i) + " gives dynamic dim ?" + ir::dim_name(code) + " the length " +
                           std::to_string(n) + "; it must be at least 1");
        s.set(code, n);
        bound.push_back(code);
      }
    }
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    const ir::Type& t = g_.values[g_.inputs[i]].type;
    bool ok = static_cast<int>(shapes[i].size()) == t.rank();
    try {
      for (int k = 0; ok && k < t.rank(); ++k) ok = ir::concrete_dim(t.dims[k], s) == shapes[i][k];
    } catch (const ShapeError&) {
      ok = false;  // a named dim no input gives alone
    }
    if (!ok)
      throw ShapeError("input " + input_name(i) + " expects " + t.str() + ", got an array of shape " +
                       ir::Type{ir::DType::f32, shapes[i]}.str().substr(3) + " (" + s.str() + ")");
  }
  return s;
}

Program::Lease Program::acquire(const ir::Sizes& sizes) const {
  if (sizes.batch < 0) throw ValueError("batch size must not be negative, got " + std::to_string(sizes.batch));
  for (const auto& [code, n] : sizes.named)
    if (n < 1) throw ValueError("dynamic dim ?" + ir::dim_name(code) + " must be at least 1, got " + std::to_string(n));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = idle_.find(sizes);
    if (it != idle_.end()) {
      std::unique_ptr<Execution> e = std::move(it->second);
      idle_.erase(it);
      return Lease(this, std::move(e));
    }
  }
  return Lease(this, make_execution(sizes));
}

void Program::release(std::unique_ptr<Execution> e) const {
  std::lock_guard<std::mutex> lock(mu_);
  // Keep it only while its plan is still cached and the size has room: memory stays bounded.
  if (plans_.count(e->sizes) && idle_.count(e->sizes) < kMaxIdlePerBatch) idle_.emplace(e->sizes, std::move(e));
}

Program::Lease::~Lease() {
  if (e_) p_->release(std::move(e_));
}

void Program::set_profiling(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  times_.assign(g_.nodes.size(), NodeTime{});
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    times_[i].op = g_.nodes[i].op;
    if (!g_.nodes[i].outputs.empty()) times_[i].result = g_.values[g_.nodes[i].outputs[0]].name;
  }
  profiling_.store(on);
}

std::vector<Program::NodeTime> Program::profile() const {
  std::lock_guard<std::mutex> lock(mu_);
  return times_;
}

namespace {
// Holds the locks of a program's stored tensors in the program's (address) order; no heap
// allocation (this is on every run's path).
template <typename A>
class TensorLocks {
 public:
  explicit TensorLocks(const std::vector<A>& access) : access_(access) {
    try {
      for (; held_ < access_.size(); ++held_) {
        if (access_[held_].write) access_[held_].tensor->mu.lock();
        else access_[held_].tensor->mu.lock_shared();
      }
    } catch (...) {
      unlock();
      throw;
    }
  }
  ~TensorLocks() { unlock(); }

 private:
  void unlock() {
    while (held_ > 0) {
      const A& a = access_[--held_];
      if (a.write) a.tensor->mu.unlock();
      else a.tensor->mu.unlock_shared();
    }
  }
  const std::vector<A>& access_;
  size_t held_ = 0;
};
}  // namespace

// "line 12: %dense_1 = dense: " for errors raised while running node n.
std::string Program::where(const ir::Node& n) const {
  std::string w = n.line ? "line " + std::to_string(n.line) + ": " : std::string();
  if (!n.outputs.empty()) w += "%" + g_.values[n.outputs[0]].name + " = ";
  return w + n.op + ": ";
}

// Numerics checking: the graph's inputs and the stored tensors it reads, before the first node.
void Program::check_stored(const Execution& ex) const {
  check_inputs(g_, g_.inputs, ex.inputs);
  std::vector<int> ids;
  std::vector<kernels::TensorView> views;
  for (size_t v = 0; v < persistent_.size(); ++v)
    if (persistent_[v]) {
      ids.push_back(static_cast<int>(v));
      kernels::TensorView t;
      t.data = persistent_[v]->buf.data();
      t.dims = persistent_[v]->type.dims;
      t.numel = persistent_[v]->numel();
      t.dtype = persistent_[v]->type.dtype;
      views.push_back(t);
    }
  check_inputs(g_, ids, views);
}

void Program::run(Execution& ex) const {
  if (ex.steps.size() != g_.nodes.size()) throw ValueError("this Execution belongs to another program");
  FlushDenormals ftz;
  TensorLocks<Access> locks(access_);
  ex.ctx.step = ++runs_;
  bool profiling = profiling_.load(std::memory_order_relaxed);
  if (check_numerics_) check_stored(ex);
  std::vector<double> seconds(profiling ? g_.nodes.size() : 0, 0.0);
  run_nodes(ex, ex.ctx, profiling ? &seconds : nullptr);
  if (profiling) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < seconds.size() && i < times_.size(); ++i) {
      times_[i].seconds += seconds[i];
      ++times_[i].calls;
    }
  }
}

void Program::run_nested(Execution& ex, kernels::ExecContext& ctx) const {
  if (ex.steps.size() != g_.nodes.size()) throw ValueError("this Execution belongs to another program");
  if (check_numerics_) check_inputs(g_, g_.inputs, ex.inputs);
  run_nodes(ex, ctx, nullptr);
}

void Program::run_nodes(Execution& ex, kernels::ExecContext& ctx, std::vector<double>* seconds) const {
  for (size_t i = 0; i < ex.steps.size(); ++i) {
    const ir::Node& n = g_.nodes[i];
    Execution::Step& s = ex.steps[i];
    try {
      auto t0 = seconds ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      kernels_[i](kernels::KernelArgs{n, s.in, s.out, ctx, s.body.get(), &g_});
      if (seconds) (*seconds)[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (check_numerics_) check_node(g_, n, s.in, s.out, writes_[i]);
    } catch (const OutOfMemory& e) {
      throw OutOfMemory(where(n) + e.what());
    } catch (const NumericsError& e) {
      throw;  // already names the node
    } catch (const Error& e) {
      throw ValueError(where(n) + e.what());
    }
  }
}

}  // namespace kiln::rt
