// kiln._mpi: the MPI implementation of kiln::Communicator (base/communicator.h), over the
// communicator mpi4py made (handed over as its Fortran handle, MPI_Comm_f2c). Its own module,
// imported only by kiln.distributed after mpi4py.MPI has loaded and initialized the MPI library,
// so _core never links MPI and a plain install needs none.
#include <mpi.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

#include "base/communicator.h"

namespace py = pybind11;

namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw std::runtime_error(std::string(what) + " failed: " + std::string(msg, static_cast<size_t>(len)));
}

class MpiCommunicator final : public kiln::Communicator {
 public:
  explicit MpiCommunicator(MPI_Fint handle) {
    int ready = 0;
    check(MPI_Initialized(&ready), "MPI_Initialized");
    if (!ready) throw std::runtime_error("MPI is not initialized (import mpi4py.MPI first)");
    comm_ = MPI_Comm_f2c(handle);
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  // MPI counts are ints: a buffer past INT_MAX elements goes in pieces.
  void allreduce_sum(double* data, int64_t n) override {
    for (int64_t at = 0; at < n; at += INT_MAX) {
      int count = static_cast<int>(std::min<int64_t>(n - at, INT_MAX));
      check(MPI_Allreduce(MPI_IN_PLACE, data + at, count, MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
    }
  }
  void barrier() override { check(MPI_Barrier(comm_), "MPI_Barrier"); }

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace

PYBIND11_MODULE(_mpi, m) {
  m.doc() = "kiln's MPI communicator (kiln.distributed loads it)";
  py::class_<MpiCommunicator>(m, "Communicator")
      .def(py::init([](int64_t handle) { return new MpiCommunicator(static_cast<MPI_Fint>(handle)); }),
           py::arg("fortran_handle"))
      .def_property_readonly("rank", &MpiCommunicator::rank)
      .def_property_readonly("size", &MpiCommunicator::size)
      // The object as the runtime takes it (kiln._core's run_epoch comm=): a capsule that does
      // not own it; the Python object must outlive every use.
      .def("capsule", [](MpiCommunicator& c) {
        return py::capsule(static_cast<kiln::Communicator*>(&c), "kiln.Communicator");
      })
      .def("allreduce_sum", [](MpiCommunicator& c, py::array_t<double, py::array::c_style> a) {
        py::gil_scoped_release nogil;
        c.allreduce_sum(a.mutable_data(), a.size());
      }, "In place, through the same path the runtime uses (for tests and kiln.distributed).")
      .def("barrier", [](MpiCommunicator& c) {
        py::gil_scoped_release nogil;
        c.barrier();
      })
      .def_property_readonly_static("library", [](py::object) {
        char v[MPI_MAX_LIBRARY_VERSION_STRING];
        int len = 0;
        MPI_Get_library_version(v, &len);
        return std::string(v, static_cast<size_t>(len));
      });
}
