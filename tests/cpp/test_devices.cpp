// The device layer under ctest, on the host stand-in for CUDA (runtime/standin.h), so it runs on
// machines without a GPU: a program for a device keeps its weights, optimizer state and arena in
// that device's memory, moves only its inputs in and its outputs out, and computes what the CPU
// program computes; a Store serves one device; a host pointer never reaches a device kernel.
// Prints "N passed, N failed".
#include <cmath>
#include <cstring>
#include <vector>

#include "cuda/device.h"
#include "memory/device_memory.h"
#include "runtime/compile.h"
#include "runtime/loop.h"
#include "runtime/standin.h"
#include "testing.h"

using namespace kiln;

using kiln::testing::check;

namespace {

const std::string kNet = R"(kiln 1
graph @net {
  input %x : f32[?,6]
  input %t : f32[?,2]
  param %w : f32[6,5] {init="glorot_uniform", seed=3}
  param %b : f32[5] {init=0.0}
  param %v : f32[5,2] {init="glorot_uniform", seed=4}
  %h = matmul(%x, %w) : f32[?,5]
  %hb = bias_add(%h, %b) : f32[?,5]
  %a = tanh(%hb) : f32[?,5]
  %z = matmul(%a, %v) : f32[?,2]
  %y = softmax(%z) {axis=-1} : f32[?,2]
  %l = categorical_crossentropy(%t, %y) : f32[?]
  %loss = reduce_mean(%l) : f32[]
  output %loss
}
)";

const std::string kConv = R"(kiln 1
graph @conv {
  input %image : f32[?,9,8,1]
  param %conv_W : f32[3,3,1,4] {init="glorot_uniform", seed=1}
  param %conv_b : f32[4] {init=0.1}
  %c1 = conv2d(%image, %conv_W) {padding="same", strides=[1,1]} : f32[?,9,8,4]
  %c2 = bias_add(%c1, %conv_b) : f32[?,9,8,4]
  %c = relu(%c2) : f32[?,9,8,4]
  %pool = pool2d(%c) {mode="max", padding="valid", pool=[2,2], strides=[2,2]} : f32[?,4,4,4]
  output %pool
}
)";

// Rows of x (6 columns) and one-hot targets (which of the first two columns is larger).
void data(int64_t rows, std::vector<float>& x, std::vector<float>& t) {
  x.resize(rows * 6);
  t.assign(rows * 2, 0.f);
  for (int64_t i = 0; i < rows * 6; ++i) x[i] = std::sin(0.41f * float(i) + 0.2f);
  for (int64_t r = 0; r < rows; ++r) t[r * 2 + (x[r * 6 + 1] > x[r * 6] ? 1 : 0)] = 1.f;
}

// Trains with adam for `steps` steps of batch 8 on `device`; the losses, then the weights.
struct Trained {
  std::vector<float> losses, w, b, v, adam_slot;
};
Trained train(Device device, int steps) {
  auto store = std::make_shared<rt::Store>(device);
  rt::CompileOptions o;
  o.device = device;
  o.train = passes::OptimizerSpec{"adam", {{"lr", 0.05}}, "adam_1"};
  std::shared_ptr<rt::Program> p = rt::compile(store, kNet, o);
  std::vector<float> x, t;
  data(64, x, t);
  Trained out;
  for (int s = 0; s < steps; ++s) {
    rt::Program::Lease ex = p->acquire(8);
    int64_t r0 = 8 * (s % 8);
    rt::write_input(*ex, 0, x.data() + r0 * 6);
    rt::write_input(*ex, 1, t.data() + r0 * 2);
    p->run(*ex);
    float loss = 0;
    rt::read_output(*ex, 0, &loss);
    out.losses.push_back(loss);
  }
  auto read = [&](const std::string& name) {
    std::shared_ptr<rt::Tensor> tensor = store->find(name);
    std::vector<float> v(tensor ? tensor->numel() : 0);
    if (tensor) store->get(*tensor, v.data());
    return v;
  };
  out.w = read("w");
  out.b = read("b");
  out.v = read("v");
  for (const std::string& n : store->names())
    if (n.find("adam_1") == 0 && out.adam_slot.empty()) out.adam_slot = read(n);
  return out;
}

}  // namespace

