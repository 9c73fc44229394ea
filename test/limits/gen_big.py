#!/usr/bin/python3
"""Writes small ONNX models whose tensors would need a lot of memory.

usage: gen_big.py OUTDIR

  weights.onnx    y = x + w, w a 1000x1000 float initializer (4 MB of data)
  cos.onnx        ConstantOfShape of [40000, 40000]: 1.6e9 elements from
                  a 16-byte shape (12.8 GB as import-time doubles)
  broadcast.onnx  Add of constants [30000, 1] + [1, 30000], folded at import
                  time: 9e8 elements from 240 KB
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]


def save(name, nodes, inputs, outputs, inits):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, os.path.join(out, name + ".onnx"))


vi = helper.make_tensor_value_info
save("weights", [helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", TensorProto.FLOAT, [1000, 1000])],
     [vi("y", TensorProto.FLOAT, [1000, 1000])], [numpy_helper.from_array(np.ones((1000, 1000), np.float32), "w")])
save("cos", [helper.make_node("ConstantOfShape", ["s"], ["c"], name="cos"),
             helper.make_node("Add", ["x", "c"], ["y"], name="add")],
     [vi("x", TensorProto.FLOAT, [1, 1])], [vi("y", TensorProto.FLOAT, [40000, 40000])],
     [numpy_helper.from_array(np.array([40000, 40000], np.int64), "s")])
save("broadcast", [helper.make_node("Add", ["a", "b"], ["c"], name="bcast"),
                   helper.make_node("Add", ["x", "c"], ["y"], name="add")],
     [vi("x", TensorProto.FLOAT, [1, 1])], [vi("y", TensorProto.FLOAT, [30000, 30000])],
     [numpy_helper.from_array(np.ones((30000, 1), np.float32), "a"),
      numpy_helper.from_array(np.ones((1, 30000), np.float32), "b")])
