// Binding a graph to the Store, planning, and the executor loop.
#include "runtime/program.h"

#include <chrono>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define KILN_HAVE_MXCSR 1
#endif
#include <variant>

namespace kiln::rt {

// Kernels run with denormals flushed to zero (FTZ + DAZ), as TensorFlow does on CPU. Without it,
// optimizer slots of parameters whose gradient is always 0 (MNIST's border pixels) decay into
// the denormal range, where each RMSprop update costs about 50x more: the guide's MLP spent
// 170 us of a 260 us step in apply_rmsprop on the first layer. The caller's thread gets its
// mode back after each run, so NumPy in the same thread is unaffected.
namespace {
#ifdef KILN_HAVE_MXCSR
constexpr unsigned kFlushDenormals = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)
struct FlushDenormals {
  unsigned saved = _mm_getcsr();
  FlushDenormals() { _mm_setcsr(saved | kFlushDenormals); }
  ~FlushDenormals() { _mm_setcsr(saved); }
};
// OpenMP workers are kiln's compute threads: set their mode once. The calling thread is in the
// team too, so its own mode is put back afterwards.
void flush_denormals_in_workers() {
  unsigned caller = _mm_getcsr();
#pragma omp parallel
  _mm_setcsr(_mm_getcsr() | kFlushDenormals);
  _mm_setcsr(caller);
}
#else
struct FlushDenormals {};
void flush_denormals_in_workers() {}
#endif
}  // namespace

Program::Program(std::shared_ptr<Store> store, ir::Graph g, uint64_t seed) : store_(std::move(store)), g_(std::move(g)) {
  ir::verify(g_);
  persistent_.resize(g_.values.size());
  auto bind_decl = [&](int v) {
    const ir::Value& val = g_.values[v];
    bool created = false;
    std::shared_ptr<Tensor> t = store_->find(val.name);
    if (!t) {
      if (!ir::has_attr(val.attrs, "init"))
        throw ValueError("%" + val.name + " has no stored value and no 'init' to create it from");
      t = store_->create(val.name, val.type, &created);
      const ir::AttrValue& init = val.attrs.at("init");
      if (auto s = std::get_if<std::string>(&init)) {
        uint64_t sd = static_cast<uint64_t>(ir::attr_int(val.attrs, "seed", static_cast<int64_t>(seed + v)));
        initialize(t->buf.f(), val.type.dims, *s, sd, ir::attr_float(val.attrs, "scale", 0.0));
      } else {
        float x = static_cast<float>(ir::attr_float(val.attrs, "init", 0.0));
        std::fill(t->buf.f(), t->buf.f() + t->numel(), x);
      }
    } else if (t->type != val.type) {
      throw ShapeError("%" + val.name + " is stored as " + t->type.str() + " but the graph declares " + val.type.str());
    }
    persistent_[v] = t;
  };
  for (int v : g_.params) bind_decl(v);
  for (int v : g_.states) bind_decl(v);
  for (const ir::Node& n : g_.nodes)
    if (!cpu::find_kernel(n.op)) throw ValueError("[" + n.op + "] has no CPU kernel");
}

Program::Bound& Program::bind(int64_t batch) {
  auto it = bound_.find(batch);
  if (it != bound_.end()) return *it->second;
  flush_denormals_in_workers();
  auto b = std::make_unique<Bound>();
  b->batch = batch;
  b->plan = memory::plan_memory(g_, batch);
  b->arena = std::make_unique<Buffer>(b->plan.arena_bytes);
  auto view = [&](int v) {
    cpu::TensorView t;
    const ir::Value& val = g_.values[v];
    t.dtype = val.type.dtype;
    for (int64_t d : val.type.dims) t.dims.push_back(ir::concrete_dim(d, batch));
    t.numel = val.type.numel(batch);
    if (persistent_[v]) t.data = persistent_[v]->buf.data();
    else t.data = static_cast<char*>(b->arena->data()) + b->plan.offset[v];
    return t;
  };
  for (const ir::Node& n : g_.nodes) {
    Step s{cpu::find_kernel(n.op), &n, {}, {}};
    for (int v : n.inputs) s.in.push_back(view(v));
    for (int v : n.outputs) s.out.push_back(view(v));
    b->steps.push_back(std::move(s));
  }
  for (int v : g_.inputs) b->inputs.push_back(view(v));
  for (int v : g_.outputs) b->outputs.push_back(view(v));
  Bound& ref = *b;
  bound_[batch] = std::move(b);
  return ref;
}

void Program::set_profiling(bool on) {
  profiling_ = on;
  times_.assign(g_.nodes.size(), NodeTime{});
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    times_[i].op = g_.nodes[i].op;
    if (!g_.nodes[i].outputs.empty()) times_[i].result = g_.values[g_.nodes[i].outputs[0]].name;
  }
}

void Program::execute(Bound& b) {
  FlushDenormals ftz;
  // Per-program run counter: random ops mix it with their seed, so a seeded model repeats.
  ++ctx_.step;
  for (size_t i = 0; i < b.steps.size(); ++i) {
    Step& s = b.steps[i];
    try {
      if (profiling_) {
        auto t0 = std::chrono::steady_clock::now();
        s.kernel(cpu::KernelArgs{*s.node, s.in, s.out, ctx_});
        times_[i].seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++times_[i].calls;
        continue;
      }
      s.kernel(cpu::KernelArgs{*s.node, s.in, s.out, ctx_});
    } catch (const Error& e) {
      const ir::Node& n = *s.node;
      std::string where = n.line ? "line " + std::to_string(n.line) + ": " : std::string();
      if (!n.outputs.empty()) where += "%" + g_.values[n.outputs[0]].name + " = ";
      throw ValueError(where + n.op + ": " + e.what());
    }
  }
}

}  // namespace kiln::rt
