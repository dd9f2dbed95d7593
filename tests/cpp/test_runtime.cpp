// Runtime tests under ctest (also run in the sanitizer build): the compile entry, training
// steps, and concurrent runs of one Program from several threads, compared bit for bit with
// serial runs. Prints "N passed, N failed".
#include <atomic>
#include <cmath>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include "cuda/device.h"
#include "runtime/compile.h"
#include "testing.h"

using namespace kiln;

using kiln::testing::check;

// A small classifier: the predict graph, and the same layers with a loss for training.
static const std::string kLayers = R"(  param %w1 : f32[8,16] {init="glorot_uniform", seed=1}
  param %b1 : f32[16] {init=0.0}
  param %w2 : f32[16,3] {init="glorot_uniform", seed=2}
  %h = matmul(%x, %w1) : f32[?,16]
  %hb = bias_add(%h, %b1) : f32[?,16]
  %a = relu(%hb) : f32[?,16]
  %z = matmul(%a, %w2) : f32[?,3]
  %y = softmax(%z) {axis=-1} : f32[?,3]
)";
static const std::string kPredict = "kiln 1\ngraph @net {\n  input %x : f32[?,8]\n" + kLayers + "  output %y\n}\n";
static const std::string kNet = "kiln 1\ngraph @net {\n  input %x : f32[?,8]\n  input %t : f32[?,3]\n" + kLayers +
                                "  %l = categorical_crossentropy(%t, %y) : f32[?]\n  %loss = reduce_mean(%l) : f32[]\n"
                                "  output %loss\n}\n";

// Deterministic inputs: x[r][c] = sin(0.37 (8 (r + offset) + c)); the target (when the graph
// has one) is the one-hot argmax of x's first 3 columns, a task a small net learns quickly.
static void fill_inputs(rt::Execution& ex, int64_t offset) {
  float* x = ex.inputs[0].f();
  for (int64_t r = 0; r < ex.batch; ++r)
    for (int64_t c = 0; c < 8; ++c) x[r * 8 + c] = std::sin(0.37f * float((r + offset) * 8 + c));
  if (ex.inputs.size() < 2) return;
  float* t = ex.inputs[1].f();
  for (int64_t r = 0; r < ex.batch; ++r) {
    const float* row = x + r * 8;
    int best = row[1] > row[0] ? 1 : 0;
    if (row[2] > row[best]) best = 2;
    for (int c = 0; c < 3; ++c) t[r * 3 + c] = c == best ? 1.f : 0.f;
  }
}

static std::vector<float> predict_once(const rt::Program& p, int64_t batch, int64_t offset) {
  rt::Program::Lease ex = p.acquire(batch);
  fill_inputs(*ex, offset);
  p.run(*ex);
  return std::vector<float>(ex->outputs[0].f(), ex->outputs[0].f() + ex->outputs[0].numel);
}

