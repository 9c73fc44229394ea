#!/usr/bin/python3
"""Models with symbolic input dimensions, for the input-shape tests
(test/driver/input-shapes.test, test/e2e/symbolic-hw.test).

usage: gen_shapes.py OUT_DIR

sym_hw.onnx: x is [N, 3, "height", "width"] (NCHW).  A 3x3 Conv (3 -> 4
  channels, pad 1) and Relu, then a Reshape to [N, 4, H*W] whose target is
  computed at run time from Shape(x): Gather, Mul, Unsqueeze, Concat, as
  exporters write it.  Only with H and W fixed can qnnc evaluate the
  target at import time.
named.onnx: two inputs with names that need quoting in TOML,
  "input_image_with_alpha:0" [1, "h", "w", 4] and "onnx::Flatten_0"
  ["batch", 10], each through a Relu; and "w", an initializer that is also
  listed as a graph input.

gen_shapes.py --data OUT_DIR H W: x.npy [1, 3, H, W] to run and calib/ (8
  more inputs of that shape) to calibrate on.
gen_shapes.py --ref IN.npy OUT.npy: the float64 NumPy forward pass of
  sym_hw.onnx, the tests' oracle.
gen_shapes.py --compare A.npy B.npy exact|MIN_DB: A and B identical, or the
  SQNR of B against A at least MIN_DB.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(12)
W = (rng.standard_normal((4, 3, 3, 3)) * 0.4).astype(np.float32)
B = np.array([0.1, -0.2, 0.05, 0.3], dtype=np.float32)


def reference(x):
    """Conv 3x3 pad 1, Relu, reshape to [N, 4, H*W], in float64."""
    x = x.astype(np.float64)
    n, c, h, w = x.shape
    p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    y = np.zeros((n, 4, h, w))
    for o in range(4):
        for i in range(c):
            for dy in range(3):
                for dx in range(3):
                    y[:, o] += W[o, i, dy, dx] * p[:, i, dy:dy + h, dx:dx + w]
        y[:, o] += B[o]
    return np.maximum(y, 0).reshape(n, 4, h * w)


def i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def sym_hw(path):
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu1"),
        helper.make_node("Shape", ["x"], ["s"], name="shape1"),
        helper.make_node("Gather", ["s", "i0"], ["n"], name="g0", axis=0),
        helper.make_node("Gather", ["s", "i2"], ["h"], name="g2", axis=0),
        helper.make_node("Gather", ["s", "i3"], ["w_"], name="g3", axis=0),
        helper.make_node("Mul", ["h", "w_"], ["hw"], name="mul1"),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"], name="u0"),
        helper.make_node("Unsqueeze", ["hw", "ax0"], ["hw1"], name="u1"),
        helper.make_node("Concat", ["n1", "four", "hw1"], ["target"], name="cat1", axis=0),
        helper.make_node("Reshape", ["r", "target"], ["y"], name="reshape1"),
    ]
    inits = [numpy_helper.from_array(W, "w"), numpy_helper.from_array(B, "b"), i64("i0", 0), i64("i2", 2),
             i64("i3", 3), i64("ax0", [0]), i64("four", [4])]
    g = helper.make_graph(
        nodes, "sym_hw",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "height", "width"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, None])],
        inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_shapes.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def named(path):
    a, f = "input_image_with_alpha:0", "onnx::Flatten_0"
    nodes = [
        helper.make_node("Relu", [a], ["ya"], name="relu_a"),
        helper.make_node("Add", [f, "w"], ["yf"], name="add_f"),
    ]
    g = helper.make_graph(
        nodes, "named",
        [helper.make_tensor_value_info(a, TensorProto.FLOAT, [1, "h", "w", 4]),
         helper.make_tensor_value_info(f, TensorProto.FLOAT, ["batch", 10]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [10])],
        [helper.make_tensor_value_info("ya", TensorProto.FLOAT, [1, "h", "w", 4]),
         helper.make_tensor_value_info("yf", TensorProto.FLOAT, ["batch", 10])],
        [numpy_helper.from_array(np.arange(10, dtype=np.float32), "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_shapes.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def data(out, h, w):
    r = np.random.default_rng(3)
    os.makedirs(os.path.join(out, "calib"), exist_ok=True)
    np.save(os.path.join(out, "x.npy"), r.uniform(-1, 1, (1, 3, h, w)).astype(np.float32))
    for k in range(8):
        np.save(os.path.join(out, "calib", "c%d.npy" % k), r.uniform(-1, 1, (1, 3, h, w)).astype(np.float32))


def compare(a_path, b_path, how):
    a, b = np.load(a_path).astype(np.float64), np.load(b_path).astype(np.float64)
    if a.shape != b.shape:
        sys.exit("shapes differ: %s and %s" % (a.shape, b.shape))
    if how == "exact":
        if not np.array_equal(a, b):
            sys.exit("%d of %d values differ" % (np.sum(a != b), a.size))
        print("identical: %d values" % a.size)
        return
    noise = np.sum((a - b) ** 2)
    sqnr = 10 * np.log10(np.sum(a ** 2) / noise) if noise else float("inf")
    if sqnr < float(how):
        sys.exit("SQNR %.1f dB, below %s dB" % (sqnr, how))
    print("SQNR at least %s dB" % how)


if __name__ == "__main__":
    if sys.argv[1] == "--ref":
        np.save(sys.argv[3], reference(np.load(sys.argv[2])).astype(np.float32))
    elif sys.argv[1] == "--data":
        data(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        os.makedirs(sys.argv[1], exist_ok=True)
        sym_hw(os.path.join(sys.argv[1], "sym_hw.onnx"))
        named(os.path.join(sys.argv[1], "named.onnx"))
