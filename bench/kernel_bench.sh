#!/bin/sh
# Builds and runs bench/kernel_bench: int8 MACs per cycle of the compiled
# conv/depthwise/dense kernels on this machine against the peak of a
# micro-loop of the same instruction, then the glue ops' bytes moved per
# second against a same-run memcpy (see the comment atop kernel_bench.c).
#   bench/kernel_bench.sh [BUILD_DIR] [RUNS] [glue]   (glue: only the glue ops)
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
cmake -S "$src" -B "$build" >/dev/null
cmake --build "$build" --target kernel_bench -j2 >/dev/null
exec "$build/bench/kernel_bench" "${2:-5}" ${3:+"$3"}
