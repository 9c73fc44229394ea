#!/usr/bin/env bash
# outside-project.sh WORKDIR SRCROOT PYTHON: installs the qnnc build whose tools
# are on PATH into WORKDIR/prefix and builds examples/fashion_mnist as an
# outside project against it, from WORKDIR: for the host, and for
# aarch64-linux-gnu with the installed toolchain file (run under
# qemu-aarch64).  Checks that a rebuild compiles the model again only when
# its config changes, that the cross build predicts exactly what the host
# build does, and that pkg-config's flags link a model.  Prints what
# outside-project.test checks.
set -euo pipefail
work=$1 src=$2 python=$3
build=$(dirname "$(dirname "$(command -v qnnc)")")
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
echo "installed: $(cd "$prefix" && ls bin | tr '\n' ' ')"
echo "runtimes: $(cd "$prefix/lib/qnnc" && ls | tr '\n' ' ')"

# The outside project: only the example's files, in a scratch directory.
mkdir -p "$work/src" "$work/data"
cp "$src"/examples/fashion_mnist/{CMakeLists.txt,classify.c,qnnc.toml,fashion_mnist.onnx} "$work/src/"
# A header path in the config: qnnc_add_model must still put the header
# where the build looks for it.
printf '\n[output]\nheader = "elsewhere/fashion_mnist.h"\n' >> "$work/src/qnnc.toml"
# What this test checks is the build integration, not the int8 accuracy
# (e2e/fashion-mnist.test): calibrating on 50 images, not the example's
# 1,000, keeps its seven qnnc runs short.
sed -i 's/^samples = 1000$/samples = 50/' "$work/src/qnnc.toml"
grep -q '^samples = 50$' "$work/src/qnnc.toml"
for f in t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  zcat "/usr/share/datasets/fashion-mnist/$f.gz" > "$work/data/$f"
done
data=(--images "$work/data/t10k-images-idx3-ubyte" --labels "$work/data/t10k-labels-idx1-ubyte")

# A clean environment: nothing of qnnc's own build may leak in.
env -u CMAKE_PREFIX_PATH PATH=/usr/bin:/bin cmake -S "$work/src" -B "$work/host" \
    -DCMAKE_PREFIX_PATH="$prefix" > "$work/host-configure.log"
cmake --build "$work/host" > "$work/host-build1.log"
grep -o 'qnnc: compiling .*' "$work/host-build1.log" | sed 's/^/host build: /'
"$work/host/classify" "${data[@]}" --count 100 --predictions "$work/host.bin" --quiet > "$work/host-run.log"

# Nothing changed: nothing is compiled again.
cmake --build "$work/host" > "$work/host-build2.log"
echo "no-op rebuild: $(grep -c 'qnnc: compiling' "$work/host-build2.log" || true) qnnc runs"
# The config changed: the model is compiled again and classify relinked.
sleep 1
touch "$work/src/qnnc.toml"
cmake --build "$work/host" > "$work/host-build3.log"
echo "after touching qnnc.toml: $(grep -c 'qnnc: compiling' "$work/host-build3.log") qnnc runs, $(grep -c 'Linking C executable classify' "$work/host-build3.log") classify link"
sleep 1
touch "$work/src/fashion_mnist.onnx"
cmake --build "$work/host" > "$work/host-build4.log"
echo "after touching the model: $(grep -c 'qnnc: compiling' "$work/host-build4.log") qnnc runs"

# Cross: aarch64 with the toolchain file the package installs.  The
# toolchain confines find_package to the target's sysroot, so the package
# is named by its directory.
env -u CMAKE_PREFIX_PATH PATH=/usr/bin:/bin cmake -S "$work/src" -B "$work/aarch64" \
    -DCMAKE_TOOLCHAIN_FILE="$prefix/share/qnnc/toolchains/aarch64-linux-gnu.cmake" \
    -Dqnnc_DIR="$prefix/lib/cmake/qnnc" > "$work/aarch64-configure.log"
