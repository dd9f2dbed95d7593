// Graph bookkeeping, types and typed attribute access.
#include "ir/ir.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kiln::ir {

const char* dtype_name(DType t) { return t == DType::f32 ? "f32" : "i32"; }

int64_t Type::numel(const Sizes& sizes) const {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, concrete_dim(d, sizes), &n)) throw ShapeError(str() + " overflows at " + sizes.str());
  return n;
}

bool Type::has_names() const {
  for (int64_t d : dims)
    if (has_name(d)) return true;
  return false;
}

std::string Type::str() const {
  std::string s = dtype_name(dtype);
  s += "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += dim_text(dims[i]);
  }
  return s + "]";
}

static const AttrValue* lookup(const Attrs& a, const std::string& key) {
  auto it = a.find(key);
  return it == a.end() ? nullptr : &it->second;
}

bool has_attr(const Attrs& a, const std::string& key) { return a.count(key) != 0; }

int64_t attr_int(const Attrs& a, const std::string& key, int64_t dflt) {
  const AttrValue* v = lookup(a, key);
  if (!v) return dflt;
  if (auto p = std::get_if<int64_t>(v)) return *p;
  throw ValueError("attribute '" + key + "' must be an integer");
}

double attr_float(const Attrs& a, const std::string& key, double dflt) {
  const AttrValue* v = lookup(a, key);
  if (!v) return dflt;
  if (auto p = std::get_if<double>(v)) return *p;
  if (auto p = std::get_if<int64_t>(v)) return static_cast<double>(*p);
  throw ValueError("attribute '" + key + "' must be a number");
}

std::string attr_str(const Attrs& a, const std::string& key, const std::string& dflt) {
  const AttrValue* v = lookup(a, key);
  if (!v) return dflt;
  if (auto p = std::get_if<std::string>(v)) return *p;
  throw ValueError("attribute '" + key + "' must be a string");
}

std::vector<int64_t> attr_ints(const Attrs& a, const std::string& key) {
  const AttrValue* v = lookup(a, key);
  if (!v) return {};
  if (auto p = std::get_if<std::vector<int64_t>>(v)) return *p;
  if (auto p = std::get_if<int64_t>(v)) return {*p};
  throw ValueError("attribute '" + key + "' must be a list of integers");
}

// Shortest text that reads back as the same double, always with a '.' or exponent so that it
// never reads back as an integer attribute.
std::string format_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

int Graph::find(const std::string& n) const {
  auto it = by_name_.find(n);
  return it == by_name_.end() ? -1 : it->second;
}

int Graph::add_decl(const std::string& n, ValueKind kind, const Type& t, Attrs attrs) {
  if (find(n) >= 0) throw ValueError("value %" + n + " is defined twice");
  Value v;
  v.name = n;
  v.type = t;
  v.kind = kind;
  v.attrs = std::move(attrs);
  int id = static_cast<int>(values.size());
  values.push_back(std::move(v));
  by_name_[n] = id;
  if (kind == ValueKind::input) inputs.push_back(id);
  if (kind == ValueKind::param) params.push_back(id);
  if (kind == ValueKind::state) states.push_back(id);
  return id;
}

int Graph::add_node(const std::string& op, std::vector<int> ins, Attrs attrs,
                    const std::vector<std::string>& out_names, const std::vector<Type>& out_types) {
  Node nd;
  nd.op = op;
  nd.inputs = std::move(ins);
  nd.attrs = std::move(attrs);
  int idx = static_cast<int>(nodes.size());
  for (size_t i = 0; i < out_names.size(); ++i) {
    if (find(out_names[i]) >= 0) throw ValueError("value %" + out_names[i] + " is defined twice");
    Value v;
    v.name = out_names[i];
    v.type = out_types[i];
    v.kind = ValueKind::node;
    v.producer = idx;
    int id = static_cast<int>(values.size());
    values.push_back(std::move(v));
    by_name_[out_names[i]] = id;
    nd.outputs.push_back(id);
  }
  nodes.push_back(std::move(nd));
  return idx;
}

std::string Graph::fresh_name(const std::string& stem) {
  for (;;) {
    std::string n = stem + "." + std::to_string(++counter_);
    if (find(n) < 0) return n;
  }
}

const Graph* Graph::body(const std::string& n) const {
  for (const Graph& b : bodies)
    if (b.name == n) return &b;
  return nullptr;
}

std::string Graph::fresh_body_name(const std::string& stem) const {
  if (!body(stem)) return stem;
  for (int k = 1;; ++k) {
    std::string n = stem + "." + std::to_string(k);
    if (!body(n)) return n;
  }
}

void Graph::reindex() {
  by_name_.clear();
  for (size_t i = 0; i < values.size(); ++i) {
    by_name_[values[i].name] = static_cast<int>(i);
    values[i].producer = -1;
  }
  for (size_t n = 0; n < nodes.size(); ++n)
    for (int o : nodes[n].outputs) values[o].producer = static_cast<int>(n);
}

}  // namespace kiln::ir