int main() {
  rt::standin::install();
  rt::standin::Counts before = rt::standin::counts();

  // Training on the device computes what the CPU computes, bit for bit (the stand-in runs the
  // CPU kernels), with the weights and the optimizer's slots in device memory.
  {
    Trained cpu = train(Device::cpu, 40), dev = train(Device::cuda, 40);
    check(cpu.losses == dev.losses, "the device's losses equal the CPU's");
    check(cpu.losses.back() < 0.6f * cpu.losses.front(),
          "training lowers the loss (" + std::to_string(cpu.losses.front()) + " -> " + std::to_string(cpu.losses.back()) + ")");
    check(!cpu.w.empty() && cpu.w == dev.w && cpu.b == dev.b && cpu.v == dev.v, "the trained weights are equal");
    check(!dev.adam_slot.empty() && cpu.adam_slot == dev.adam_slot, "the optimizer's slots are equal");
    rt::standin::Counts c = rt::standin::counts();
    check(c.kernel_calls > 40 * 10, "device kernels ran (" + std::to_string(c.kernel_calls) + " calls)");
    check(c.live == before.live, "every device allocation was released with its Store and programs (" +
                                     std::to_string(c.live - before.live) + " left)");
  }

  // A step copies its inputs in and its scalar output out, nothing else: the weights stay.
  {
    auto store = std::make_shared<rt::Store>(Device::cuda);
    rt::CompileOptions o;
    o.device = Device::cuda;
    o.train = passes::OptimizerSpec{"sgd", {{"lr", 0.1}}, "sgd_1"};
    std::shared_ptr<rt::Program> p = rt::compile(store, kNet, o);
    std::vector<float> x, t;
    data(64, x, t);
    std::vector<rt::HostArray> arrays{{reinterpret_cast<const char*>(x.data()), 64, 6 * 4},
                                      {reinterpret_cast<const char*>(t.data()), 64, 2 * 4}};
    rt::run_epoch(*p, arrays, 16, rt::shuffled_order(64, 1), {});  // plans and warms the batch size
    rt::standin::Counts c0 = rt::standin::counts();
    rt::EpochResult r = rt::run_epoch(*p, arrays, 16, rt::shuffled_order(64, 2), {});
    rt::standin::Counts c1 = rt::standin::counts();
    check(c1.to_device - c0.to_device == 4 * 2, "an epoch of 4 steps makes 2 copies in per step (" +
                                                    std::to_string(c1.to_device - c0.to_device) + ")");
    check(c1.to_device_bytes - c0.to_device_bytes == 64 * (6 + 2) * 4, "and copies in each row once");
    check(c1.to_host - c0.to_host == 4 && c1.to_host_bytes - c0.to_host_bytes == 4 * 4,
          "and one scalar out per step (" + std::to_string(c1.to_host - c0.to_host) + " copies)");
    check(c1.live == c0.live, "steps allocate nothing on the device once planned");
    check(std::isfinite(r.means.empty() ? NAN : r.means[0]), "the epoch reports a finite loss");
  }

  // Predict through run_predict: the same rows as the CPU program, copied out once per batch.
  {
    std::vector<float> img(13 * 9 * 8);
    for (size_t i = 0; i < img.size(); ++i) img[i] = std::cos(0.13f * float(i));
    std::vector<float> cpu_out(13 * 64), dev_out(13 * 64, -1.f);
    for (Device d : {Device::cpu, Device::cuda}) {
      auto store = std::make_shared<rt::Store>(d);
      rt::CompileOptions o;
      o.device = d;
      std::shared_ptr<rt::Program> p = rt::compile(store, kConv, o);
      std::vector<char*> outs{reinterpret_cast<char*>((d == Device::cpu ? cpu_out : dev_out).data())};
      rt::run_predict(*p, {{reinterpret_cast<const char*>(img.data()), 13, 9 * 8 * 4}}, 5, outs);
    }
    check(cpu_out == dev_out, "the device's predictions equal the CPU's, over batches 5, 5, 3");
  }

  // One Store per device: a program for one device refuses the Store of another, naming both.
  {
    std::string why;
    try {
      rt::CompileOptions o;
      o.device = Device::cuda;
      rt::compile(std::make_shared<rt::Store>(Device::cpu), kConv, o);
    } catch (const ValueError& e) {
      why = e.what();
    }
    check(why.find("Store keeps its tensors on cpu") != std::string::npos && why.find("for cuda") != std::string::npos,
          "a CUDA program refuses a CPU Store: " + why);
  }

  // A host pointer never reaches a device kernel: binding a caller's array is refused, and a
  // view pointed at host memory behind the program's back is caught by the stand-in's kernels.
  {
    auto store = std::make_shared<rt::Store>(Device::cuda);
    rt::CompileOptions o;
    o.device = Device::cuda;
    std::shared_ptr<rt::Program> p = rt::compile(store, kConv, o);
    rt::Program::Lease ex = p->acquire(2);
    std::vector<float> host(2 * 9 * 8, 1.f);
    bool refused = false;
    try {
      rt::bind_input(*ex, 0, host.data());
    } catch (const ValueError&) {
      refused = true;
    }
    check(refused, "a device program's input cannot be bound to host memory");
    std::string why;
    for (kernels::TensorView& v : ex->steps[0].in)
      if (v.data == ex->inputs[0].data) v.data = host.data();
    try {
      p->run(*ex);
    } catch (const ValueError& e) {
      why = e.what();
    }
    check(why.find("conv2d") != std::string::npos && why.find("not device memory") != std::string::npos,
          "a host pointer in a device kernel's operands is an error naming the op: " + why);
  }

  // Transfers check their direction: a host address is not a device buffer.
  {
    float a = 1, b = 0;
    std::string why;
    try {
      memory::to_host(Device::cuda, &b, &a, 4);
    } catch (const ValueError& e) {
      why = e.what();
    }
    check(why.find("not device memory") != std::string::npos, "copying from a host address as device memory is refused");
  }

  rt::standin::remove();
  {
    std::string why;
    try {
      rt::CompileOptions o;
      o.device = Device::cuda;
      rt::compile(std::make_shared<rt::Store>(Device::cuda), kConv, o);
    } catch (const ValueError& e) {
      why = e.what();
    }
    check(!why.empty() || cuda::device_count() > 0, "with the stand-in removed, CUDA is what this build has: " + why);
  }
  return kiln::testing::summary();
}
