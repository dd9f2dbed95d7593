// Epoch and predict loops.
#include "runtime/loop.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

namespace kiln::rt {

static void check_arrays(const Execution& b, const std::vector<HostArray>& arrays) {
  if (arrays.size() != b.inputs.size())
    throw ValueError("the program has " + std::to_string(b.inputs.size()) + " inputs but " +
                     std::to_string(arrays.size()) + " arrays were given");
  for (size_t i = 0; i < arrays.size(); ++i) {
    int64_t row = b.batch ? b.inputs[i].numel / b.batch * 4 : 0;
    if (arrays[i].row_bytes != row)
      throw ShapeError("array " + std::to_string(i) + " has rows of " + std::to_string(arrays[i].row_bytes) +
                       " bytes, the program's input takes " + std::to_string(row));
  }
}

namespace {
// Calls poll.fn at most every poll.interval_s.
class Poller {
 public:
  explicit Poller(const Poll& p) : p_(p), last_(std::chrono::steady_clock::now()) {}
  void operator()() {
    if (!p_.fn) return;
    auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_).count() < p_.interval_s) return;
    last_ = now;
    p_.fn();
  }

 private:
  const Poll& p_;
  std::chrono::steady_clock::time_point last_;
};
}  // namespace

// Rows idx[0 .. n) of array i into the Execution's input i: straight into a CPU program's
// arena, through a host staging buffer (one copy in per input) for another device.
static void gather_one(Execution& b, size_t i, const HostArray& a, const int64_t* idx, int64_t n) {
  thread_local std::vector<char> staging;
  bool host = b.device == Device::cpu;
  if (!host) staging.resize(static_cast<size_t>(n * a.row_bytes));
  char* dst = host ? static_cast<char*>(b.inputs[i].data) : staging.data();
  for (int64_t r = 0; r < n; ++r) std::memcpy(dst + r * a.row_bytes, a.data + idx[r] * a.row_bytes, a.row_bytes);
  if (!host) write_input(b, i, dst);
}

static void gather(Execution& b, const std::vector<HostArray>& arrays, const int64_t* idx, int64_t n) {
  for (size_t i = 0; i < arrays.size(); ++i) gather_one(b, i, arrays[i], idx, n);
}

// The context a run of one rank's slice sees; put back as it was however the loop ends, so a
// pooled Execution never keeps a communicator for a later run alone.
struct ShardContext {
  kernels::ExecContext& ctx;
  ShardContext(kernels::ExecContext& c, Communicator* comm, int64_t rows, int64_t offset) : ctx(c) {
    ctx.comm = comm;
    ctx.rows = rows;
    ctx.row_offset = offset;
  }
  ~ShardContext() {
    ctx.comm = nullptr;
    ctx.rows = 0;
    ctx.row_offset = 0;
  }
};

// The rows-weighted mean over ranks of each scalar output, in place.
static void replica_means(Communicator& comm, std::vector<double>& vals, int64_t rows) {
  std::vector<double> buf(vals.size() + 1);
  for (size_t j = 0; j < vals.size(); ++j) buf[j] = vals[j] * static_cast<double>(rows);
  buf.back() = static_cast<double>(rows);
  comm.allreduce_sum(buf.data(), static_cast<int64_t>(buf.size()));
  for (size_t j = 0; j < vals.size(); ++j) vals[j] = buf.back() > 0 ? buf[j] / buf.back() : 0.0;
}

