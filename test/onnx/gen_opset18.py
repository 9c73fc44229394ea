#!/usr/bin/python3
"""gen_opset18.py OUT_DIR: small models of the ops whose form changed at
ONNX opsets 18 and 19, for ONNX Runtime as the oracle (opset18.test).

Debian's python3-onnx (1.12) knows schemas only up to opset 17, so the
models are built with onnx.helper and no checker, their opset set by hand.
Each model has one float input x (written as NAME.x.npy, random) and one
output.  Prints the model names, one per line.

  reduce18      ReduceMean/ReduceMax with axes as an input (opset 18),
                ReduceMin without axes, ReduceSum with empty axes and
                noop_with_empty_axes=1 (the identity), summed.
  split18       Split num_outputs=3 on an axis of 8: parts 3, 3, 2.
  pad18         Pad with the axes input [-1, 2] (opset 18).
  resize18_axes Resize axes=[2, 3], linear, scales [2, 1.5].
  resize18_keep Resize of [4, 5] to sizes [5, 20] with
                keep_aspect_ratio_policy not_larger: one scale, 1.25 =
                min(5/4, 20/5), for both axes, output [5, 6].
  resize19_sym  Resize-19 half_pixel_symmetric, linear, sizes [8, 9].
  unchanged19   Conv, Relu and Softmax (schemas unchanged up to 19) and
                Reshape, Identity and Cast (19 adds element types only)
                at opset 19.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
rng = np.random.default_rng(18)


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def save(name, opset, nodes, x_shape, y_shape, inits=(), outputs=None):
    g = helper.make_graph(nodes, name, [vi("x", x_shape)], outputs or [vi("y", y_shape)], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8  # onnx 1.12's; ONNX Runtime reads it at opset 19
    onnx.save(m, os.path.join(OUT, name + ".onnx"))
    np.save(os.path.join(OUT, name + ".x.npy"), rng.standard_normal(x_shape).astype(np.float32))
    print(name)


N = helper.make_node
i64 = lambda v: np.array(v, np.int64)

save("reduce18", 18, [
    N("ReduceMean", ["x", "a1"], ["m"], name="mean", keepdims=1),                     # [2,1,4,5]
    N("ReduceMax", ["x", "am1"], ["mx"], name="max", keepdims=0),                     # [2,3,4]
    N("Unsqueeze", ["mx", "am1"], ["mxu"], name="unsq"),                              # [2,3,4,1]
    N("ReduceMin", ["x"], ["mn"], name="min", keepdims=1),                            # [1,1,1,1]
    N("ReduceSum", ["x", "none"], ["same"], name="noop", noop_with_empty_axes=1),    # x
    N("Add", ["m", "mxu"], ["s1"], name="add1"),
    N("Add", ["s1", "mn"], ["s2"], name="add2"),
    N("Add", ["s2", "same"], ["y"], name="add3"),
], [2, 3, 4, 5], [2, 3, 4, 5], [const("a1", i64([1])), const("am1", i64([-1])), const("none", i64([]))])

save("split18", 18, [
    N("Split", ["x"], ["a", "b", "c"], name="split", axis=1, num_outputs=3),
    N("Concat", ["c", "a"], ["ca"], name="cat", axis=1),                              # [2,5,3]
    N("ReduceSum", ["b", "one"], ["bs"], name="sumb", keepdims=1),                    # [2,1,3]
    N("Mul", ["ca", "bs"], ["y"], name="mul"),
], [2, 8, 3], [2, 5, 3], [const("one", i64([1]))])

save("pad18", 18, [
    N("Pad", ["x", "pads", "v", "axes"], ["y"], name="pad"),
], [1, 2, 3, 4], [1, 2, 6, 7], [const("pads", i64([1, 2, 2, 1])), const("v", np.array(0.5, np.float32)),
                                  const("axes", i64([-1, 2]))])

save("resize18_axes", 18, [
    N("Resize", ["x", "", "s"], ["y"], name="rs", mode="linear", axes=[2, 3]),
], [1, 2, 4, 6], [1, 2, 8, 9], [const("s", np.array([2, 1.5], np.float32))])

save("resize18_keep", 18, [
    N("Resize", ["x", "", "", "sz"], ["y"], name="rs", mode="linear", axes=[2, 3],
      keep_aspect_ratio_policy="not_larger"),
], [1, 2, 4, 5], [1, 2, 5, 6], [const("sz", i64([5, 20]))])

save("resize19_sym", 19, [
    N("Resize", ["x", "", "", "sz"], ["y"], name="rs", mode="linear",
      coordinate_transformation_mode="half_pixel_symmetric"),
], [1, 2, 4, 6], [1, 2, 8, 9], [const("sz", i64([1, 2, 8, 9]))])

w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
save("unchanged19", 19, [
    N("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
    N("Relu", ["c"], ["r"], name="relu"),
    N("Reshape", ["r", "shape"], ["f"], name="flat"),
    N("Identity", ["f"], ["i"], name="id"),
    N("Cast", ["i"], ["ci"], name="cast", to=TensorProto.FLOAT),
    N("Softmax", ["ci"], ["y"], name="softmax", axis=-1),
], [1, 2, 4, 4], [1, 64], [const("w", w), const("shape", i64([1, -1]))])
