// The C++ API (include/kiln/kiln.h) over the bundle loader and the runtime.
#include "kiln/kiln.h"

#include <cstring>

#include "bundle/bundle.h"
#include "runtime/loop.h"

namespace kiln {

struct Model::Impl {
  bundle::Bundle b;

  const rt::Program& program(const std::string& name) const {
    auto it = b.programs.find(name);
    if (it == b.programs.end()) throw ValueError("the bundle has no " + name + " program");
    return *it->second;
  }
};

namespace {

std::vector<Port> ports(const ir::Graph& g, const std::vector<int>& values) {
  std::vector<Port> out;
  for (int v : values) {
    Port p{g.values[v].name, {}};
    for (int64_t d : g.values[v].type.dims) p.shape.push_back(d >= 0 ? d : d == ir::kBatch ? -1 : -2);
    out.push_back(p);
  }
  return out;
}

std::vector<std::vector<int64_t>> shapes(const std::vector<Array>& xs) {
  std::vector<std::vector<int64_t>> out;
  for (const Array& a : xs) {
    int64_t n = 1;
    for (int64_t d : a.shape) n *= d;
    if (n != static_cast<int64_t>(a.data.size()))
      throw ValueError("an input of shape " + ir::Type{ir::DType::f32, a.shape}.str().substr(3) + " holds " +
                       std::to_string(a.data.size()) + " values, not " + std::to_string(n));
    out.push_back(a.shape);
  }
  return out;
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(const std::string& dir, const std::string& device) {
  auto impl = std::make_unique<Impl>();
  impl->b = bundle::load(dir, kernels::device_named(device));
  return Model(std::move(impl));
}

bool Model::has_program(const std::string& name) const { return impl_->b.programs.count(name) > 0; }

std::vector<Port> Model::inputs(const std::string& program) const {
  const ir::Graph& g = impl_->program(program).graph();
  return ports(g, g.inputs);
}

std::vector<Port> Model::outputs(const std::string& program) const {
  const ir::Graph& g = impl_->program(program).graph();
  return ports(g, g.outputs);
}

std::vector<Array> Model::predict(const std::vector<Array>& xs, int64_t batch_size) const {
  const rt::Program& p = impl_->program("predict");
  const ir::Graph& g = p.graph();
  if (batch_size < 1) throw ValueError("batch_size must be at least 1");
  ir::Sizes sizes = p.sizes_for(shapes(xs));
  int64_t rows = xs.empty() || xs[0].shape.empty() ? 0 : xs[0].shape[0];
  sizes.batch = rows;
  std::vector<rt::HostArray> hs;
  for (const Array& a : xs)
    hs.push_back({reinterpret_cast<const char*>(a.data.data()), rows, rows ? static_cast<int64_t>(a.data.size()) / rows * 4 : 0});
  std::vector<Array> ys(g.outputs.size());
  std::vector<char*> dst;
  for (size_t j = 0; j < ys.size(); ++j) {
    int64_t n = 1;
    for (int64_t d : g.values[g.outputs[j]].type.dims) {
      ys[j].shape.push_back(ir::concrete_dim(d, sizes));
      n *= ys[j].shape.back();
    }
    ys[j].data.resize(static_cast<size_t>(n));
    dst.push_back(reinterpret_cast<char*>(ys[j].data.data()));
  }
  rt::run_predict(p, hs, batch_size, dst, {}, sizes);
  return ys;
}

std::vector<float> Model::train_on_batch(const std::vector<Array>& xs) {
  const rt::Program& p = impl_->program("train");
  ir::Sizes sizes = p.sizes_for(shapes(xs));
  rt::Program::Lease ex = p.acquire(sizes);
  for (size_t i = 0; i < xs.size(); ++i) rt::write_input(*ex, i, xs[i].data.data());
  p.run(*ex);
  std::vector<float> out;
  for (size_t j = 0; j < ex->outputs.size(); ++j) {
    float v = 0;
    if (ex->outputs[j].numel) rt::read_output(*ex, j, &v);  // the step's scalars (loss, metrics)
    out.push_back(v);
  }
  return out;
}

void Model::save(const std::string& dir) const {
  std::vector<bundle::ProgramText> texts;
  for (const bundle::ProgramEntry& e : impl_->b.manifest.programs) {
    const rt::Program& p = impl_->program(e.name);
    texts.push_back({e.name, ir::print(p.graph()), p.runs()});
  }
  bundle::write(dir, texts, *impl_->b.store, impl_->b.manifest.kiln_version);
}

}  // namespace kiln
