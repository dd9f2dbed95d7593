// kiln-run: the native tool.
//   kiln-run check FILE.kir       parses and verifies an IR file and prints its canonical form
//   kiln-run optimize FILE.kir    prints it after the optimization passes
//   kiln-run BUNDLE --input x.npy [--input x2.npy ...] --output y.npy [--output ...] [--batch N]
//                                 predicts with the bundle's predict program (no Python)
// Errors name the file and line (or tensor) and exit with status 1; bad usage exits with 2.
#include <fstream>
#include <iostream>
#include <sstream>

#include "bundle/bundle.h"
#include "bundle/npy.h"
#include "ir/ir.h"
#include "runtime/loop.h"

using namespace kiln;

namespace {

const char* kUsage =
    "usage: kiln-run check|optimize FILE.kir\n"
    "       kiln-run BUNDLE --input X.npy [--input ...] --output Y.npy [--output ...] [--batch N]\n";

int check_or_optimize(const std::string& mode, const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    std::cerr << "kiln-run: cannot open " << path << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  rt::CompileOptions options;
  options.optimize = mode == "optimize";
  try {
    std::cout << ir::print(rt::compile_graph(ss.str(), options));
  } catch (const Error& e) {
    std::cerr << path << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int predict(const std::string& dir, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
            int64_t batch) {
  bundle::Bundle b = bundle::load(dir);
  auto it = b.programs.find("predict");
  if (it == b.programs.end()) throw ValueError(dir + ": the bundle has no predict program");
  const rt::Program& p = *it->second;
  const ir::Graph& g = p.graph();
  if (inputs.size() != g.inputs.size())
    throw ValueError("the predict program takes " + std::to_string(g.inputs.size()) + " input(s); " +
                     std::to_string(inputs.size()) + " --input given");
  if (outputs.size() != g.outputs.size())
    throw ValueError("the predict program gives " + std::to_string(g.outputs.size()) + " output(s); give --output once for each (" +
                     std::to_string(outputs.size()) + " given)");
  std::vector<bundle::Array> xs;
  std::vector<std::vector<int64_t>> shapes;
  for (const std::string& path : inputs) {
    xs.push_back(bundle::read_npy(path));
    if (xs.back().shape.empty()) throw ValueError(path + ": a 0-d array has no batch axis");
    shapes.push_back(xs.back().shape);
  }
  ir::Sizes sizes = p.sizes_for(shapes);  // checks every input against its declared type, naming it
  int64_t rows = xs.empty() ? 0 : xs[0].shape[0];
  std::vector<rt::HostArray> hs;
  for (const bundle::Array& a : xs)
    hs.push_back({reinterpret_cast<const char*>(a.data.data()), rows, rows ? static_cast<int64_t>(a.data.size()) / rows * 4 : 0});
  sizes.batch = rows;
  std::vector<bundle::Array> ys(g.outputs.size());
  std::vector<char*> dst;
  for (size_t j = 0; j < g.outputs.size(); ++j) {
    for (int64_t d : g.values[g.outputs[j]].type.dims) ys[j].shape.push_back(ir::concrete_dim(d, sizes));
    int64_t n = 1;
    for (int64_t d : ys[j].shape) n *= d;
    ys[j].data.resize(static_cast<size_t>(n));
    dst.push_back(reinterpret_cast<char*>(ys[j].data.data()));
  }
  rt::run_predict(p, hs, batch, dst, {}, sizes);
  for (size_t j = 0; j < ys.size(); ++j) bundle::write_npy(outputs[j], ys[j]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && (args[0] == "check" || args[0] == "optimize")) return check_or_optimize(args[0], args[1]);
  if (args.empty() || args[0].empty() || args[0][0] == '-') {
    std::cerr << kUsage;
    return 2;
  }
  std::vector<std::string> inputs, outputs;
  int64_t batch = 32;
  for (size_t i = 1; i < args.size(); ++i) {
    bool has_value = i + 1 < args.size();
    if (args[i] == "--input" && has_value) inputs.push_back(args[++i]);
    else if (args[i] == "--output" && has_value) outputs.push_back(args[++i]);
    else if (args[i] == "--batch" && has_value) {
      try {
        batch = std::stoll(args[++i]);
      } catch (const std::exception&) {
        batch = 0;
      }
      if (batch < 1) {
        std::cerr << "kiln-run: --batch must be a positive integer\n";
        return 2;
      }
    } else {
      std::cerr << "kiln-run: unexpected argument '" << args[i] << "'\n" << kUsage;
      return 2;
    }
  }
  try {
    return predict(args[0], inputs, outputs, batch);
  } catch (const Error& e) {
    std::cerr << "kiln-run: " << e.what() << "\n";
    return 1;
  }
}
