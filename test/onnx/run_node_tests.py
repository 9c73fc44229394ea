#!/usr/bin/python3
"""Run ONNX's backend node tests through qnnc's importer and interpreter.

usage: run_node_tests.py [--data DIR]... [--exclusions FILE] [-j N] [-v]
                         [--check-exclusions] [TEST...]

The suites are those of Debian's libonnx-testdata: ONNX's node tests and
its PyTorch-exported operator and module tests (data/node,
data/pytorch-operator, data/pytorch-converted, data/simple), unless --data
names others.  For every test (DIR/test_*/model.onnx with test_data_set_*/) whose ops
are all ones qnnc imports, runs `qnnc-run model.onnx --input ... --output
...` and compares with the expected outputs, read with onnx.numpy_helper
(the independent oracle): integer outputs exactly, float outputs within
|actual - expected| <= 1e-6 + 1e-5 * |expected|.  Tests listed in the
exclusions file (name and reason per line) use a feature qnnc does not
support and are skipped.  Scales, zero points and shape arguments that the
tests feed as graph inputs are frozen into initializers first
(freeze_inputs.py), since qnnc needs them as constants.

Prints one line per failure and "N passed, M failed, K excluded"; exits
non-zero if anything failed.
"""
import argparse
import glob
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import freeze_inputs  # noqa: E402

# The ops of issues 3 and 12, import-time shape ops included.
SUPPORTED = set("""
Conv BatchNormalization Gemm MatMul Add Sub Mul Div Relu Clip LeakyRelu Sigmoid Tanh
HardSigmoid HardSwish MaxPool AveragePool GlobalAveragePool Softmax Concat Flatten Reshape
Transpose Squeeze Unsqueeze Pad Identity Dropout Constant Shape Gather Slice Split Cast
ConstantOfShape QuantizeLinear DequantizeLinear QLinearConv QLinearMatMul ConvInteger
MatMulInteger ReduceMean ReduceSum ReduceMax ReduceMin LayerNormalization DepthToSpace
SpaceToDepth If Resize Upsample ConvTranspose Exp Log Sqrt Reciprocal Erf Abs Neg Elu Max Min
Sum Mean PRelu Pow Equal Greater GreaterOrEqual Less LessOrEqual Not Where Expand Tile
""".split())

# Ops whose inputs after the data input are parameters (scales, zero
# points, shapes, pads, axes, bounds): frozen into initializers.
PARAM_OPS = set("""
QuantizeLinear DequantizeLinear QLinearConv QLinearMatMul ConvInteger MatMulInteger
Reshape Pad Squeeze Unsqueeze Clip Dropout Slice Split ConstantOfShape ReduceMean ReduceSum
ReduceMax ReduceMin Resize Upsample ConvTranspose Gather Expand Tile
""".split())

RTOL, ATOL = 1e-5, 1e-6


def read_exclusions(path):
    ex = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            ex[name] = reason.strip()
    return ex


