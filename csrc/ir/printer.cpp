// Graph → canonical text: header, declarations, one node per line in schedule order, sorted
// attributes, a type on every result. parse(print(g)) prints identically.
#include <sstream>

#include "ir/ir.h"

namespace kiln::ir {

static std::string quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

std::string attr_text(const AttrValue& v) {
  if (auto p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto p = std::get_if<double>(&v)) return format_float(*p);
  if (auto p = std::get_if<std::string>(&v)) return quote(*p);
  const auto& xs = std::get<std::vector<int64_t>>(v);
  std::string s = "[";
  for (size_t i = 0; i < xs.size(); ++i) s += (i ? "," : "") + std::to_string(xs[i]);
  return s + "]";
}

static std::string attrs_text(const Attrs& a) {
  if (a.empty()) return "";
  std::string s = " {";
  bool first = true;
  for (auto& [k, v] : a) {
    s += (first ? "" : ", ") + k + "=" + attr_text(v);
    first = false;
  }
  return s + "}";
}

std::string print(const Graph& g) {
  std::ostringstream o;
  // Version 1 unless a type needs version 2's named dims, so such files stay readable by version 1.
  bool named = false;
  for (const Value& v : g.values) named = named || v.type.has_names();
  o << (named ? "kiln 2" : "kiln 1") << "\ngraph @" << g.name << " {\n";
  auto decl = [&](const char* kw, int id) {
    const Value& v = g.values[id];
    o << "  " << kw << " %" << v.name << " : " << v.type.str() << attrs_text(v.attrs) << "\n";
  };
  for (int id : g.inputs) decl("input", id);
  for (int id : g.params) decl("param", id);
  for (int id : g.states) decl("state", id);
  for (const Node& n : g.nodes) {
    o << "  ";
    for (size_t i = 0; i < n.outputs.size(); ++i) o << (i ? ", %" : "%") << g.values[n.outputs[i]].name;
    if (!n.outputs.empty()) o << " = ";
    o << n.op << "(";
    for (size_t i = 0; i < n.inputs.size(); ++i) o << (i ? ", %" : "%") << g.values[n.inputs[i]].name;
    o << ")" << attrs_text(n.attrs);
    for (size_t i = 0; i < n.outputs.size(); ++i) o << (i ? ", " : " : ") << g.values[n.outputs[i]].type.str();
    o << "\n";
  }
  o << "  output";
  for (size_t i = 0; i < g.outputs.size(); ++i) o << (i ? ", %" : " %") << g.values[g.outputs[i]].name;
  o << "\n}\n";
  return o.str();
}

}  // namespace kiln::ir
