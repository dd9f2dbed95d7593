// Attribute declarations checked and read (see attrs.h). A user's IR that breaks a declaration
// gets a ValueError naming the op and attribute; code that reads an attribute its schema does not
// declare (or as another kind) is a bug in kiln and gets a logic_error.
#include "ops/attrs.h"

#include <stdexcept>

namespace kiln::ops {

const char* attr_kind_name(AttrKind k) {
  switch (k) {
    case AttrKind::integer: return "int";
    case AttrKind::number: return "float";
    case AttrKind::string: return "str";
    case AttrKind::integers: return "ints";
    case AttrKind::boolean: return "bool";
  }
  return "?";
}

static const char* kind_noun(AttrKind k) {
  switch (k) {
    case AttrKind::integer: return "an integer";
    case AttrKind::number: return "a number";
    case AttrKind::string: return "a string";
    case AttrKind::integers: return "a list of integers";
    case AttrKind::boolean: return "0 or 1 (a bool)";
  }
  return "?";
}

std::string attr_kind_error(const AttrSpec& spec, const ir::AttrValue& v) {
  bool ok = false;
  switch (spec.kind) {
    case AttrKind::integer: ok = std::holds_alternative<int64_t>(v); break;
    case AttrKind::number: ok = std::holds_alternative<double>(v) || std::holds_alternative<int64_t>(v); break;
    case AttrKind::string: ok = std::holds_alternative<std::string>(v); break;
    case AttrKind::integers: ok = std::holds_alternative<std::vector<int64_t>>(v) || std::holds_alternative<int64_t>(v); break;
    case AttrKind::boolean: {
      auto p = std::get_if<int64_t>(&v);
      ok = p && (*p == 0 || *p == 1);
      break;
    }
  }
  if (ok) return "";
  return "attribute '" + spec.name + "' must be " + kind_noun(spec.kind) + ", got " + ir::attr_text(v);
}

static std::string needs(const std::string& op, const AttrSpec& s) {
  bool vowel = std::string("aeiou").find(s.name[0]) != std::string::npos;
  return "[" + op + "] needs " + (vowel ? "an" : "a") + " '" + s.name + "' attribute (" + kind_noun(s.kind) + ")";
}

void check_attrs(const std::string& op, const std::vector<AttrSpec>& specs, const ir::Attrs& attrs) {
  for (auto& [k, v] : attrs) {
    const AttrSpec* spec = nullptr;
    for (const AttrSpec& s : specs)
      if (s.name == k) spec = &s;
    if (!spec) {
      std::string accepted;
      for (const AttrSpec& s : specs) accepted += (accepted.empty() ? "" : ", ") + s.name;
      throw ValueError("[" + op + "] unknown attribute '" + k + "' (accepted: " +
                       (accepted.empty() ? "none" : accepted) + ")");
    }
    std::string err = attr_kind_error(*spec, v);
    if (!err.empty()) throw ValueError("[" + op + "] " + err);
  }
  for (const AttrSpec& s : specs)
    if (s.presence == AttrSpec::Presence::required && !attrs.count(s.name)) throw ValueError(needs(op, s));
}

const AttrSpec& AttrReader::spec(const std::string& name, AttrKind kind) const {
  for (const AttrSpec& s : specs_) {
    if (s.name != name) continue;
    if (s.kind != kind)
      throw std::logic_error("[" + op_ + "] attribute '" + name + "' is read as " + attr_kind_name(kind) +
                             " but declared " + attr_kind_name(s.kind));
    return s;
  }
  throw std::logic_error("[" + op_ + "] reads attribute '" + name + "', which its schema does not declare");
}

const ir::AttrValue& AttrReader::value(const std::string& name, AttrKind kind) const {
  const AttrSpec& s = spec(name, kind);
  auto it = attrs_.find(name);
  if (it != attrs_.end()) {
    // Verified graphs were checked already; a node built past the verifier still gets a clear error.
    std::string err = attr_kind_error(s, it->second);
    if (!err.empty()) throw ValueError("[" + op_ + "] " + err);
    return it->second;
  }
  if (s.presence == AttrSpec::Presence::defaulted) return s.dflt;
  if (s.presence == AttrSpec::Presence::required) throw ValueError(needs(op_, s));
  throw std::logic_error("[" + op_ + "] attribute '" + name + "' is absent (meaning " + s.when_absent +
                         "): ask has() before reading it");
}

bool AttrReader::has(const std::string& name) const {
  for (const AttrSpec& s : specs_)
    if (s.name == name) return attrs_.count(name) || s.presence == AttrSpec::Presence::defaulted;
  throw std::logic_error("[" + op_ + "] asks for attribute '" + name + "', which its schema does not declare");
}

int64_t AttrReader::get_int(const std::string& name) const { return std::get<int64_t>(value(name, AttrKind::integer)); }

double AttrReader::get_float(const std::string& name) const {
  const ir::AttrValue& v = value(name, AttrKind::number);
  if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  return std::get<double>(v);
}

std::string AttrReader::get_str(const std::string& name) const { return std::get<std::string>(value(name, AttrKind::string)); }

std::vector<int64_t> AttrReader::get_ints(const std::string& name) const {
  const ir::AttrValue& v = value(name, AttrKind::integers);
  if (auto p = std::get_if<int64_t>(&v)) return {*p};
  return std::get<std::vector<int64_t>>(v);
}

bool AttrReader::get_bool(const std::string& name) const { return std::get<int64_t>(value(name, AttrKind::boolean)) != 0; }

}  // namespace kiln::ops
