// Kernels run with denormals flushed to zero (FTZ + DAZ), as TensorFlow does on CPU. Without it,
// optimizer slots of parameters whose gradient is always 0 (MNIST's border pixels) decay into
// the denormal range, where each RMSprop update costs about 50x more: the guide's MLP spent
// 170 us of a 260 us step in apply_rmsprop on the first layer.
//
//   FlushDenormals ftz;   // this thread and its OpenMP workers flush until ftz goes out of scope
#pragma once

namespace kiln::rt {

// Sets FTZ + DAZ on the calling thread for its lifetime and gives the caller's mode back after,
// so NumPy in the same thread is unaffected. Also sets them once in every OpenMP worker of the
// calling thread's team (each calling thread has its own team in libgomp, and a team grows when
// the thread count is raised), since workers are kiln's own compute threads.
class FlushDenormals {
 public:
  FlushDenormals();
  ~FlushDenormals();
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned saved_ = 0;
};

}  // namespace kiln::rt
