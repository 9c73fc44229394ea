"""Writes elem12.onnx for import-elem12.test: Pow by constant 2, 0.5 and 3,
PRelu with a per-channel [C] slope (PyTorch's export), Mean and Max of
three inputs, Greater -> Not -> Where.

  make_elem12.py OUT.onnx                 writes the model
  make_elem12.py check MODEL QNNC_RUN DIR runs it in qnnc-run on random
      inputs and compares with NumPy from the ONNX specs (float32 within
      4 ulp: powf; exactly elsewhere, Mean within an ulp of the division)
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 2, 2])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 2, 2])
outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 2, 2])
        for n in ("sq", "rt", "cube", "pr", "mean", "mx", "w")]
inits = [
    numpy_helper.from_array(np.array(2.0, np.float32), "two"),
    numpy_helper.from_array(np.array(0.5, np.float32), "half"),
    numpy_helper.from_array(np.array(3.0, np.float32), "three"),
    numpy_helper.from_array(np.array([0.1, 0.2, 0.3], np.float32), "slope"),
]
nodes = [
    helper.make_node("Pow", ["x", "two"], ["sq"]),
    helper.make_node("Pow", ["x", "half"], ["rt"]),
    helper.make_node("Pow", ["x", "three"], ["cube"]),
    helper.make_node("PRelu", ["x", "slope"], ["pr"]),
    helper.make_node("Mean", ["x", "y", "sq"], ["mean"]),
    helper.make_node("Max", ["x", "y", "sq"], ["mx"]),
    helper.make_node("Greater", ["x", "y"], ["gt"]),
    helper.make_node("Not", ["gt"], ["ngt"]),
    helper.make_node("Where", ["ngt", "x", "y"], ["w"]),
]
if sys.argv[1] == "check":
    import os
    import subprocess
    model, qnnc_run, tmp = sys.argv[2:5]
    os.makedirs(tmp, exist_ok=True)
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((1, 3, 2, 2)) * 2).astype(np.float32)
    x[0, 0, 0, 0] = 0.25
    y = x.copy()
    y[0, 1] = (rng.standard_normal((2, 2)) * 2).astype(np.float32)  # ties elsewhere
    sq = x * x
    with np.errstate(invalid="ignore"):
        want = {
            "sq": (sq, 0), "rt": (np.sqrt(x), 0),
            "cube": (np.power(x.astype(np.float64), 3), 4),
            "pr": (np.where(x < 0, np.array([0.1, 0.2, 0.3], np.float32).reshape(3, 1, 1) * x, x), 0),
            "mean": ((x + y + sq) / np.float32(3), 1),
            "mx": (np.maximum(np.maximum(x, y), sq), 0),
            "w": (np.where(~(x > y), x, y), 0),
        }
    cmd = [qnnc_run, model]
    for name, a in (("x", x), ("y", y)):
        np.save(os.path.join(tmp, name + ".npy"), a)
        cmd += ["--input", os.path.join(tmp, name + ".npy")]
    for o in want:
        cmd += ["--output", os.path.join(tmp, o + ".npy")]
    subprocess.run(cmd, check=True)
    bad = 0
    for o, (w, tol) in want.items():
        got = np.load(os.path.join(tmp, o + ".npy"))
        w = w.astype(np.float32)
        gi = got.view(np.int32).astype(np.int64)
        wi = w.view(np.int32).astype(np.int64)
        ok = got.shape == w.shape and bool(np.all((np.abs(gi - wi) <= tol) | (np.isnan(got) & np.isnan(w))))
        print("%s: %s" % (o, "ok" if ok else "MISMATCH got %r want %r" % (got.ravel(), w.ravel())))
        bad += not ok
    print("elem12: %d mismatches" % bad)
    sys.exit(0)

g = helper.make_graph(nodes, "elem12", [X, Y], outs, inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.save(m, sys.argv[1])
