// kiln._core: converts types and forwards calls. IR text in, programs out, NumPy buffers both
// ways. Public names, docstrings and the exception hierarchy live in python/kiln.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <tuple>

#ifdef KILN_HAVE_OPENMP
#include <omp.h>
#endif

#include "bundle/bundle.h"
#include "cuda/device.h"
#include "ir/ir.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/data_checks.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/recurrent.h"
#include "ops/registry.h"
#include "passes/passes.h"
#include "runtime/compile.h"
#include "memory/device_memory.h"
#include "runtime/loop.h"
#include "runtime/standin.h"

namespace py = pybind11;
using namespace kiln;

namespace {

using F32Array = py::array_t<float, py::array::c_style | py::array::forcecast>;

// A new float32 array of these dims (an empty list gives a 0-d array, not shape (1,)).
py::array_t<float> new_array(const std::vector<int64_t>& dims) {
  return py::array_t<float>(py::array::ShapeContainer(std::vector<py::ssize_t>(dims.begin(), dims.end())));
}

py::object type_to_py(const ir::Type& t) {
  py::list dims;
  // None is the batch; other symbolic dims (?*k, ?t, ?*?t) travel as their negative encoding
  // (ir/dims.h; kiln._core.dim_info decodes one).
  for (int64_t d : t.dims) dims.append(d == ir::kBatch ? py::none() : py::object(py::int_(d)));
  return py::make_tuple(ir::dtype_name(t.dtype), py::tuple(dims));
}

ir::Type type_from_py(const py::handle& h) {
  auto tup = h.cast<py::tuple>();
  ir::Type t;
  std::string dt = tup[0].cast<std::string>();
  if (dt == "f32" || dt == "float32") t.dtype = ir::DType::f32;
  else if (dt == "i32" || dt == "int32") t.dtype = ir::DType::i32;
  else throw ValueError("unknown dtype '" + dt + "'");
  for (auto d : tup[1].cast<py::sequence>()) t.dims.push_back(d.is_none() ? ir::kBatch : d.cast<int64_t>());
  return t;
}

ir::Attrs attrs_from_py(const py::dict& d) {
  ir::Attrs a;
  for (auto [k, v] : d) {
    std::string key = k.cast<std::string>();
    if (py::isinstance<py::bool_>(v)) a[key] = static_cast<int64_t>(v.cast<bool>());
    else if (py::isinstance<py::int_>(v)) a[key] = v.cast<int64_t>();
    else if (py::isinstance<py::float_>(v)) a[key] = v.cast<double>();
    else if (py::isinstance<py::str>(v)) a[key] = v.cast<std::string>();
    else a[key] = v.cast<std::vector<int64_t>>();
  }
  return a;
}

py::object attr_to_py(const ir::AttrValue& v, ops::AttrKind kind) {
  if (auto p = std::get_if<int64_t>(&v)) return kind == ops::AttrKind::boolean ? py::object(py::bool_(*p != 0)) : py::int_(*p);
  if (auto p = std::get_if<double>(&v)) return py::float_(*p);
  if (auto p = std::get_if<std::string>(&v)) return py::str(*p);
  return py::cast(std::get<std::vector<int64_t>>(v));
}

std::vector<int64_t> shape_of(const ir::Type& t, const ir::Sizes& sizes) {
  std::vector<int64_t> s;
  for (int64_t d : t.dims) s.push_back(ir::concrete_dim(d, sizes));
  return s;
}

std::vector<std::vector<int64_t>> shapes_of(const std::vector<F32Array>& arrays) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& a : arrays) out.emplace_back(a.shape(), a.shape() + a.ndim());
  return out;
}

std::vector<rt::HostArray> host_arrays(const std::vector<F32Array>& arrays) {
  std::vector<rt::HostArray> out;
  for (const auto& a : arrays) {
    int64_t rows = a.ndim() ? a.shape(0) : 1;
    int64_t row_bytes = rows ? static_cast<int64_t>(a.size()) / rows * 4 : 0;
    out.push_back({reinterpret_cast<const char*>(a.data()), rows, row_bytes});
  }
  return out;
}

// Spec of `train=` in compile(): (optimizer name, hyper-parameters, state-name prefix[, constraints
// {param name: apply_constraint's attributes}[, replicated]]).
struct TrainSpec {
  std::string name;
  std::map<std::string, double> hyper;
  std::string prefix;
  std::map<std::string, ir::Attrs> constraints;
  bool replicated = false;
};

