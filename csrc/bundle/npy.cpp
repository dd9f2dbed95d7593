// The .npy reader and writer (npy.h). The header is a Python dict literal; only the three keys
// NumPy writes are accepted, in any order.
#include "bundle/npy.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/errors.h"

namespace kiln::bundle {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMaxNpyBytes = size_t(16) << 30;

struct Header {
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
};

// A tiny reader of the header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderReader {
 public:
  HeaderReader(const std::string& s, const std::string& file) : s_(s), file_(file) {}

  Header read() {
    Header h;
    bool seen[3] = {false, false, false};
    expect('{');
    for (;;) {
      skip();
      if (accept('}')) break;
      std::string key = quoted();
      expect(':');
      if (key == "descr" && !seen[0]) {
        h.descr = quoted();
        seen[0] = true;
      } else if (key == "fortran_order" && !seen[1]) {
        h.fortran = boolean();
        seen[1] = true;
      } else if (key == "shape" && !seen[2]) {
        h.shape = tuple();
        seen[2] = true;
      } else {
        fail("unexpected or repeated key '" + key + "' in the header");
      }
      skip();
      if (accept('}')) break;
      expect(',');
    }
    if (!seen[0] || !seen[1] || !seen[2]) fail("the header lacks descr, fortran_order or shape");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& m) const { throw ValueError(file_ + ": not a .npy file kiln reads: " + m); }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool accept(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(std::string("expected '") + c + "' in the header");
  }
  std::string quoted() {
    skip();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail("expected a quoted string in the header");
    char q = s_[i_++];
    size_t j = s_.find(q, i_);
    if (j == std::string::npos || j - i_ > 64) fail("unterminated string in the header");
    std::string out = s_.substr(i_, j - i_);
    i_ = j + 1;
    return out;
  }
  bool boolean() {
    skip();
    for (const char* w : {"False", "True"})
      if (s_.compare(i_, std::strlen(w), w) == 0) {
        i_ += std::strlen(w);
        return w[0] == 'T';
      }
    fail("expected True or False for fortran_order");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> out;
    expect('(');
    for (;;) {
      skip();
      if (accept(')')) return out;
      size_t j = i_;
      while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j]))) ++j;
      if (j == i_ || j - i_ > 15) fail("expected a dimension in the shape");
      out.push_back(std::stoll(s_.substr(i_, j - i_)));
      if (out.size() > 8) fail("more than 8 dimensions");
      i_ = j;
      skip();
      if (accept(')')) return out;
      expect(',');
    }
  }

  const std::string& s_;
  std::string file_;
  size_t i_ = 0;
};

template <typename T>
void convert(const char* src, int64_t n, float* dst, const std::string& file) {
  for (int64_t k = 0; k < n; ++k) {
    T v;
    std::memcpy(&v, src + k * sizeof(T), sizeof(T));
    if constexpr (std::is_integral_v<T>) {
      if (v > (T(1) << 24) || (std::is_signed_v<T> && v < -(T(1) << 24)))
        throw ValueError(file + ": element " + std::to_string(k) + " is " + std::to_string(v) +
                         ", an integer float32 does not hold exactly (|v| > 2^24)");
    }
    dst[k] = static_cast<float>(v);
  }
}

}  // namespace

Array parse_npy(const std::string& b, const std::string& file) {
  if (b.size() < 10 || b.compare(0, 6, kMagic, 6) != 0) throw ValueError(file + ": not a .npy file (no \\x93NUMPY magic)");
  int major = static_cast<unsigned char>(b[6]);
  size_t len, start;
  if (major == 1) {
    len = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw ValueError(file + ": truncated .npy header");
    len = 0;
    for (int k = 3; k >= 0; --k) len = (len << 8) | static_cast<unsigned char>(b[8 + k]);
    start = 12;
  } else {
    throw ValueError(file + ": .npy format version " + std::to_string(major) + " is not one kiln reads (1, 2, 3)");
  }
  if (len > b.size() - start) throw ValueError(file + ": truncated .npy header");
  Header h = HeaderReader(b.substr(start, len), file).read();
  if (h.fortran) throw ValueError(file + ": the array is in Fortran order; save it in C order (np.ascontiguousarray)");
  struct Kind {
    const char* descr;
    size_t size;
  };
  static const Kind kinds[] = {{"<f4", 4}, {"<f8", 8}, {"<i4", 4}, {"<i8", 8}, {"|u1", 1}, {"|i1", 1}, {"|b1", 1}, {"<u4", 4}};
  const Kind* kind = nullptr;
  for (const Kind& k : kinds)
    if (h.descr == k.descr) kind = &k;
  if (!kind)
    throw ValueError(file + ": dtype '" + h.descr + "' is not one kiln reads (<f4, <f8, <i4, <i8, <u4, |u1, |i1, |b1)");
  int64_t n = 1;
  for (int64_t d : h.shape) {
    if (d && n > static_cast<int64_t>(kMaxNpyBytes) / d) throw ValueError(file + ": the shape is too large");
    n *= d;
  }
  size_t data = start + len;
  if (static_cast<uint64_t>(n) * kind->size != b.size() - data)
    throw ValueError(file + ": the shape says " + std::to_string(n * kind->size) + " bytes of data, the file holds " +
                     std::to_string(b.size() - data));
  Array a;
  a.shape = h.shape;
  a.data.resize(static_cast<size_t>(n));
  const char* src = b.data() + data;
  std::string d = h.descr;
  if (n == 0) return a;  // an empty array: no data to copy (and a null pointer to copy into)
  if (d == "<f4") std::memcpy(a.data.data(), src, static_cast<size_t>(n) * 4);
  else if (d == "<f8") convert<double>(src, n, a.data.data(), file);
  else if (d == "<i4") convert<int32_t>(src, n, a.data.data(), file);
  else if (d == "<i8") convert<int64_t>(src, n, a.data.data(), file);
  else if (d == "<u4") convert<uint32_t>(src, n, a.data.data(), file);
  else if (d == "|i1") convert<int8_t>(src, n, a.data.data(), file);
  else convert<uint8_t>(src, n, a.data.data(), file);
  return a;
}

Array read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ValueError(path + ": cannot open");
  f.seekg(0, std::ios::end);
  auto n = static_cast<uint64_t>(f.tellg());
  if (n > kMaxNpyBytes) throw ValueError(path + ": larger than kiln reads");
  std::string b(n, '\0');
  f.seekg(0);
  f.read(b.data(), static_cast<std::streamsize>(n));
  return parse_npy(b, path);
}

void write_npy(const std::string& path, const Array& a) {
  std::ostringstream h;
  h << "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < a.shape.size(); ++i) h << a.shape[i] << (a.shape.size() == 1 || i + 1 < a.shape.size() ? ", " : "");
  h << "), }";
  std::string header = h.str();
  size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  f.write(reinterpret_cast<const char*>(a.data.data()), static_cast<std::streamsize>(a.data.size() * 4));
  if (!f) throw ValueError(path + ": write failed");
}

}  // namespace kiln::bundle
