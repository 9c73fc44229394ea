#!/usr/bin/env bash
# bench/run.sh - qnnc's compiled Fashion-MNIST model against the engines a
# user would otherwise pick, all measured in this one run on this machine:
# batch 1, one thread, the first test image, median of RUNS calls.
#
#   bench/run.sh [RUNS]          (default 5000; QNNC_BUILD_DIR picks the build)
#
#   qnnc          qnnc --emit=exe on the host; the harness's --bench RUNS,
#                 with -mcpu=native (the ratios' base) and the default
#   ORT fp32      ONNX Runtime (npm onnxruntime-node), the float model
#   ORT int8      ONNX Runtime, a QDQ int8 model (bench/make_qdq.py)
#   PyTorch fp32  torch, eager, the same weights
#   PyTorch int8  torch.ao.quantization eager mode, onednn (bench/torch_bench.py)
#
# Also: qnnc's compile time (import, calibration over 1,000 images,
# quantization, LLVM -O2, object and header) and the scratch size against
# the memory planner's lower bound.  Not part of the test suite.  Needs
# python3-torch and node/npm; onnxruntime-node 1.30.0 is installed on
# first use by scripts/fetch-ort into the cache the model suite shares.
# docs/benchmarks.md records the figures from one run.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5000}
build=${QNNC_BUILD_DIR:-build}
py=/usr/bin/python3   # Debian's, with python3-torch, -onnx and -numpy
[ -x "$build/bin/qnnc" ] || scripts/build >/dev/null
$py -c 'import torch' 2>/dev/null || { echo "bench: needs PyTorch: apt-get install python3-torch" >&2; exit 1; }
command -v npm >/dev/null || { echo "bench: needs node and npm: apt-get install nodejs npm" >&2; exit 1; }
ex=examples/fashion_mnist
work=$build/bench/fashion_mnist
mkdir -p "$work"

ort_modules=$(scripts/fetch-ort)
$py $ex/reference.py idx "$work"
$py $ex/reference.py npy "$work/x0.npy" 1

# qnnc: compile time (best of 3), the memory plan, the latency.
best=
for i in 1 2 3; do
  t0=$(date +%s%N)
  "$build/bin/qnnc" --config $ex/qnnc.toml -o "$work/fashion_mnist.o"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
plan=$("$build/bin/qnnc" --config $ex/qnnc.toml --print-memory-plan | tail -1)
# Twice: the default target CPU (baseline x86-64, an object that runs on
# any x86-64) and this machine's CPU (-mcpu=native, LLVM's name and features), the
# fair match for ONNX Runtime and PyTorch, which pick kernels at run time.
cpu=native
host_cpu=$(/usr/lib/llvm-19/bin/llc --version | sed -n 's/.*Host CPU: *//p')
bench_exe() {
  "$build/bin/qnnc" --config $ex/qnnc.toml --emit=exe "$@" -o "$work/fashion_mnist.exe"
  "$work/fashion_mnist.exe" --input "$work/x0.npy" --bench "$runs" | sed -n 's/.*median \([0-9.]*\) us.*/\1/p'
}
qnnc_generic_us=$(bench_exe)
qnnc_us=$(bench_exe -mcpu="$cpu")
host=$(uname -m)-linux-gnu
"$build/runtime/targets/$host/qnn-cc" -I"$work" -o "$work/classify" $ex/classify.c "$work/fashion_mnist.o"
acc=$("$work/classify" --images "$work/t10k-images-idx3-ubyte" --labels "$work/t10k-labels-idx1-ubyte" --count 1000 |
      sed -n 's/.*int8 top-1 accuracy *\([0-9.]*\)%.*/\1/p')

# ONNX Runtime: float and QDQ int8.
# make_qdq.py measures ranges on the same 1,000 training images qnnc
# calibrates on (pixels / 255), as .npy files.
if [ ! -f "$work/calib/0999.npy" ]; then
  mkdir -p "$work/calib"
  $py - "$work/calib" <<'PY'
import gzip, sys, numpy as np
d = gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").read()
for i, v in enumerate(np.frombuffer(d, np.uint8, offset=16).reshape(-1, 1, 1, 28, 28)[:1000]):
    np.save(f"{sys.argv[1]}/{i:04d}.npy", v.astype(np.float32) * np.float32(0.00392156862745098))
PY
fi
$py bench/make_qdq.py $ex/fashion_mnist.onnx "$work/fashion_mnist.qdq.onnx" --calib "$work/calib" --ort "$ort_modules" >&2
ort() { NODE_PATH=$ort_modules node bench/ort_bench.js "$1" \
          "$work/t10k-images-idx3-ubyte" "$work/t10k-labels-idx1-ubyte" "$runs"; }
ort_fp32=$(ort $ex/fashion_mnist.onnx)
ort_int8=$(ort "$work/fashion_mnist.qdq.onnx")
ort_version=$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$ort_modules/onnxruntime-node/package.json")

# PyTorch: float and int8.
torch_out=$($py bench/torch_bench.py $ex/fashion_mnist.onnx "$runs")
torch_version=$($py -c 'import torch; print(torch.__version__)')

field() { sed -n "s/.*$2 \([0-9.]*\).*/\1/p" <<<"$1"; }
row() {  # NAME ACCURACY MEDIAN_US
  printf '  %-32s %6s%%  %9.1f us  %6.2fx\n' "$1" "$2" "$3" "$(awk -v a="$3" -v q="$qnnc_us" 'BEGIN { print a / q }')"
}
echo "Fashion-MNIST CNN (2.3 M MACs), batch 1, one thread, median of $runs runs on $(nproc) cores"
echo "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "  engine                           top-1*     latency   time / qnnc's"
row "qnnc int8 -mcpu=native ($host_cpu)" "$acc" "$qnnc_us"
row "qnnc int8 (default -mcpu)" "$acc" "$qnnc_generic_us"
row "ONNX Runtime $ort_version fp32" "$(field "$ort_fp32" accuracy)" "$(field "$ort_fp32" median_us)"
row "ONNX Runtime $ort_version int8 QDQ" "$(field "$ort_int8" accuracy)" "$(field "$ort_int8" median_us)"
row "PyTorch $torch_version fp32" "$(field "$(grep fp32 <<<"$torch_out")" accuracy)" \
    "$(field "$(grep fp32 <<<"$torch_out")" median_us)"
row "PyTorch $torch_version int8 onednn" "$(field "$(grep int8 <<<"$torch_out")" accuracy)" \
    "$(field "$(grep int8 <<<"$torch_out")" median_us)"
echo "  * on the first 1,000 test images"
echo
echo "qnnc compile time: $best ms (best of 3: import, calibration on 1,000 images, quantization, LLVM -O2)"
scratch=$(sed -n 's/.*scratch=\([0-9]*\).*/\1/p' <<<"$plan")
bound=$(sed -n 's/.*lower_bound=\([0-9]*\).*/\1/p' <<<"$plan")
echo "scratch: $scratch bytes; the planner's lower bound: $bound bytes ($(awk -v s="$scratch" -v b="$bound" 'BEGIN { printf "%.2f", s / b }')x)"