// train= from Python: None, or a tuple (name, hyper, prefix[, constraints[, replicated]]).
std::optional<TrainSpec> train_spec(const py::object& t) {
  if (t.is_none()) return std::nullopt;
  auto tup = t.cast<py::tuple>();
  if (tup.size() < 3 || tup.size() > 5)
    throw ValueError("train= takes (optimizer, hyper-parameters, prefix[, constraints[, replicated]])");
  TrainSpec s{tup[0].cast<std::string>(), tup[1].cast<std::map<std::string, double>>(), tup[2].cast<std::string>(), {}};
  if (tup.size() >= 4)
    for (auto [name, attrs] : tup[3].cast<py::dict>()) s.constraints[name.cast<std::string>()] = attrs_from_py(attrs.cast<py::dict>());
  if (tup.size() == 5) s.replicated = tup[4].cast<bool>();
  return s;
}

rt::CompileOptions compile_options(const std::optional<TrainSpec>& train, bool optimize, uint64_t seed,
                                   bool check_numerics = false, const std::string& device = "cpu") {
  rt::CompileOptions o;
  o.device = kernels::device_named(device);
  o.check_numerics = check_numerics;
  if (train) o.train = passes::OptimizerSpec{train->name, train->hyper, train->prefix, train->constraints, train->replicated};
  o.optimize = optimize;
  o.seed = seed;
  return o;
}

// comm= of the native loops: None, or the capsule kiln._mpi's Communicator.capsule() gives
// (base/communicator.h); the Python object behind it outlives the call.
Communicator* communicator_of(const py::object& c) {
  if (c.is_none()) return nullptr;
  if (!py::isinstance<py::capsule>(c))
    throw ValueError("comm= takes None or a communicator's capsule (kiln.distributed)");
  auto cap = c.cast<py::capsule>();
  const char* name = cap.name();
  if (!name || std::string(name) != "kiln.Communicator")
    throw ValueError("comm= got a capsule that is not a kiln.Communicator");
  return cap.get_pointer<Communicator>();
}