def run_one(args):
    test_dir, qnnc_run = args
    name = os.path.basename(test_dir)
    model_path = os.path.join(test_dir, "model.onnx")
    model = onnx.load(model_path)
    ops = {n.op_type for n in model.graph.node}
    inits = {t.name for t in model.graph.initializer}
    real_inputs = [i for i in model.graph.input if i.name not in inits]
    tmp = tempfile.mkdtemp(prefix="qnnc-node-")
    try:
        for ds in sorted(glob.glob(os.path.join(test_dir, "test_data_set_*"))):
            run_model = model_path
            kept = list(range(len(real_inputs)))
            if ops & PARAM_OPS and len(real_inputs) > 1 or "ConstantOfShape" in ops:
                keep = 1
                if real_inputs and real_inputs[0].type.tensor_type.elem_type == onnx.TensorProto.INT64:
                    keep = 0  # an int64 first input is a shape, not data
                m = onnx.load(model_path)
                kept = freeze_inputs.freeze(m, ds, keep)
                run_model = os.path.join(tmp, "model.onnx")
                onnx.save(m, run_model)
            cmd = [qnnc_run, run_model]
            for k in kept:
                cmd += ["--input", os.path.join(ds, "input_%d.pb" % k)]
            outs = sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                          key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))
            got_paths = []
            for k in range(len(outs)):
                p = os.path.join(tmp, "out_%d.pb" % k)
                got_paths.append(p)
                cmd += ["--output", p]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                msg = (r.stderr or r.stdout).strip().splitlines()
                return name, False, "qnnc-run failed: " + (" | ".join(msg[:3]) if msg else "rc %d" % r.returncode)
            for k, (exp_path, got_path) in enumerate(zip(outs, got_paths)):
                exp = numpy_helper.to_array(onnx.load_tensor(exp_path))
                got = numpy_helper.to_array(onnx.load_tensor(got_path))
                if exp.shape != got.shape:
                    return name, False, "output %d: shape %s, expected %s" % (k, got.shape, exp.shape)
                if np.issubdtype(exp.dtype, np.integer) or exp.dtype == np.bool_:
                    if not np.array_equal(got.astype(np.int64), exp.astype(np.int64)):
                        bad = int(np.sum(got.astype(np.int64) != exp.astype(np.int64)))
                        return name, False, "output %d: %d integer elements differ" % (k, bad)
                else:
                    e = exp.astype(np.float64)
                    g = got.astype(np.float64)
                    same_nan = np.isnan(e) == np.isnan(g)
                    close = np.abs(g - e) <= ATOL + RTOL * np.abs(e)
                    close |= (e == g)  # infinities
                    ok = same_nan & (close | np.isnan(e))
                    if not np.all(ok):
                        i = int(np.argmin(ok.ravel()))
                        return name, False, "output %d: element %d is %r, expected %r (%d differ)" % (
                            k, i, g.ravel()[i], e.ravel()[i], int(np.sum(~ok)))
        return name, True, ""
    except subprocess.TimeoutExpired:
        return name, False, "timed out"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append",
                    help="a directory of tests (repeatable; default: the libonnx-testdata suites)")
    ap.add_argument("--exclusions", default=os.path.join(here, "exclusions.txt"))
    ap.add_argument("--qnnc-run", default=shutil.which("qnnc-run") or "qnnc-run")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-v", action="store_true", help="print every test")
    ap.add_argument("--check-exclusions", action="store_true",
                    help="run the excluded tests instead and list those that pass now")
    ap.add_argument("tests", nargs="*")
    a = ap.parse_args()

    ex = read_exclusions(a.exclusions)
    root = "/usr/share/libonnx-testdata/data"
    dirs = a.data or [os.path.join(root, s) for s in ("node", "pytorch-operator", "pytorch-converted", "simple")]
    todo, excluded, seen = [], [], set()
    for d in sorted(p for data in dirs for p in glob.glob(os.path.join(data, "test_*"))):
        name = os.path.basename(d)
        if a.tests and name not in a.tests:
            continue
        ops = {n.op_type for n in onnx.load(os.path.join(d, "model.onnx")).graph.node}
        if not ops <= SUPPORTED:
            continue
        seen.add(name)
        if name in ex:
            excluded.append(name)
        else:
            todo.append((d, a.qnnc_run))
    if not a.tests and not a.data:
        for s in sorted(set(ex) - seen):
            print("warning: exclusion %s names no supported test" % s)

    if a.check_exclusions:
        runs = [(os.path.join(d, n), a.qnnc_run) for d in dirs for n in excluded if os.path.isdir(os.path.join(d, n))]
        with multiprocessing.Pool(a.j) as pool:
            for name, ok, why in pool.map(run_one, runs, chunksize=1):
                print("%s %s%s" % ("PASSES" if ok else "still fails", name, "" if ok else ": " + why))
        return 0
    with multiprocessing.Pool(a.j) as pool:
        results = pool.map(run_one, todo, chunksize=1)
    failed = 0
    for name, ok, why in results:
        if not ok:
            failed += 1
            print("FAIL %s: %s" % (name, why))
        elif a.v:
            print("PASS %s" % name)
    passed = len(results) - failed
    print("%d passed, %d failed, %d excluded" % (passed, failed, len(excluded)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
