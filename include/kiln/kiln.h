// kiln's C++ API: load an IR bundle (written by model.export(dir) in Python) and predict with it
// or train it, from any C++ program, with no Python. Link against libkiln (CMake target `kiln`;
// pip installs it under site-packages/kiln/lib, this header under site-packages/kiln/include).
//
//   kiln::Model m = kiln::Model::load("mlp_bundle");
//   kiln::Array x{{4, 784}, std::vector<float>(4 * 784, 0.5f)};
//   std::vector<kiln::Array> y = m.predict({x});          // y[0].shape == {4, 10}
//   std::vector<float> loss = m.train_on_batch({x, target, weights});
//   m.save("mlp_bundle");                                  // the trained weights, as a bundle
//
// Every failure throws std::runtime_error with a message naming the file, tensor or input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#define KILN_API __attribute__((visibility("default")))

namespace kiln {

// A dense row-major float32 array; the first dim is the batch.
struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// One input or output of a program: its name and shape, with -1 for the batch and -2 for a
// length known only from the data.
struct Port {
  std::string name;
  std::vector<int64_t> shape;
};

class KILN_API Model {
 public:
  // device: "cpu" or "cuda".
  static Model load(const std::string& bundle_dir, const std::string& device = "cpu");
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  bool has_program(const std::string& name) const;  // "predict", "train"
  std::vector<Port> inputs(const std::string& program = "predict") const;
  std::vector<Port> outputs(const std::string& program = "predict") const;

  // Runs the predict program over all rows, batch_size rows at a time.
  std::vector<Array> predict(const std::vector<Array>& inputs, int64_t batch_size = 32) const;
  // One training step on one batch: the train program's inputs (the model's inputs, then its
  // targets, then one sample-weight column per output) in; its scalar outputs (the loss first,
  // then the metrics) out.
  std::vector<float> train_on_batch(const std::vector<Array>& inputs);
  // Writes the bundle back with the current weights and optimizer state.
  void save(const std::string& bundle_dir) const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