cmake --build "$work/aarch64" > "$work/aarch64-build.log"
grep -o 'qnnc: compiling .*' "$work/aarch64-build.log" | sed 's/^/aarch64 build: /'
readelf -h "$work/aarch64/classify" | sed -n 's/^ *Machine: *\(.*\)/aarch64 classify: machine \1/p'
"$src/scripts/run-target" aarch64-linux-gnu "$work/aarch64/classify" "${data[@]}" --count 100 \
    --predictions "$work/aarch64.bin" --quiet > "$work/aarch64-run.log"
cmp "$work/host.bin" "$work/aarch64.bin" && echo "aarch64 predictions: identical to the host's on 100 images"

# Cortex-M4: the harness's runner for the model with the installed mps2
# startup code and linker script, under qemu-system-arm: the same logits
# as the host's runner.
mkdir -p "$work/m4src"
cp "$work/src/qnnc.toml" "$work/src/fashion_mnist.onnx" "$work/m4src/"
cat > "$work/m4src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(runner LANGUAGES C)
find_package(qnnc REQUIRED)
qnnc_add_model(fashion_mnist_model MODEL fashion_mnist.onnx CONFIG qnnc.toml)
add_executable(runner ${QNNC_HARNESS_MAIN})
target_compile_definitions(runner PRIVATE QNN_MODEL_INFO=fashion_mnist_info)
target_link_libraries(runner PRIVATE fashion_mnist_model qnnc::harness)
CMAKE
for t in host thumbv7em-none-eabi; do
  tc=()
  [ "$t" = host ] || tc=(-DCMAKE_TOOLCHAIN_FILE="$prefix/share/qnnc/toolchains/$t.cmake" -Dqnnc_DIR="$prefix/lib/cmake/qnnc")
  env -u CMAKE_PREFIX_PATH PATH=/usr/bin:/bin cmake -S "$work/m4src" -B "$work/runner-$t" \
      -DCMAKE_PREFIX_PATH="$prefix" "${tc[@]}" > "$work/runner-$t-configure.log"
  cmake --build "$work/runner-$t" > "$work/runner-$t-build.log"
done
"$python" -c 'import numpy as np, sys; np.save(sys.argv[1], np.linspace(0, 1, 784, dtype=np.float32).reshape(1, 1, 28, 28))' "$work/x.npy"
"$work/runner-host/runner" --input "$work/x.npy" --output "$work/runner-host.npy"
"$src/scripts/run-target" thumbv7em-none-eabi "$work/runner-thumbv7em-none-eabi/runner" --input "$work/x.npy" \
    --output "$work/runner-m4.npy"
cmp "$work/runner-host.npy" "$work/runner-m4.npy" && echo "Cortex-M4 runner (mps2-an386): identical logits"

# qnnc --emit=exe from the installation links with the qnn-cc installed
# beside each target's libraries (-v prints the command), and the runners
# compute what the CMake-built ones do.
for t in x86_64-linux-gnu aarch64-linux-gnu; do
  env PATH=/usr/bin:/bin "$prefix/bin/qnnc" --config "$work/src/qnnc.toml" --target=$t --emit=exe -v \
      -o "$work/exe-$t" 2> "$work/exe-$t.log"
  cc=$(grep -o "^[^ ]*/qnn-cc" "$work/exe-$t.log")
  echo "installed qnnc --emit=exe for $t links with: ${cc#$prefix/}"
  "$src/scripts/run-target" $t "$work/exe-$t" --input "$work/x.npy" --output "$work/exe-$t.npy"
  cmp "$work/runner-host.npy" "$work/exe-$t.npy" && echo "installed qnnc --emit=exe for $t: identical logits"
done

# pkg-config: the host runtime's flags link the object qnnc_add_model made.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -std=c11 -o "$work/classify-pc" "$work/src/classify.c" -I"$work/host/qnnc/fashion_mnist_model" \
   "$work/host/qnnc/fashion_mnist_model/fashion_mnist.o" $(pkg-config --cflags --libs qnn-runtime)
"$work/classify-pc" "${data[@]}" --count 100 --predictions "$work/pc.bin" --quiet > /dev/null
cmp "$work/host.bin" "$work/pc.bin" && echo "pkg-config build: identical predictions"