int main() {
  // One entry: the train graph from the compile options, then steps that lower the loss.
  {
    auto store = std::make_shared<rt::Store>();
    rt::CompileOptions o;
    o.train = passes::OptimizerSpec{"sgd", {{"lr", 0.5}}, "sgd_1"};
    std::shared_ptr<rt::Program> train = rt::compile(store, kNet, o);
    check(ir::print(train->graph()).find("apply_sgd(%w1,") != std::string::npos, "compile builds the train graph");
    check(ir::print(train->graph()).find("dense(%x, %w1, %b1)") != std::string::npos, "compile runs the passes");
    float first = 0, last = 0;
    for (int step = 0; step < 100; ++step) {
      rt::Program::Lease ex = train->acquire(12);
      fill_inputs(*ex, 12 * (step % 5));
      train->run(*ex);
      (step == 0 ? first : last) = ex->outputs[0].f()[0];
    }
    check(last < 0.5f * first, "sgd steps lower the loss (" + std::to_string(first) + " -> " + std::to_string(last) + ")");
    check(train->runs() == 100, "the run counter counts runs");
  }

  // Views (reshape, stop_gradient) between the layers take their operand's bytes in the plan,
  // and the programs compute what the same graphs without them do, bit for bit: predictions,
  // and 20 sgd steps through the views' gradients (reshapes of the cotangents).
  {
    auto viewed = [](const std::string& text) {
      std::string s = text;
      s.replace(s.find("  %a = relu(%hb) : f32[?,16]\n"), 29,
                "  %a0 = relu(%hb) : f32[?,16]\n  %a1 = reshape(%a0) {shape=[4,4]} : f32[?,4,4]\n"
                "  %a2 = stop_gradient(%a1) : f32[?,4,4]\n  %a3 = add(%a1, %a2) : f32[?,4,4]\n"
                "  %a4 = sub(%a3, %a2) : f32[?,4,4]\n  %a = reshape(%a4) {shape=[16]} : f32[?,16]\n");
      return s;
    };
    auto store = std::make_shared<rt::Store>();
    std::shared_ptr<rt::Program> plain = rt::compile(store, kPredict, {});
    std::shared_ptr<rt::Program> views = rt::compile(store, viewed(kPredict), {});
    check(predict_once(*plain, 7, 3) == predict_once(*views, 7, 3), "views change no prediction");
    const ir::Graph& g = views->graph();
    std::shared_ptr<const memory::Plan> plan = views->plan(ir::Sizes(7));
    auto value = [&](const std::string& name) {
      for (size_t v = 0; v < g.values.size(); ++v)
        if (g.values[v].name == name) return static_cast<int>(v);
      return -1;
    };
    int a0 = value("a0"), a1 = value("a1"), a2 = value("a2"), a = value("a");
    check(a0 >= 0 && plan->storage[a1] == a0 && plan->storage[a2] == a0 && plan->offset[a1] == plan->offset[a0],
          "a reshape and a stop_gradient take their operand's bytes");
    check(plan->storage[a] != a0 && plan->storage[a] == value("a4"),
          "a view of another value takes that one's bytes");
    std::vector<float> losses[2];
    for (int k = 0; k < 2; ++k) {
      auto fresh = std::make_shared<rt::Store>();
      rt::CompileOptions o;
      o.train = passes::OptimizerSpec{"sgd", {{"lr", 0.5}}, "sgd_1"};
      std::shared_ptr<rt::Program> train = rt::compile(fresh, k ? viewed(kNet) : kNet, o);
      for (int step = 0; step < 20; ++step) {
        rt::Program::Lease ex = train->acquire(12);
        fill_inputs(*ex, 12 * (step % 5));
        train->run(*ex);
        losses[k].push_back(ex->outputs[0].f()[0]);
      }
    }
    check(losses[0] == losses[1], "training through views gives the same losses");
  }

  // Concurrent runs of one program give the serial answers, for batch sizes planned meanwhile.
  {
    auto store = std::make_shared<rt::Store>();
    std::shared_ptr<rt::Program> p = rt::compile(store, kPredict, {});
    const int kThreads = 8, kRuns = 40;
    std::vector<std::vector<float>> serial;
    for (int k = 0; k < kRuns; ++k) serial.push_back(predict_once(*p, 1 + k % 13, k));
    std::shared_ptr<rt::Program> fresh = rt::compile(store, kPredict, {});  // same weights, empty caches
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int j = 0; j < kRuns; ++j) {
          int k = (j + 5 * t) % kRuns;
          if (predict_once(*fresh, 1 + k % 13, k) != serial[k]) ++bad;
        }
      });
    for (auto& th : threads) th.join();
    check(bad == 0, "concurrent runs equal serial runs (" + std::to_string(bad.load()) + " differ)");
    check(fresh->runs() == uint64_t(kThreads * kRuns), "no run is lost from the counter");
  }

  // Training in one thread while others predict: no error, finite outputs, and afterwards the
  // prediction is that of the trained weights.
  {
    auto store = std::make_shared<rt::Store>();
    rt::CompileOptions o;
    o.train = passes::OptimizerSpec{"adam", {{"lr", 0.01}}, "adam_1"};
    std::shared_ptr<rt::Program> train = rt::compile(store, kNet, o);
    std::shared_ptr<rt::Program> pred = rt::compile(store, kPredict, {});
    std::atomic<bool> done{false};
    std::atomic<int> nonfinite{0}, predictions{0};
    std::thread trainer([&] {
      while (predictions < 3) std::this_thread::yield();  // the readers are running
      for (int step = 0; step < 300; ++step) {
        rt::Program::Lease ex = train->acquire(16);
        fill_inputs(*ex, step);
        train->run(*ex);
      }
      done = true;
    });
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t)
      readers.emplace_back([&] {
        while (!done) {
          for (float v : predict_once(*pred, 8, 0))
            if (!std::isfinite(v)) ++nonfinite;
          ++predictions;
        }
      });
    trainer.join();
    for (auto& th : readers) th.join();
    check(nonfinite == 0, "predictions during training are finite (" + std::to_string(nonfinite.load()) + " of " +
                              std::to_string(predictions.load() * 24) + " values are not)");
    std::shared_ptr<rt::Program> again = rt::compile(store, kPredict, {});
    check(predict_once(*pred, 8, 0) == predict_once(*again, 8, 0), "after training, predict reads the trained weights");
  }

  // Executions are pooled per batch size and bounded.
  {
    auto store = std::make_shared<rt::Store>();
    std::shared_ptr<rt::Program> p = rt::compile(store, kPredict, {});
    for (int64_t b = 1; b <= 40; ++b) predict_once(*p, b, 0);
    const rt::Execution* first = nullptr;
    {
      rt::Program::Lease a = p.get()->acquire(40);
      first = &*a;
    }
    rt::Program::Lease b = p->acquire(40);
    check(&*b == first, "a returned Execution is reused for its batch size");
    bool threw = false;
    try {
      p->acquire(-1);
    } catch (const ValueError&) {
      threw = true;
    }
    check(threw, "a negative batch size is refused");
  }

  // A program for a device runs that device's kernels only: with no CUDA kernel for its ops, a
  // CUDA program is refused naming the first op, before the Store gains anything.
  {
    auto store = std::make_shared<rt::Store>(kernels::Device::cuda);
    std::string why;
    try {
      rt::Program p(store, rt::compile_graph(kPredict, {}), 0, false, kernels::Device::cuda);
    } catch (const ValueError& e) {
      why = e.what();
    }
    check(why.find("has no CUDA kernel") != std::string::npos && why.find("[") == 0, "CUDA program refused: " + why);
    check(store->names().empty(), "a refused program creates nothing in the Store");
    rt::CompileOptions o;
    o.device = kernels::Device::cuda;
    bool usable = true;
    try {
      rt::compile(store, kPredict, o);
    } catch (const ValueError& e) {
      usable = std::string(e.what()).find("is not usable") == std::string::npos;
    }
    check(!usable || cuda::device_count() > 0, "compile for CUDA without a GPU says the device is not usable");
    check(kernels::devices_with_kernel("relu") == std::vector<kernels::Device>{kernels::Device::cpu} ||
              cuda::compiled(),
          "relu has a CPU kernel (and a CUDA one only in a CUDA build)");
  }

  return kiln::testing::summary();
}
