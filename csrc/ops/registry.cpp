// Registry storage, inference entry point, GradBuilder and shared shape helpers.
#include "ops/registry.h"

#include <algorithm>

namespace kiln::ops {

Registry& Registry::get() {
  static Registry r;
  return r;
}

Schema& Registry::def(const std::string& name) {
  for (Schema* s : schemas_)
    if (s->name == name) throw std::logic_error("op registered twice: " + name);
  auto* s = new Schema();  // lives for the whole process, like the registry
  s->name = name;
  schemas_.push_back(s);
  return *s;
}

const Schema* Registry::find(const std::string& name) const {
  for (const Schema* s : schemas_)
    if (s->name == name) return s;
  return nullptr;
}

const Schema& Registry::at(const std::string& name) const {
  const Schema* s = find(name);
  if (!s) throw ValueError("unknown op '" + name + "'");
  return *s;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const Schema* s : schemas_) out.push_back(s->name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Type> infer(const std::string& op, const std::vector<Type>& in, const Attrs& attrs) {
  const Schema& s = Registry::get().at(op);
  int n = static_cast<int>(in.size());
  if (n < s.min_inputs || n > s.max_inputs) {
    std::string want = s.min_inputs == s.max_inputs ? std::to_string(s.min_inputs)
                       : s.max_inputs > 1000 ? "at least " + std::to_string(s.min_inputs)
                                             : std::to_string(s.min_inputs) + " to " + std::to_string(s.max_inputs);
    throw ShapeError("[" + op + "] expected " + want + " operand(s), got " + std::to_string(n));
  }
  for (auto& [k, v] : attrs)
    if (std::find(s.attr_names.begin(), s.attr_names.end(), k) == s.attr_names.end()) {
      std::string allowed;
      for (auto& a : s.attr_names) allowed += (allowed.empty() ? "" : ", ") + a;
      throw ValueError("[" + op + "] unknown attribute '" + k + "' (accepted: " +
                       (allowed.empty() ? "none" : allowed) + ")");
    }
  try {
    return s.infer(in, attrs);
  } catch (const ShapeError& e) {
    throw ShapeError("[" + op + "] " + e.what());
  } catch (const ValueError& e) {
    throw ValueError("[" + op + "] " + e.what());
  }
}

int GradBuilder::emit(const std::string& op, std::vector<int> ins, Attrs attrs) {
  auto outs = emit_multi(op, std::move(ins), std::move(attrs));
  if (outs.size() != 1) throw std::logic_error("emit: op " + op + " has several results");
  return outs[0];
}

std::vector<int> GradBuilder::emit_multi(const std::string& op, std::vector<int> ins, Attrs attrs) {
  std::vector<Type> in_types;
  for (int v : ins) in_types.push_back(g_.values[v].type);
  std::vector<Type> out_types = infer(op, in_types, attrs);
  std::vector<std::string> names;
  for (size_t i = 0; i < out_types.size(); ++i) names.push_back(g_.fresh_name(stem_));
  int n = g_.add_node(op, std::move(ins), std::move(attrs), names, out_types);
  return g_.nodes[n].outputs;
}

int GradBuilder::unbroadcast(int dy, int x) {
  if (type(dy).dims == type(x).dims) return dy;
  return emit("sum_like", {dy, x});
}

int GradBuilder::scalar(double v) { return emit("constant", {}, {{"value", v}}); }

std::string shape_str(const Type& t) { return t.str(); }

Type broadcast(const Type& a, const Type& b, const char* op) {
  if (a.dtype != b.dtype)
    throw ShapeError(std::string("operands have different dtypes: ") + a.str() + " and " + b.str());
  int r = std::max(a.rank(), b.rank());
  Type t;
  t.dtype = a.dtype;
  t.dims.resize(r);
  for (int i = 0; i < r; ++i) {
    int ia = i - (r - a.rank()), ib = i - (r - b.rank());
    int64_t da = ia >= 0 ? a.dims[ia] : 1, db = ib >= 0 ? b.dims[ib] : 1;
    if (da == db) t.dims[i] = da;
    else if (da == 1) t.dims[i] = db;
    else if (db == 1) t.dims[i] = da;
    else
      throw ShapeError(std::string("shapes cannot be broadcast together: ") + a.str() + " and " + b.str());
  }
  return t;
}

int norm_axis(int64_t axis, int rank, const char* op) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw ShapeError("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return static_cast<int>(a);
}

}  // namespace kiln::ops
