// Loading and writing IR bundles (bundle.h).
#include "bundle/bundle.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "bundles store little-endian tensors as they are in memory");

namespace kiln::bundle {
namespace fs = std::filesystem;
namespace {

// Where the weights come from: a file read piece by piece, or bytes in memory.
class Blob {
 public:
  virtual ~Blob() = default;
  virtual uint64_t size() const = 0;
  virtual void read(uint64_t offset, uint64_t bytes, void* dst) const = 0;
};

class MemoryBlob final : public Blob {
 public:
  explicit MemoryBlob(const std::string& s) : s_(s) {}
  uint64_t size() const override { return s_.size(); }
  void read(uint64_t offset, uint64_t bytes, void* dst) const override { std::memcpy(dst, s_.data() + offset, bytes); }

 private:
  const std::string& s_;
};

class FileBlob final : public Blob {
 public:
  explicit FileBlob(const std::string& path) : path_(path), f_(path, std::ios::binary) {
    if (!f_) throw ValueError(path + ": cannot open the weights file");
    f_.seekg(0, std::ios::end);
    size_ = static_cast<uint64_t>(f_.tellg());
  }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, uint64_t bytes, void* dst) const override {
    f_.seekg(static_cast<std::streamoff>(offset));
    f_.read(static_cast<char*>(dst), static_cast<std::streamsize>(bytes));
    if (static_cast<uint64_t>(f_.gcount()) != bytes) throw ValueError(path_ + ": read failed at offset " + std::to_string(offset));
  }

 private:
  std::string path_;
  mutable std::ifstream f_;
  uint64_t size_ = 0;
};

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ValueError(path + ": cannot open");
  f.seekg(0, std::ios::end);
  auto n = static_cast<uint64_t>(f.tellg());
  if (n > kMaxTextBytes)
    throw ValueError(path + ": " + std::to_string(n) + " bytes, more than the " + std::to_string(kMaxTextBytes >> 20) +
                     " MiB kiln reads as a manifest or IR file");
  std::string s(n, '\0');
  f.seekg(0);
  f.read(s.data(), static_cast<std::streamsize>(n));
  if (static_cast<uint64_t>(f.gcount()) != n) throw ValueError(path + ": read failed");
  return s;
}

// Runs fn, prefixing any kiln error with `where` (its type kept).
template <typename F>
auto in_file(const std::string& where, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const ParseError& e) {
    throw ParseError(where + ": " + e.what());
  } catch (const ShapeError& e) {
    throw ShapeError(where + ": " + e.what());
  } catch (const OutOfMemory& e) {
    throw OutOfMemory(where + ": " + e.what());
  } catch (const ValueError& e) {
    throw ValueError(where + ": " + e.what());
  } catch (const Error& e) {
    throw ValueError(where + ": " + e.what());
  }
}

const std::string& text_of(const Files& files, const std::string& name, const std::string& dir) {
  auto it = files.find(name);
  if (it == files.end()) throw ValueError(dir + "/" + name + ": no such file in the bundle");
  if (it->second.size() > kMaxTextBytes) throw ValueError(dir + "/" + name + ": larger than kiln reads as text");
  return it->second;
}

void check_ports(const Manifest& m, const ProgramEntry& p, const ir::Graph& g, const std::string& where) {
  auto check = [&](const std::vector<Port>& ports, const std::vector<int>& values, const char* kind) {
    if (ports.size() != values.size())
      throw ValueError(where + ": the manifest lists " + std::to_string(ports.size()) + " " + kind + "(s) of program " +
                       p.name + ", the program has " + std::to_string(values.size()));
    for (size_t i = 0; i < ports.size(); ++i) {
      const ir::Value& v = g.values[values[i]];
      if (v.name != ports[i].value || v.type != ports[i].type)
        throw ValueError(where + ": the manifest's " + kind + " " + std::to_string(i) + " of program " + p.name + " is %" +
                         ports[i].value + " : " + ports[i].type.str() + ", the program's is %" + v.name + " : " + v.type.str());
    }
  };
  check(m.ports(m.inputs, p.name), g.inputs, "input");
  check(m.ports(m.outputs, p.name), g.outputs, "output");
}