// Polled between steps of the native loops: a pending Ctrl-C (or another signal whose Python
// handler raises) stops the loop after the step that is running, with the handler's exception.
// Handlers run on the main thread only; elsewhere this is a no-op.
rt::Poll signal_poll() {
  rt::Poll p;
  p.fn = [] {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
  return p;
}

// A compiled program. Every method may be called from several threads at once: each call runs
// on an Execution of its own (the GIL is released while it computes), and results are copied
// out before that Execution goes back to the pool.
class PyProgram {
 public:
  explicit PyProgram(std::shared_ptr<rt::Program> p) : p_(std::move(p)) {}

  std::string text() const { return ir::print(p_->graph()); }

  py::list run(const std::vector<F32Array>& arrays) {
    const ir::Graph& g = p_->graph();
    if (arrays.size() != g.inputs.size())
      throw ValueError("the program takes " + std::to_string(g.inputs.size()) + " inputs, got " + std::to_string(arrays.size()));
    ir::Sizes sizes = p_->sizes_for(shapes_of(arrays));
    std::vector<py::array_t<float>> outs;
    std::vector<float*> dst;
    for (int v : g.outputs) {
      outs.push_back(new_array(shape_of(g.values[v].type, sizes)));
      dst.push_back(outs.back().mutable_data());
    }
    {
      py::gil_scoped_release nogil;
      rt::Program::Lease ex = p_->acquire(sizes);
      for (size_t i = 0; i < arrays.size(); ++i) rt::write_input(*ex, i, arrays[i].data());
      p_->run(*ex);
      for (size_t j = 0; j < dst.size(); ++j) rt::read_output(*ex, j, dst[j]);
    }
    py::list result;
    for (auto& a : outs) result.append(a);
    return result;
  }

  // `order`: an int64 array of rows to visit, or an int seed for a native shuffle of all rows.
  // `comm`: None, or a communicator capsule (kiln.distributed) to shard the batches over.
  py::tuple run_epoch(const std::vector<F32Array>& arrays, int64_t batch_size, const py::object& order,
                      bool every_batch, double interval_s, py::object on_batch_begin, py::object on_progress,
                      const py::object& comm) {
    Communicator* c = communicator_of(comm);
    std::vector<rt::HostArray> hs = host_arrays(arrays);
    ir::Sizes dims = p_->sizes_for(shapes_of(arrays));
    std::vector<int64_t> ord;
    if (py::isinstance<py::int_>(order)) {
      ord = rt::shuffled_order(hs.empty() ? 0 : hs[0].rows, order.cast<uint64_t>());
    } else {
      auto a = order.cast<py::array_t<int64_t, py::array::c_style | py::array::forcecast>>();
      ord.assign(a.data(), a.data() + a.size());
    }
    rt::EpochHooks hooks;
    hooks.every_batch = every_batch;
    hooks.interval_s = interval_s;
    hooks.poll = signal_poll();
    if (!on_batch_begin.is_none())
      hooks.on_batch_begin = [&](int64_t b, int64_t size) {
        py::gil_scoped_acquire gil;
        return on_batch_begin(b, size).cast<bool>();
      };
    if (!on_progress.is_none())
      hooks.on_progress = [&](int64_t b, int64_t size, int64_t seen, const std::vector<double>& vals,
                              const std::vector<double>& means) {
        py::gil_scoped_acquire gil;
        return on_progress(b, size, seen, vals, means).cast<bool>();
      };
    rt::EpochResult r;
    {
      py::gil_scoped_release nogil;
      r = rt::run_epoch(*p_, hs, batch_size, ord, hooks, dims, c);
    }
    return py::make_tuple(r.means, r.seen, r.stopped);
  }

  py::list predict(const std::vector<F32Array>& arrays, int64_t batch_size) {
    const ir::Graph& g = p_->graph();
    int64_t n = arrays.empty() ? 0 : (arrays[0].ndim() ? arrays[0].shape(0) : 1);
    ir::Sizes dims = p_->sizes_for(shapes_of(arrays));
    dims.batch = n;
    std::vector<py::array_t<float>> outs;
    std::vector<char*> ptrs;
    for (int v : g.outputs) {
      outs.push_back(new_array(shape_of(g.values[v].type, dims)));
      ptrs.push_back(reinterpret_cast<char*>(outs.back().mutable_data()));
    }
    std::vector<rt::HostArray> hs = host_arrays(arrays);
    {
      py::gil_scoped_release nogil;
      rt::run_predict(*p_, hs, batch_size, ptrs, signal_poll(), dims);
    }
    py::list result;
    for (auto& o : outs) result.append(o);
    return result;
  }

  void set_profiling(bool on) { p_->set_profiling(on); }
  py::list profile() const {
    py::list out;
    for (auto& t : p_->profile()) out.append(py::make_tuple(t.op, t.result, t.seconds, t.calls));
    return out;
  }

  // The plan at a batch size and, for a graph with named dims, their lengths ({"t1": 120}).
  py::dict plan(int64_t batch, const std::map<std::string, int64_t>& dims) {
    ir::Sizes sizes(batch);
    for (const auto& [name, n] : dims) sizes.set(ir::dim_name_code(name), n);
    std::shared_ptr<const memory::Plan> p = p_->plan(sizes);
    py::dict d;
    d["arena_bytes"] = p->arena_bytes;
    d["naive_bytes"] = p->naive_bytes;
    return d;
  }

  uint64_t runs() const { return p_->runs(); }
  const rt::Program& program() const { return *p_; }
  void set_runs(uint64_t n) { p_->set_runs(n); }

 private:
  std::shared_ptr<rt::Program> p_;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "kiln native core (private: use the kiln package)";
  static py::exception<kiln::Error> base(m, "KilnError", PyExc_RuntimeError);
  static py::exception<kiln::ParseError> parse_error(m, "ParseError", PyExc_ValueError);
  static py::exception<kiln::ShapeError> shape_error(m, "ShapeError", PyExc_ValueError);
  static py::exception<kiln::ValueError> value_error(m, "ValueError", PyExc_ValueError);
  static py::exception<kiln::OutOfMemory> out_of_memory(m, "OutOfMemory", PyExc_MemoryError);
  static py::exception<kiln::NumericsError> numerics_error(m, "NumericsError", PyExc_FloatingPointError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const kiln::OutOfMemory& e) {
      py::set_error(out_of_memory, e.what());
    } catch (const kiln::NumericsError& e) {
      py::set_error(numerics_error, e.what());
    } catch (const kiln::ParseError& e) {
      py::set_error(parse_error, e.what());
    } catch (const kiln::ShapeError& e) {
      py::set_error(shape_error, e.what());
    } catch (const kiln::ValueError& e) {
      py::set_error(value_error, e.what());
    } catch (const kiln::Error& e) {
      py::set_error(base, e.what());
    }
  });

  // IR text after the compile pipeline (runtime/compile.h), for inspection and tests.
  m.def("parse", [](const std::string& text) { return ir::print(rt::compile_graph(text, compile_options({}, false, 0))); });
  m.def("parse_only", [](const std::string& text) { return ir::print(ir::parse(text)); });
  // An op that runs a nested graph (scan) is inferred against `body`, the IR text of that graph
  // (named as the op's `body` attribute says).
  m.def(
      "infer",
      [](const std::string& op, const py::list& types, const py::dict& attrs, const std::string& body) {
        std::vector<ir::Type> in;
        for (auto t : types) in.push_back(type_from_py(t));
        ir::Graph scope;
        if (!body.empty()) {
          scope.bodies.push_back(ir::parse(body));
          ir::verify(scope.bodies.back());
        }
        py::list out;
        for (auto& t : ops::infer(op, in, attrs_from_py(attrs), &scope)) out.append(type_to_py(t));
        return out;
      },
      py::arg("op"), py::arg("types"), py::arg("attrs"), py::arg("body") = "");
  // Dims (ir/dims.h): dim("t") is ?t, dim("t", batch=True) is ?*?t, dim(batch=True, factor=3) ?*3.
  m.def(
      "dim",
      [](const std::string& name, bool batch, int64_t factor) {
        return ir::make_dim({batch, name.empty() ? 0 : ir::dim_name_code(name), factor});
      },
      py::arg("name") = "", py::arg("batch") = false, py::arg("factor") = 1);
  m.def("dim_info", [](int64_t d) {  // (batch, name or "", factor) of a symbolic dim
    if (d >= 0) throw ValueError(std::to_string(d) + " is a static dim");
    ir::DimParts p = ir::dim_parts(d);
    return py::make_tuple(p.batch, p.name ? ir::dim_name(p.name) : std::string(), p.factor);
  });
  m.def("dim_text", [](int64_t d) { return ir::dim_text(d); });
  // Test and benchmark aid: the method conv2d's CPU kernels use for these shapes.
  m.def("conv2d_method", [](const std::string& op, const std::vector<int64_t>& x, const std::vector<int64_t>& w,
                            const py::dict& attrs) {
    ir::Node n;
    n.op = op;
    n.attrs = attrs_from_py(attrs);
    return cpu::conv2d_method(n, x, w);
  });
  m.def("op_names", [] { return ops::Registry::get().names(); });
  m.def("op_info", [](const std::string& name) {
    const ops::Schema& s = ops::Registry::get().at(name);
    py::dict d;
    d["inputs"] = s.input_names;
    // attrs: the names, in declaration order; then each one's kind ("int", "float", "str",
    // "ints", "bool") and either its default, or that it is required, or what its absence means.
    py::list names, required;
    py::dict kinds, defaults, when_absent;
    for (const ops::AttrSpec& a : s.attrs) {
      names.append(a.name);
      kinds[py::str(a.name)] = ops::attr_kind_name(a.kind);
      if (a.presence == ops::AttrSpec::Presence::defaulted) defaults[py::str(a.name)] = attr_to_py(a.dflt, a.kind);
      if (a.presence == ops::AttrSpec::Presence::required) required.append(a.name);
      if (a.presence == ops::AttrSpec::Presence::optional) when_absent[py::str(a.name)] = a.when_absent;
    }
    d["attrs"] = names;
    d["attr_kinds"] = kinds;
    d["attr_defaults"] = defaults;
    d["attr_required"] = required;
    d["attr_when_absent"] = when_absent;
    d["differentiable"] = s.differentiable;
    d["has_grad"] = static_cast<bool>(s.grad);
    d["side_effect"] = s.side_effect;
    d["cpu_kernel"] = kernels::find_kernel(kernels::Device::cpu, name) != nullptr;
    py::list devices;  // the devices with a kernel for this op
    for (kernels::Device dev : kernels::devices_with_kernel(name)) devices.append(kernels::device_name(dev));
    d["devices"] = devices;
    return d;
  });
  m.def("build_train", [](const std::string& text, const std::string& opt, const std::map<std::string, double>& hyper,
                          const std::string& prefix) {
    return ir::print(rt::compile_graph(text, compile_options(TrainSpec{opt, hyper, prefix, {}}, false, 0)));
  });
  m.def("gradients", [](const std::string& text, const std::vector<std::string>& wrt) {
    // Test aid: outputs become [loss, d loss/d wrt...] for the first output as loss.
    ir::Graph g = ir::parse(text);
    ir::verify(g);
    std::vector<int> ids;
    for (auto& n : wrt) {
      int id = g.find(n);
      if (id < 0) throw ValueError("no value %" + n);
      ids.push_back(id);
    }
    std::vector<int> d = passes::gradients(g, g.outputs.at(0), ids);
    g.outputs.resize(1);
    g.outputs.insert(g.outputs.end(), d.begin(), d.end());
    ir::verify(g);
    return ir::print(g);
  });
  m.def("optimize", [](const std::string& text) { return ir::print(rt::compile_graph(text, compile_options({}, true, 0))); });
  m.def(
      "compile",
      [](std::shared_ptr<rt::Store> store, const std::string& text, const py::object& train, bool optimize,
         uint64_t seed, bool check_numerics, const std::string& device) {
        return PyProgram(
            rt::compile(std::move(store), text, compile_options(train_spec(train), optimize, seed, check_numerics, device)));
      },
      py::arg("store"), py::arg("text"), py::arg("train") = py::none(), py::arg("optimize") = true, py::arg("seed") = 0,
      py::arg("check_numerics") = false, py::arg("device") = "cpu");
  m.def("devices", [] {  // the devices a program can run on here
    std::vector<std::string> d;
    for (Device dev : kDevices)
      if (memory::memory_of(dev).usable()) d.push_back(device_name(dev));
    return d;
  });
  m.def("device_status", [](const std::string& name) { return memory::memory_of(device_named(name)).status(); });
  // The host stand-in for the CUDA device (runtime/standin.h), for tests of the device plumbing.
  m.def("_device_standin", [](bool on) { on ? rt::standin::install() : rt::standin::remove(); });
  m.def("_device_standin_counts", [] {
    rt::standin::Counts c = rt::standin::counts();
    py::dict d;
    d["to_device"] = c.to_device;
    d["to_host"] = c.to_host;
    d["to_device_bytes"] = c.to_device_bytes;
    d["to_host_bytes"] = c.to_host_bytes;
    d["live_allocations"] = c.live;
    d["live_bytes"] = c.live_bytes;
    d["kernel_calls"] = c.kernel_calls;
    return d;
  });
  m.def("count_nonfinite", [](const py::array_t<float, py::array::c_style>& a) {
    py::gil_scoped_release nogil;
    return cpu::count_nonfinite(a.data(), static_cast<int64_t>(a.size()));
  });
  m.def("initialize", [](const std::string& kind, const std::vector<int64_t>& shape, uint64_t seed, double scale) {
    py::array_t<float> a = new_array(shape);
    rt::initialize(a.mutable_data(), shape, kind, seed, scale);
    return a;
  });

  py::class_<rt::Store, std::shared_ptr<rt::Store>>(m, "Store")
      .def(py::init([](const std::string& device) { return std::make_shared<rt::Store>(kernels::device_named(device)); }),
           py::arg("device") = "cpu")
      .def_property_readonly("device", [](const rt::Store& s) { return std::string(kernels::device_name(s.device())); })
      .def("names", &rt::Store::names)
      .def("has", [](const rt::Store& s, const std::string& n) { return s.find(n) != nullptr; })
      .def("remove", &rt::Store::remove)
      .def("set", [](rt::Store& s, const std::string& name, const F32Array& a) {
        std::vector<int64_t> dims(a.shape(), a.shape() + a.ndim());
        s.set(name, ir::Type{ir::DType::f32, dims}, a.data());
      })
      .def("get", [](const rt::Store& s, const std::string& name) {
        auto t = s.find(name);
        if (!t) throw ValueError("no stored value named %" + name);
        py::array_t<float> a = new_array(t->type.dims);
        s.get(*t, a.mutable_data());
        return a;
      });

  // Program(store, text, seed): the compile pipeline without the optimization passes, for
  // graphs that are to run exactly as written (tests, K.function aids).
  py::class_<PyProgram>(m, "Program")
      .def(py::init([](std::shared_ptr<rt::Store> store, const std::string& text, uint64_t seed) {
             std::string device = kernels::device_name(store->device());
             return PyProgram(rt::compile(std::move(store), text, compile_options({}, false, seed, false, device)));
           }),
           py::arg("store"), py::arg("text"), py::arg("seed") = 0)
      .def("text", &PyProgram::text)
      .def("run", &PyProgram::run)
      .def("run_epoch", &PyProgram::run_epoch, py::arg("arrays"), py::arg("batch_size"), py::arg("order"),
           py::arg("every_batch"), py::arg("interval_s"), py::arg("on_batch_begin"), py::arg("on_progress"),
           py::arg("comm") = py::none())
      .def("predict", &PyProgram::predict)
      .def("plan", &PyProgram::plan, py::arg("batch"), py::arg("dims") = std::map<std::string, int64_t>{})
      .def("cached_plans", [](const PyProgram& p) { return p.program().cached_plans(); })
      .def("runs", &PyProgram::runs)
      .def("set_runs", &PyProgram::set_runs)
      .def("set_profiling", &PyProgram::set_profiling)
      .def("profile", &PyProgram::profile);

  // IR bundles (bundle/bundle.h): load_bundle(dir, device) -> (store, {name: Program}, {name: (inputs, outputs)},
  // kiln_version); write_bundle(dir, [(name, text, runs)], store, kiln_version).
  m.def(
      "load_bundle",
      [](const std::string& dir, const std::string& device) {
        bundle::Bundle b = bundle::load(dir, kernels::device_named(device));
        py::dict programs, ports;
        for (auto& [name, p] : b.programs) {
          programs[py::str(name)] = PyProgram(p);
          py::list ins, outs;
          for (const bundle::Port& q : b.manifest.ports(b.manifest.inputs, name)) ins.append(py::make_tuple(q.value, type_to_py(q.type)));
          for (const bundle::Port& q : b.manifest.ports(b.manifest.outputs, name)) outs.append(py::make_tuple(q.value, type_to_py(q.type)));
          ports[py::str(name)] = py::make_tuple(ins, outs);
        }
        return py::make_tuple(b.store, programs, ports, b.manifest.kiln_version);
      },
      py::arg("dir"), py::arg("device") = "cpu");
  m.def("load_bundle_files", [](const std::map<std::string, py::bytes>& files) {  // the loader on files in memory
    bundle::Files fs;
    for (auto& [name, bytes] : files) fs[name] = std::string(bytes);
    bundle::Bundle b = bundle::load_files(fs, "<memory>");
    return py::make_tuple(b.store, b.programs.size());
  });
  m.def("write_bundle", [](const std::string& dir, const std::vector<std::tuple<std::string, std::string, uint64_t>>& programs,
                           const std::shared_ptr<rt::Store>& store, const std::string& version) {
    std::vector<bundle::ProgramText> texts;
    for (auto& [name, text, runs] : programs) texts.push_back({name, text, runs});
    bundle::write(dir, texts, *store, version);
  });
  m.def("set_num_threads", [](int n) {
#ifdef KILN_HAVE_OPENMP
    omp_set_num_threads(n);
#endif
  });
  m.def("get_num_threads", [] {
#ifdef KILN_HAVE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
  });
  m.def("build_info", [] {
    py::dict d;
    d["blas"] = cpu::blas_name();
#ifdef KILN_HAVE_OPENMP
    d["openmp"] = true;
#else
    d["openmp"] = false;
#endif
    d["cuda"] = cuda::compiled();
    return d;
  });
  m.def("rnn_timers", [] {  // KILN_RNN_TIMERS=1: seconds per phase of the recurrent kernels since the last call
    py::dict d;
    std::vector<double> s = cpu::rnn::phase_seconds();
    for (size_t i = 0; i < s.size(); ++i) d[cpu::rnn::phase_name(static_cast<int>(i))] = s[i];
    return d;
  });
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_status", &cuda::status);
  m.def("cuda_axpy_selftest", &cuda::axpy_selftest);
}
