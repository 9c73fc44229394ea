"""Writes a LayerNormalization model (opset 17, Y only, Scale and B as
initializers, axis -2 of a [2,3,4,5] input), an input, and the expected
output computed with NumPy from the ONNX operator's definition
(mean, D = X - mean, var = mean(D^2), Y = D / sqrt(var + eps) * Scale + B,
in float64 and rounded once to float32).

usage: gen_layer_norm.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(12)
x = rng.normal(0, 2, (2, 3, 4, 5)).astype(np.float32)
scale = rng.normal(1, 0.5, (4, 5)).astype(np.float32)
bias = rng.normal(0, 0.5, (4, 5)).astype(np.float32)
eps = 1e-3
node = helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["y"], axis=-2, epsilon=eps)
g = helper.make_graph([node], "ln", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, x.shape)],
                      [numpy_helper.from_array(scale, "scale"), numpy_helper.from_array(bias, "bias")])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(out, "ln.onnx"))
xd = x.astype(np.float64)
mean = xd.mean(axis=(2, 3), keepdims=True)
d = xd - mean
var = (d * d).mean(axis=(2, 3), keepdims=True)
y = d / np.sqrt(var + np.float64(np.float32(eps))) * scale + bias
np.save(os.path.join(out, "ln.x.npy"), x)
np.save(os.path.join(out, "ln.y.npy"), y.astype(np.float32))
