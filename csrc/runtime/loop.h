// Whole-epoch loops that run without Python: slicing batches (in a given order), the step,
// and averaging the scalar outputs weighted by batch size, as Keras reports them.
#pragma once

#include <functional>

#include "runtime/program.h"

namespace kiln::rt {

// Rows of one host array: row i starts at data + i * row_bytes.
struct HostArray {
  const char* data;
  int64_t rows;
  int64_t row_bytes;
};

// Called between steps at most every `interval_s` (and after the last): the bindings check for
// a pending Ctrl-C there and throw, so an interrupt stops the loop after a whole step.
struct Poll {
  std::function<void()> fn;
  double interval_s = 0.02;
};

struct EpochHooks {
  bool every_batch = false;  // call on_batch_begin/on_progress for every batch
  Poll poll;
  double interval_s = 0.25;  // otherwise call on_progress at most this often (and at the end)
  // Return true to stop the epoch after this batch.
  std::function<bool(int64_t batch, int64_t size)> on_batch_begin;
  std::function<bool(int64_t batch, int64_t size, int64_t seen, const std::vector<double>& batch_values,
                     const std::vector<double>& means)>
      on_progress;
};

struct EpochResult {
  std::vector<double> means;
  int64_t seen = 0;
  bool stopped = false;
};

// Every program output must be a scalar. `order` lists the rows to visit (a permutation for
// shuffled epochs). Progress is also reported at once after a batch whose first output is
// not finite. `dims` gives the named dynamic dims' lengths (Program::sizes_for on the whole
// arrays); its batch is ignored.
//
// With a communicator (data-parallel: every rank calls this with the same order and batch
// size), each batch of `order` is cut into one contiguous slice per rank, rank r of R taking
// rows [size*r/R, size*(r+1)/R) of it; the outputs are averaged over the ranks weighted by their
// rows, so every rank reports (and its hooks see) the whole batch's values. A rank whose slice
// of a short last batch is empty runs the batch's first row contributing 0 rows
// (ExecContext::rows), so that it still takes part in every collective and applies the update.
EpochResult run_epoch(const Program& p, const std::vector<HostArray>& arrays, int64_t batch_size,
                      const std::vector<int64_t>& order, const EpochHooks& hooks, const ir::Sizes& dims = {},
                      Communicator* comm = nullptr);

// A permutation of [0, n) drawn from `seed` (Fisher-Yates over a splitmix64 stream): the same
// seed gives the same order on every platform.
std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed);

// Runs every batch in order and writes each output's rows to outs[j] (row_bytes each).
void run_predict(const Program& p, const std::vector<HostArray>& arrays, int64_t batch_size, const std::vector<char*>& outs,
                 const Poll& poll = {}, const ir::Sizes& dims = {});

}  // namespace kiln::rt
