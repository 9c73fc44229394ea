#!/usr/bin/python3
"""A stand-in for qnnc-run that compiles the model instead of interpreting
it: `compiled_run.py MODEL --input X.pb... --output Y.pb...` runs
`qnnc MODEL --emit=exe --target=$QNN_TARGET`, converts the .pb inputs to
.npy, runs the program (under QEMU through scripts/run-target for cross
targets) and converts its .npy outputs back to .pb.  run_node_tests.py
takes it as --qnnc-run, so ONNX's node tests check compiled code against
ONNX's own expected outputs."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.normpath(os.path.join(here, "..", "..", ".."))
target = os.environ.get("QNN_TARGET", "x86_64-linux-gnu")


def main():
    model, rest = sys.argv[1], sys.argv[2:]
    ins, outs = [], []
    for flag, path in zip(rest[::2], rest[1::2]):
        (ins if flag == "--input" else outs).append(path)
    with tempfile.TemporaryDirectory(prefix="qnnc-compiled-") as tmp:
        exe = os.path.join(tmp, "model.exe")
        cmd = ["qnnc", model, "--emit=exe", "--name=model", "--target=" + target.replace("+v", ""), "-o", exe]
        if target.endswith("+v"):
            cmd.append("-mattr=+v")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            sys.stderr.write(r.stderr)
            return 1
        args = []
        for k, p in enumerate(ins):
            q = os.path.join(tmp, "in%d.npy" % k)
            np.save(q, numpy_helper.to_array(onnx.load_tensor(p)))
            args += ["--input", q]
        npys = [os.path.join(tmp, "out%d.npy" % k) for k in range(len(outs))]
        for q in npys:
            args += ["--output", q]
        r = subprocess.run([os.path.join(src, "scripts", "run-target"), target, exe] + args,
                           capture_output=True, text=True)
        if r.returncode:
            sys.stderr.write(r.stderr + r.stdout)
            return 1
        for p, q in zip(outs, npys):
            onnx.save_tensor(numpy_helper.from_array(np.load(q)), p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
