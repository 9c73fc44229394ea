#!/usr/bin/python3
"""Generate the ONNX model the driver tests import (onnx-import.test).

usage: gen_onnx.py [OUT_DIR]      (default: this script's directory)

conv_relu.onnx: an NCHW float Conv (2 -> 3 channels, 3x3, pad 1) and Relu
with a symbolic batch dimension "N", so that --batch and --input-layout
have something to change.  The file is committed; rerun after changes.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
w = numpy_helper.from_array(rng.standard_normal((3, 2, 3, 3)).astype(np.float32) * 0.5, "w")
b = numpy_helper.from_array(np.array([0.1, -0.2, 0.3], dtype=np.float32), "b")
nodes = [
    helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1", pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c"], ["y"], name="relu1"),
]
g = helper.make_graph(
    nodes,
    "conv_relu",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 4, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 4, 4])],
    [w, b],
)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_onnx.py")
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, os.path.join(out, "conv_relu.onnx"))
