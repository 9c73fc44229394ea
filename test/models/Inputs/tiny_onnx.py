"""Writes a tiny float ONNX model (Conv 3x3, Relu, GlobalAveragePool,
Flatten, Gemm; f32[1,2,8,8] -> f32[1,4]) and DIR/calib/*.npy, 16 random
calibration inputs: the smoke test's model for bench/zoo.sh.

    tiny_onnx.py DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

d = sys.argv[1]
rng = np.random.default_rng(1)
w = lambda name, *s: numpy_helper.from_array((rng.standard_normal(s) * 0.3).astype(np.float32), name)
nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("GlobalAveragePool", ["r"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
         helper.make_node("Gemm", ["f", "g", "gb"], ["y"], transB=1)]
g = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
                      [w("w", 8, 2, 3, 3), w("b", 8), w("g", 4, 8), w("gb", 4)])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
os.makedirs(os.path.join(d, "calib"), exist_ok=True)
onnx.save(m, os.path.join(d, "tiny.onnx"))
for i in range(16):
    np.save(os.path.join(d, "calib", f"{i:02d}.npy"), rng.standard_normal((1, 2, 8, 8)).astype(np.float32))