Bundle load_from(const Files& files, const Blob& blob, const std::string& dir, kernels::Device device) {
  if (!files.count("manifest.txt")) throw ValueError(dir + "/manifest.txt: no such file: not a kiln bundle");
  Bundle b;
  b.manifest = parse_manifest(text_of(files, "manifest.txt", dir), dir + "/manifest.txt");
  const Manifest& m = b.manifest;
  const std::string blob_file = dir + "/" + m.weights;
  // Every tensor inside the blob and apart from the others, before any is allocated.
  std::vector<const TensorEntry*> order;
  for (const TensorEntry& t : m.tensors) {
    uint64_t off = static_cast<uint64_t>(t.offset), n = static_cast<uint64_t>(t.bytes);
    if (off > blob.size() || n > blob.size() - off)
      throw ValueError(blob_file + ": tensor %" + t.name + " (" + std::to_string(n) + " bytes at offset " +
                       std::to_string(off) + ") runs past the end of the file (" + std::to_string(blob.size()) +
                       " bytes): the file is truncated or does not belong to this manifest");
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](auto* a, auto* c) { return a->offset < c->offset; });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->offset < order[i - 1]->offset + order[i - 1]->bytes)
      throw ValueError(dir + "/manifest.txt: tensors %" + order[i - 1]->name + " and %" + order[i]->name + " overlap in " +
                       m.weights);
  // The programs, parsed and checked against the manifest before anything is stored.
  std::map<std::string, const TensorEntry*> by_name;
  for (const TensorEntry& t : m.tensors) by_name[t.name] = &t;
  std::set<std::string> declared;
  rt::CompileOptions o;
  o.optimize = false;  // a bundle holds the compiled graphs
  o.device = device;
  std::vector<std::pair<const ProgramEntry*, const std::string*>> texts;
  for (const ProgramEntry& p : m.programs) {
    const std::string where = dir + "/" + p.file;
    const std::string& text = text_of(files, p.file, dir);
    ir::Graph g = in_file(where, [&] { return rt::compile_graph(text, o); });
    for (const std::vector<int>* decls : {&g.params, &g.states})
      for (int v : *decls) {
        const ir::Value& val = g.values[v];
        auto it = by_name.find(val.name);
        if (it == by_name.end())
          throw ValueError(where + ": line " + std::to_string(val.line) + ": %" + val.name + " : " + val.type.str() +
                           " has no tensor in " + m.weights + " (the manifest lists none of that name)");
        if (it->second->type != val.type)
          throw ShapeError(where + ": line " + std::to_string(val.line) + ": %" + val.name + " is declared " +
                           val.type.str() + " but " + m.weights + " holds it as " + it->second->type.str());
        declared.insert(val.name);
      }
    check_ports(m, p, g, dir + "/manifest.txt");
    texts.push_back({&p, &text});
  }
  for (const TensorEntry& t : m.tensors)
    if (!declared.count(t.name))
      throw ValueError(dir + "/manifest.txt: tensor %" + t.name + " is not declared by any program of the bundle");
  b.store = std::make_shared<rt::Store>(device);
  std::vector<char> buf;
  for (const TensorEntry& t : m.tensors) {
    buf.resize(std::max<size_t>(static_cast<size_t>(t.bytes), 1));  // never a null pointer, even for f32[0]
    blob.read(static_cast<uint64_t>(t.offset), static_cast<uint64_t>(t.bytes), buf.data());
    b.store->set(t.name, t.type, buf.data());
  }
  for (auto [p, text] : texts) {
    auto program = in_file(dir + "/" + p->file, [&, text = text] { return rt::compile(b.store, *text, o); });
    program->set_runs(p->runs);
    b.programs[p->name] = program;
  }
  return b;
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.flush();
  if (!f) throw ValueError(path.string() + ": write failed");
}

}  // namespace

