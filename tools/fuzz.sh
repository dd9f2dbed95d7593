#!/usr/bin/env bash
# Coverage-guided fuzzing job (docs/reliability.md): installs clang and libFuzzer from Debian's
# packages (this job only; the default build stays PyPI-only), builds every target in fuzz/
# with ASan + UBSan, and runs each for FUZZ_SECONDS (default 60) through fuzz/run.sh. Any
# crash, sanitizer report, escaped exception, hang or allocation above the harness's cap fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$PWD/.venv/bin/python"
if ! command -v clang++-14 > /dev/null || [ ! -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
  apt-get update -qq > /dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libfuzzer-14-dev > /dev/null
fi
B=build/fuzz
"$PWD/.venv/bin/cmake" -S . -B $B -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKILN_FUZZ=ON -DKILN_SANITIZE=address,undefined -DKILN_CUDA=OFF -DKILN_PYTHON=OFF -DKILN_BLAS=SCIPY \
  -DPython_EXECUTABLE="$PY" > $B.configure.log || { cat $B.configure.log; exit 1; }
targets=$(cd fuzz && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//')
for t in $targets; do "$PWD/.venv/bin/cmake" --build $B -j2 --target kiln-fuzz-$t; done
for t in $targets; do
  echo "fuzz: $t for ${FUZZ_SECONDS:-60} s"
  rc=0
  bash fuzz/run.sh $B $t "${FUZZ_SECONDS:-60}" > $B/$t.log 2>&1 || rc=$?
  grep -E "^(Done|stat::|INFO: Seed)" $B/$t.log || true
  if [ $rc != 0 ]; then tail -n 80 $B/$t.log; exit $rc; fi
done
# The Python loaders' fuzz tests at their CI sizes (10^4 mutated bundles, configs, model files
# and weight files), under the same time and allocation caps (tests/python/fuzzing.py).
echo "fuzz: python loaders"
KILN_FUZZ_MODEL_FILES=10000 KILN_FUZZ_H5=10000 "$PY" -m pytest -q -p no:cacheprovider \
  tests/python/saving/test_fuzz_bundles.py tests/python/saving/test_fuzz_configs.py tests/python/saving/test_fuzz_weight_files.py
