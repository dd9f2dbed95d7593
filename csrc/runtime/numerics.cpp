// Numerics checking (see numerics.h).
#include "runtime/numerics.h"

#include <cmath>

#include "kernels/cpu/data_checks.h"

namespace kiln::rt {

std::string layer_of(const std::string& name) {
  std::string s = is_backward(name) ? name.substr(2) : name;
  return s.substr(0, s.find('.'));
}

bool is_backward(const std::string& name) { return name.rfind("g.", 0) == 0 || name.rfind("d.", 0) == 0; }

namespace {

// "%name holds 3 non-finite values of 640, the first NaN at [0, 5]", or "" when all finite.
std::string describe(const ir::Graph& g, int v, const kernels::TensorView& t) {
  if (t.dtype != ir::DType::f32 || t.numel == 0) return "";
  int64_t bad = cpu::count_nonfinite(t.f(), t.numel);
  if (!bad) return "";
  int64_t first = 0;
  while (std::isfinite(t.f()[first])) ++first;
  float x = t.f()[first];
  std::vector<int64_t> idx(t.dims.size());
  int64_t rest = first;
  for (int d = t.rank() - 1; d >= 0; --d) {
    idx[d] = t.dims[d] ? rest % t.dims[d] : 0;
    rest = t.dims[d] ? rest / t.dims[d] : 0;
  }
  std::string at;
  for (size_t d = 0; d < idx.size(); ++d) at += (d ? ", " : "") + std::to_string(idx[d]);
  std::string kind = std::isnan(x) ? "NaN" : (x > 0 ? "inf" : "-inf");
  return "%" + g.values[v].name + " holds " + std::to_string(bad) + " non-finite value" + (bad > 1 ? "s" : "") +
         " of " + std::to_string(t.numel) + ", the first " + kind + " at [" + at + "]";
}

std::string where(const ir::Graph& g, const ir::Node& n) {
  std::string w = n.line ? "line " + std::to_string(n.line) + ": " : std::string();
  std::string first = n.outputs.empty() ? (n.inputs.empty() ? "" : g.values[n.inputs[0]].name) : g.values[n.outputs[0]].name;
  return w + n.op + " (layer '" + layer_of(first) + "'" + (is_backward(first) ? ", backward pass)" : ")");
}

}  // namespace

void check_inputs(const ir::Graph& g, const std::vector<int>& values, const std::vector<kernels::TensorView>& views) {
  for (size_t k = 0; k < values.size(); ++k) {
    std::string d = describe(g, values[k], views[k]);
    if (!d.empty()) {
      const ir::Value& v = g.values[values[k]];
      const char* what = v.kind == ir::ValueKind::input ? "graph input" : "stored tensor";
      throw NumericsError("check_numerics: before the first op, " + std::string(what) + " " + d +
                          (v.line ? " (declared on line " + std::to_string(v.line) + ")" : ""));
    }
  }
}

void check_node(const ir::Graph& g, const ir::Node& n, const std::vector<kernels::TensorView>& in,
                const std::vector<kernels::TensorView>& out, const std::vector<int>& writes) {
  std::string d;
  for (size_t k = 0; k < out.size() && d.empty(); ++k) d = describe(g, n.outputs[k], out[k]);
  for (size_t k = 0; k < writes.size() && d.empty(); ++k)
    if (writes[k] < static_cast<int>(in.size())) d = describe(g, n.inputs[writes[k]], in[writes[k]]);
  if (!d.empty()) throw NumericsError("check_numerics: " + where(g, n) + " produced a NaN or inf: " + d);
}

}  // namespace kiln::rt