EpochResult run_epoch(const Program& p, const std::vector<HostArray>& arrays, int64_t batch_size,
                      const std::vector<int64_t>& order, const EpochHooks& hooks, const ir::Sizes& dims,
                      Communicator* comm) {
  using clock = std::chrono::steady_clock;
  if (batch_size <= 0) throw ValueError("batch_size must be positive");
  int64_t n = static_cast<int64_t>(order.size());
  for (int64_t r : order)
    for (auto& a : arrays)
      if (r < 0 || r >= a.rows) throw ValueError("row index out of range");
  EpochResult res;
  std::vector<double> sums(p.graph().outputs.size(), 0.0), batch_vals(sums.size());
  for (int v : p.graph().outputs)
    if (!p.graph().values[v].type.dims.empty())
      throw ShapeError("run_epoch needs scalar outputs; %" + p.graph().values[v].name + " is " + p.graph().values[v].type.str());
  auto last_report = clock::now();
  int64_t nb = (n + batch_size - 1) / batch_size;
  std::optional<Program::Lease> ex;  // one Execution while the batch size stays the same
  Poller poll(hooks.poll);
  for (int64_t bi = 0; bi < nb; ++bi) {
    poll();
    int64_t start = bi * batch_size, size = std::min(batch_size, n - start);
    if (hooks.every_batch && hooks.on_batch_begin && hooks.on_batch_begin(bi, size)) {
      res.stopped = true;
      break;
    }
    int64_t lo = 0, hi = size;  // this rank's slice of the batch
    if (comm && comm->size() > 1) {
      lo = size * comm->rank() / comm->size();
      hi = size * (comm->rank() + 1) / comm->size();
    }
    int64_t rows = hi - lo, run_rows = std::max<int64_t>(rows, 1);
    if (!ex || (*ex)->batch != run_rows) {
      ex.reset();
      ir::Sizes sz = dims;
      sz.batch = run_rows;
      ex.emplace(p.acquire(sz));
    }
    Execution& b = **ex;
    if (bi == 0) check_arrays(b, arrays);
    gather(b, arrays, order.data() + start + (rows ? lo : 0), run_rows);
    {
      ShardContext shard(b.ctx, comm, rows, lo);
      p.run(b);
    }
    for (size_t j = 0; j < sums.size(); ++j) {
      float v = 0;
      read_output(b, j, &v);
      batch_vals[j] = v;
    }
    if (comm && comm->size() > 1) replica_means(*comm, batch_vals, rows);
    for (size_t j = 0; j < sums.size(); ++j) sums[j] += batch_vals[j] * size;
    res.seen += size;
    bool last = bi + 1 == nb;
    bool bad = !sums.empty() && !std::isfinite(batch_vals[0]);
    auto now = clock::now();
    if (hooks.on_progress &&
        (hooks.every_batch || last || bad || std::chrono::duration<double>(now - last_report).count() >= hooks.interval_s)) {
      last_report = now;
      std::vector<double> means(sums.size());
      for (size_t j = 0; j < sums.size(); ++j) means[j] = sums[j] / res.seen;
      if (hooks.on_progress(bi, size, res.seen, batch_vals, means)) {
        res.stopped = !last;
        break;
      }
    }
  }
  res.means.resize(sums.size());
  for (size_t j = 0; j < sums.size(); ++j) res.means[j] = res.seen ? sums[j] / res.seen : 0.0;
  return res;
}

std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  uint64_t state = seed;
  auto next = [&state] {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(next() % static_cast<uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

// Batches are consecutive rows, so each bindable input is read where it lies in the caller's
// array and each bindable output written straight into its rows of the result: no gather and
// no copy out. The views go back to the arena before the Execution returns to its pool.
void run_predict(const Program& p, const std::vector<HostArray>& arrays, int64_t batch_size, const std::vector<char*>& outs,
                 const Poll& poll_spec, const ir::Sizes& dims) {
  Poller poll(poll_spec);
  if (batch_size <= 0) throw ValueError("batch_size must be positive");
  int64_t n = arrays.empty() ? 0 : arrays[0].rows;
  std::vector<int64_t> idx(static_cast<size_t>(std::min(batch_size, std::max<int64_t>(n, 1))));
  std::vector<int64_t> row_bytes(outs.size());
  std::optional<Program::Lease> ex;
  struct Unbind {  // every bound view back home, however the loop ends
    std::optional<Program::Lease>& ex;
    ~Unbind() {
      if (!ex) return;
      for (size_t i = 0; i < (*ex)->inputs.size(); ++i)
        if ((*ex)->input_bindable[i]) bind_input(**ex, i, nullptr);
      for (size_t j = 0; j < (*ex)->outputs.size(); ++j)
        if ((*ex)->output_bindable[j]) bind_output(**ex, j, nullptr);
    }
  };
  for (int64_t start = 0; start < n; start += batch_size) {
    poll();
    int64_t size = std::min(batch_size, n - start);
    for (int64_t r = 0; r < size; ++r) idx[r] = start + r;
    if (!ex || (*ex)->batch != size) {
      ex.reset();
      ir::Sizes sz = dims;
      sz.batch = size;
      ex.emplace(p.acquire(sz));
    }
    Unbind home{ex};
    Execution& b = **ex;
    if (start == 0) check_arrays(b, arrays);
    if (outs.size() != b.outputs.size()) throw ValueError("output buffer count does not match the program");
    for (size_t i = 0; i < arrays.size(); ++i) {
      if (b.input_bindable[i]) bind_input(b, i, arrays[i].data + start * arrays[i].row_bytes);
      else gather_one(b, i, arrays[i], idx.data(), size);
    }
    for (size_t j = 0; j < outs.size(); ++j) {
      row_bytes[j] = b.outputs[j].numel * 4 / size;
      if (b.output_bindable[j]) bind_output(b, j, outs[j] + start * row_bytes[j]);
    }
    p.run(b);
    for (size_t j = 0; j < outs.size(); ++j)
      if (!b.output_bindable[j]) read_output(b, j, outs[j] + start * row_bytes[j]);
  }
}

}  // namespace kiln::rt
