// Loads an IR bundle with kiln's C++ API, predicts a batch and, when the bundle can train, takes
// one training step and predicts again: no Python anywhere.
//   predict_and_train BUNDLE_DIR
#include <cstdio>
#include <exception>

#include "kiln/kiln.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s BUNDLE_DIR\n", argv[0]);
    return 2;
  }
  try {
    kiln::Model model = kiln::Model::load(argv[1]);
    const int64_t rows = 4;
    auto batch_of = [&](const kiln::Port& port, float value) {
      kiln::Array a;
      int64_t n = 1;
      for (int64_t d : port.shape) {
        int64_t size = d == -1 ? rows : d == -2 ? 8 : d;  // the batch, and 8 steps for a dynamic length
        a.shape.push_back(size);
        n *= size;
      }
      a.data.assign(static_cast<size_t>(n), value);
      return a;
    };
    std::vector<kiln::Array> xs;
    for (const kiln::Port& p : model.inputs()) xs.push_back(batch_of(p, 0.5f));
    std::vector<kiln::Array> ys = model.predict(xs);
    std::printf("predict: %s -> shape [", model.outputs()[0].name.c_str());
    for (size_t i = 0; i < ys[0].shape.size(); ++i) std::printf("%s%lld", i ? "," : "", (long long)ys[0].shape[i]);
    std::printf("], first value %.6f\n", ys[0].data[0]);
    if (model.has_program("train")) {
      std::vector<kiln::Array> batch;
      for (const kiln::Port& p : model.inputs("train")) batch.push_back(batch_of(p, 1.0f));
      std::vector<float> first = model.train_on_batch(batch), loss = first;
      for (int step = 0; step < 20; ++step) loss = model.train_on_batch(batch);
      std::printf("train: loss %.6f after 1 step, %.6f after 21\n", first[0], loss[0]);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
