#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time with the harness's limits (fuzz/harness.h):
#   bash fuzz/run.sh BUILD_DIR TARGET SECONDS [extra libFuzzer flags]
# e.g. bash fuzz/run.sh build/fuzz ir 60; a long run: bash fuzz/run.sh build/fuzz ir 0 -runs=1000000
# New inputs that add coverage go to a scratch copy of the corpus, not the repo's.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1 target=$2 seconds=$3
shift 3
work=$(mktemp -d)
cp -r fuzz/corpus/$target "$work/corpus"
limit_mb=256  # = kiln::fuzz::kMaxBytes
args=(-max_len=65536 -timeout=10 -malloc_limit_mb=$limit_mb -rss_limit_mb=2048 -print_final_stats=1)
[ -f fuzz/$target.dict ] && args+=(-dict=fuzz/$target.dict)
[ "$seconds" != 0 ] && args+=(-max_total_time=$seconds)
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$work/artifacts"
status=0
"$build/kiln-fuzz-$target" "${args[@]}" -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" || status=$?
if [ $status != 0 ]; then
  echo "fuzz/$target: finding; reproducer(s) in $work/artifacts:"; ls "$work/artifacts"
  for f in "$work/artifacts"/*; do echo "--- $f"; head -c 2000 "$f"; echo; done
  exit $status
fi
rm -rf "$work"
