// kiln-bench: times a bundle's inference or training steps natively.
//   kiln-bench BUNDLE [--train] [--batch N] [--threads T] [--steps S] [--warmup W] [--length L]
//              [--device cpu|cuda] [--input X.npy ...]
// Inputs are synthetic (small integers, valid as word indices and labels alike) at batch N and
// every named dynamic dim at length L, unless --input files are given (then their shapes count).
// Prints one line of key=value pairs: samples/s, ms per step (min, median, max), peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>

#ifdef KILN_HAVE_OPENMP
#include <omp.h>
#endif

#include "bundle/bundle.h"
#include "bundle/npy.h"

using namespace kiln;

namespace {

const char* kUsage =
    "usage: kiln-bench BUNDLE [--train] [--batch N] [--threads T] [--steps S] [--warmup W] [--length L]\n"
    "                  [--device cpu|cuda] [--input X.npy ...]\n";

struct Options {
  std::string dir, device = "cpu";
  bool train = false;
  int64_t batch = 32, threads = 0, steps = 100, warmup = 5, length = 32;
  std::vector<std::string> inputs;
};

int64_t count(const std::string& flag, const std::string& v, int64_t least = 1) {
  int64_t n = -1;
  try {
    n = std::stoll(v);
  } catch (const std::exception&) {
  }
  if (n < least) throw std::invalid_argument(flag + " must be an integer >= " + std::to_string(least) + ", got '" + v + "'");
  return n;
}

Options parse(const std::vector<std::string>& args) {
  Options o;
  if (args.empty() || args[0].empty() || args[0][0] == '-') throw std::invalid_argument("no bundle");
  o.dir = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool v = i + 1 < args.size();
    if (a == "--train") o.train = true;
    else if (a == "--batch" && v) o.batch = count(a, args[++i]);
    else if (a == "--threads" && v) o.threads = count(a, args[++i]);
    else if (a == "--steps" && v) o.steps = count(a, args[++i]);
    else if (a == "--warmup" && v) o.warmup = count(a, args[++i], 0);
    else if (a == "--length" && v) o.length = count(a, args[++i]);
    else if (a == "--device" && v) o.device = args[++i];
    else if (a == "--input" && v) o.inputs.push_back(args[++i]);
    else throw std::invalid_argument("unexpected argument '" + a + "'");
  }
  return o;
}

int run(const Options& o) {
#ifdef KILN_HAVE_OPENMP
  if (o.threads) omp_set_num_threads(static_cast<int>(o.threads));
  int threads = omp_get_max_threads();
#else
  int threads = 1;
#endif
  bundle::Bundle b = bundle::load(o.dir, kernels::device_named(o.device));
  const std::string which = o.train ? "train" : "predict";
  auto it = b.programs.find(which);
  if (it == b.programs.end()) throw ValueError(o.dir + ": the bundle has no " + which + " program");
  const rt::Program& p = *it->second;
  const ir::Graph& g = p.graph();
  std::vector<bundle::Array> given;
  ir::Sizes sizes(o.batch);
  if (!o.inputs.empty()) {
    if (o.inputs.size() != g.inputs.size())
      throw ValueError("the " + which + " program takes " + std::to_string(g.inputs.size()) + " input(s); " +
                       std::to_string(o.inputs.size()) + " --input given");
    std::vector<std::vector<int64_t>> shapes;
    for (const std::string& path : o.inputs) {
      given.push_back(bundle::read_npy(path));
      shapes.push_back(given.back().shape);
    }
    sizes = p.sizes_for(shapes);
  } else {
    for (int v : g.inputs)
      for (int64_t d : g.values[v].type.dims)
        if (ir::has_name(d)) sizes.set(ir::dim_parts(d).name, o.length);
  }
  rt::Program::Lease ex = p.acquire(sizes);
  for (size_t i = 0; i < ex->inputs.size(); ++i) {
    std::vector<float> x(static_cast<size_t>(ex->inputs[i].numel));
    if (!given.empty()) std::copy(given[i].data.begin(), given[i].data.begin() + x.size(), x.begin());
    else
      for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>((k * 7 + i) % 4);
    rt::write_input(*ex, i, x.data());
  }
  for (int64_t s = 0; s < o.warmup; ++s) p.run(*ex);
  std::vector<double> ms;
  for (int64_t s = 0; s < o.steps; ++s) {
    auto t0 = std::chrono::steady_clock::now();
    p.run(*ex);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  double median = ms[ms.size() / 2];
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::cout << "kiln-bench " << o.dir << " program=" << which << " batch=" << sizes.batch << " threads=" << threads
            << " device=" << o.device << " steps=" << o.steps << " samples_per_s=" << sizes.batch / (median / 1e3)
            << " ms_min=" << ms.front() << " ms_median=" << median << " ms_max=" << ms.back()
            << " peak_rss_mib=" << ru.ru_maxrss / 1024.0 << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "kiln-bench: " << e.what() << "\n" << kUsage;
    return 2;
  }
  try {
    return run(o);
  } catch (const Error& e) {
    std::cerr << "kiln-bench: " << e.what() << "\n";
    return 1;
  }
}
