// Dim encoding (dims.h): bit layout of a symbolic dim d < 0, with u = -d:
//   bits 0-23  the factor k (1 .. 2^24-1)
//   bits 24-60 the packed name (base 37, 0 = none)
//   bit 61     set when the dim does not carry the batch
#include "ir/dims.h"

#include <algorithm>

#include "base/errors.h"

namespace kiln::ir {

namespace {
constexpr int kNameShift = 24;
constexpr uint64_t kNameMask = (uint64_t(1) << 37) - 1;
constexpr uint64_t kNoBatch = uint64_t(1) << 61;

int char_code(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a' + 1;
  if (c >= '0' && c <= '9') return c - '0' + 27;
  return 0;
}
char code_char(int v) { return v <= 26 ? static_cast<char>('a' + v - 1) : static_cast<char>('0' + v - 27); }
}  // namespace

uint64_t dim_name_code(const std::string& name) {
  bool ok = !name.empty() && static_cast<int>(name.size()) <= kMaxDimName && name[0] >= 'a' && name[0] <= 'z';
  uint64_t code = 0;
  for (char c : name) {
    int v = char_code(c);
    if (!v) ok = false;
    code = code * 37 + static_cast<uint64_t>(v);
  }
  if (!ok)
    throw ShapeError("'" + name + "' is not a dynamic dim name: expected 1 to 7 of a-z and 0-9, starting with a letter");
  return code;
}

std::string dim_name(uint64_t code) {
  std::string s;
  for (; code; code /= 37) s += code_char(static_cast<int>(code % 37));
  std::reverse(s.begin(), s.end());
  return s;
}

DimParts dim_parts(int64_t d) {
  uint64_t u = static_cast<uint64_t>(-d);
  DimParts p;
  p.factor = static_cast<int64_t>(u & uint64_t(kMaxDimFactor));
  p.name = (u >> kNameShift) & kNameMask;
  p.batch = (u & kNoBatch) == 0;
  return p;
}

int64_t make_dim(const DimParts& p) {
  if (p.factor < 1 || p.factor > kMaxDimFactor)
    throw ShapeError("a symbolic dim's factor must be 1 .. 2^24-1, got " + std::to_string(p.factor));
  if (!p.batch && !p.name) throw ShapeError("a symbolic dim needs the batch ? or a name");
  uint64_t u = static_cast<uint64_t>(p.factor) | (p.name << kNameShift) | (p.batch ? 0 : kNoBatch);
  return -static_cast<int64_t>(u);
}

int64_t named_dim(const std::string& name) { return make_dim({false, dim_name_code(name), 1}); }

std::string dim_text(int64_t d) {
  if (d >= 0) return std::to_string(d);
  DimParts p = dim_parts(d);
  std::string s;
  if (p.batch) s = "?";
  if (p.name) s += (s.empty() ? "?" : "*?") + dim_name(p.name);
  if (p.factor != 1) s += "*" + std::to_string(p.factor);
  return s;
}

int64_t dim_product(int64_t a, int64_t b) {
  if (a >= 0 && b >= 0) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) throw ShapeError(dim_text(a) + " x " + dim_text(b) + " overflows");
    return r;
  }
  if (a >= 0) std::swap(a, b);
  DimParts p = dim_parts(a);
  if (b >= 0) {
    if (b == 0 || b > kMaxDimFactor / p.factor)
      throw ShapeError("cannot fold " + dim_text(b) + " into " + dim_text(a) + ": the factor must stay 1 .. 2^24-1");
    p.factor *= b;
    return make_dim(p);
  }
  DimParts q = dim_parts(b);
  if ((p.batch && q.batch) || (p.name && q.name))
    throw ShapeError("cannot fold " + dim_text(b) + " into " + dim_text(a) +
                     ": a dim holds the batch and at most one named dim");
  if (q.factor > kMaxDimFactor / p.factor)
    throw ShapeError(dim_text(a) + " x " + dim_text(b) + ": the factor must stay 1 .. 2^24-1");
  return make_dim({p.batch || q.batch, p.name | q.name, p.factor * q.factor});
}

void Sizes::set(uint64_t code, int64_t size) {
  auto it = std::lower_bound(named.begin(), named.end(), std::make_pair(code, int64_t(0)),
                             [](const auto& x, const auto& y) { return x.first < y.first; });
  if (it != named.end() && it->first == code) it->second = size;
  else named.insert(it, {code, size});
}

int64_t Sizes::of(uint64_t code) const {
  for (const auto& [c, n] : named)
    if (c == code) return n;
  throw ShapeError("dynamic dim ?" + dim_name(code) + " has no size in this run (no input gives it one)");
}

std::string Sizes::str() const {
  std::string s = "batch " + std::to_string(batch);
  for (const auto& [c, n] : named) s += ", ?" + dim_name(c) + "=" + std::to_string(n);
  return s;
}

int64_t concrete_dim(int64_t d, const Sizes& s) {
  if (d >= 0) return d;
  if (d == kBatch) return s.batch;
  DimParts p = dim_parts(d);
  int64_t r = p.factor;
  if ((p.batch && __builtin_mul_overflow(r, s.batch, &r)) || (p.name && __builtin_mul_overflow(r, s.of(p.name), &r)))
    throw ShapeError(dim_text(d) + " overflows at " + s.str());
  return r;
}

int64_t bind_names(int64_t d, const Sizes& s) {
  if (d >= 0 || d == kBatch) return d;
  DimParts p = dim_parts(d);
  if (!p.name) return d;
  int64_t n = s.of(p.name), r;
  if (__builtin_mul_overflow(p.factor, n, &r)) throw ShapeError(dim_text(d) + " overflows at " + s.str());
  if (!p.batch) return r;
  if (r == 0 || r > kMaxDimFactor)
    throw ShapeError(dim_text(d) + " at " + s.str() + " leaves a batch multiple outside 1 .. 2^24-1");
  return make_dim({true, 0, r});
}

}  // namespace kiln::ir
