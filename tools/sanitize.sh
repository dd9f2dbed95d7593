#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer job (docs/reliability.md): builds the core, the
# C++ tests and the Python module with -fsanitize=address,undefined, runs ctest, then the
# whole Python suite against the sanitized module. Any finding fails the run.
# Uses the virtual environment tools/test.sh made (.venv); gcc's sanitizer runtimes come with
# the compiler, so nothing else is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$PWD/.venv/bin/python"
"$PY" -m pip install -q pybind11
B=build/asan
"$PWD/.venv/bin/cmake" -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=address,undefined \
  -DKILN_CUDA=OFF -DKILN_BLAS=SCIPY -DKILN_PYTHON=ON -DKILN_MPI=OFF -DPython_EXECUTABLE="$PY" > $B.configure.log \
  || { cat $B.configure.log; exit 1; }
"$PWD/.venv/bin/cmake" --build $B -j2
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=0:allocator_may_return_null=1
"$PWD/.venv/bin/ctest" --test-dir $B --output-on-failure
# The Python tests import kiln from a tree holding the package sources and the sanitized
# module (no kiln._mpi: the distributed tests, which run mpiexec and MPICH's uninstrumented
# processes, run in the tests job and skip here saying the module is not built). Python itself is not instrumented, so the ASan runtime is preloaded (leak checking
# stays off: the interpreter keeps its own allocations until exit).
PKG=$B/pkg
rm -rf $PKG && mkdir -p $PKG && cp -r python/kiln $PKG/kiln && rm -f $PKG/kiln/_core*.so
cp $B/pytree/kiln/_core*.so $PKG/kiln/
LD_PRELOAD="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)" PYTHONPATH="$PWD/$PKG" \
  "$PY" -m pytest -q -p no:cacheprovider tests/python