Bundle load_files(const Files& files, const std::string& dir, kernels::Device device) {
  static const std::string none;
  auto m = files.find("manifest.txt");
  std::string weights;
  if (m != files.end()) weights = parse_manifest(text_of(files, "manifest.txt", dir), dir + "/manifest.txt").weights;
  auto w = files.find(weights);
  if (m != files.end() && w == files.end()) throw ValueError(dir + "/" + weights + ": no such file in the bundle");
  MemoryBlob blob(w == files.end() ? none : w->second);
  return load_from(files, blob, dir, device);
}

Bundle load(const std::string& dir, kernels::Device device) {
  if (!fs::is_directory(dir)) throw ValueError(dir + ": not a folder (a kiln bundle is a folder with a manifest.txt)");
  Files files;
  files["manifest.txt"] = read_text(dir + "/manifest.txt");
  Manifest m = parse_manifest(files["manifest.txt"], dir + "/manifest.txt");
  for (const ProgramEntry& p : m.programs) files[p.file] = read_text(dir + "/" + p.file);
  FileBlob blob(dir + "/" + m.weights);
  if (blob.size() > kMaxBlobBytes)
    throw ValueError(dir + "/" + m.weights + ": " + std::to_string(blob.size()) + " bytes, more than the " +
                     std::to_string(kMaxBlobBytes >> 30) + " GiB kiln loads");
  return load_from(files, blob, dir, device);
}

void write(const std::string& dir, const std::vector<ProgramText>& programs, const rt::Store& store,
           const std::string& kiln_version) {
  if (programs.empty()) throw ValueError("a bundle needs at least one program");
  Manifest m;
  m.kiln_version = kiln_version;
  m.weights = "weights.bin";
  std::map<std::string, ir::Type> types;
  std::vector<std::string> order;
  for (const ProgramText& p : programs) {
    ir::Graph g = ir::parse(p.text);
    m.programs.push_back({p.name, p.name + ".kir", p.runs});
    for (int v : g.inputs) m.inputs.push_back({p.name, g.values[v].name, g.values[v].type});
    for (int v : g.outputs) m.outputs.push_back({p.name, g.values[v].name, g.values[v].type});
    for (const std::vector<int>* decls : {&g.params, &g.states})
      for (int v : *decls) {
        const ir::Value& val = g.values[v];
        auto [it, fresh] = types.emplace(val.name, val.type);
        if (!fresh && it->second != val.type)
          throw ShapeError("%" + val.name + " is " + it->second.str() + " in one program and " + val.type.str() + " in " + p.name);
        if (fresh) order.push_back(val.name);
      }
  }
  std::string blob;
  for (const std::string& name : order) {
    std::shared_ptr<rt::Tensor> t = store.find(name);
    if (!t) throw ValueError("the store holds no %" + name + ", which the bundle's programs declare");
    if (t->type != types[name])
      throw ShapeError("%" + name + " is stored as " + t->type.str() + " but declared " + types[name].str());
    int64_t bytes = t->numel() * 4, offset = static_cast<int64_t>((blob.size() + kAlign - 1) / kAlign * kAlign);
    blob.resize(static_cast<size_t>(offset + bytes), '\0');
    store.get(*t, blob.data() + offset);
    m.tensors.push_back({name, t->type, offset, bytes});
  }
  static std::atomic<int> counter{0};
  fs::path target(dir), tmp = target.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  fs::path old = target.string() + ".old-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  if (fs::exists(target) && !fs::is_directory(target)) throw ValueError(dir + ": exists and is not a folder");
  fs::create_directories(tmp);
  try {
    for (const ProgramText& p : programs) write_file(tmp / (p.name + ".kir"), p.text);
    write_file(tmp / m.weights, blob);
    write_file(tmp / "manifest.txt", print_manifest(m));
    bool had = fs::exists(target);
    if (had) fs::rename(target, old);
    fs::rename(tmp, target);
    if (had) fs::remove_all(old);
  } catch (...) {
    std::error_code ec;
    if (!fs::exists(target, ec) && fs::exists(old, ec)) fs::rename(old, target, ec);  // the old bundle stays
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace kiln::bundle
