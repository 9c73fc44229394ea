#!/usr/bin/python3
"""Writes a long chain of nodes, as textual IR or as an ONNX model.

usage: gen_chain.py qir|onnx N OUT

The chain alternates relu and an add of a small constant (qir) or Relu and
Add (ONNX) on an f32[1,4] tensor, N nodes in all, so every graph algorithm
(parse, verify, topological sort, passes, interpretation, code generation)
walks a graph as deep as it is long.  The output of the chain on x is
max(x, 0) + (number of adds) * 0.25, easy to check.
"""
import sys

kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "qir":
    with open(out, "w") as f:
        f.write("graph @chain {\n  input %x : f32[1,4]\n  const %c : f32[1,4] = [0.25, 0.25, 0.25, 0.25]\n")
        prev = "x"
        for i in range(n):
            if i % 2 == 0:
                f.write("  %%v%d = relu(%%%s) : f32[1,4]\n" % (i, prev))
            else:
                f.write("  %%v%d = add(%%%s, %%c) : f32[1,4]\n" % (i, prev))
            prev = "v%d" % i
        f.write("  output %%%s\n}\n" % prev)
else:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    nodes = []
    prev = "x"
    for i in range(n):
        if i % 2 == 0:
            nodes.append(helper.make_node("Relu", [prev], ["v%d" % i], name="n%d" % i))
        else:
            nodes.append(helper.make_node("Add", [prev, "c"], ["v%d" % i], name="n%d" % i))
        prev = "v%d" % i
    nodes[-1].output[0] = "y"
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
                          [numpy_helper.from_array(np.full((1, 4), 0.25, np.float32), "c")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, out)
