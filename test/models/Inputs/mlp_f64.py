"""Runs a small ONNX MLP head in NumPy float64: an oracle that, unlike ONNX
Runtime fp32, has no float32 rounding of its own.

  mlp_f64.py MODEL IN_DIR OUT_DIR

For every IN_DIR/STEM.npy (the model's one input) writes OUT_DIR/STEM.0.npy
(its one output, as float32), named as ort_run.js --each and each.py name
theirs, so npycmp.py compares them.  Only the ops of openWakeWord's heads:
Flatten, Gemm, Relu, Sigmoid, Softmax; any other op is an error.
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run(model, x):
    consts = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    vals = {model.graph.input[0].name: x.astype(np.float64)}
    for n in model.graph.node:
        a = [vals[i] if i in vals else consts[i] for i in n.input]
        at = attrs(n)
        if n.op_type == "Flatten":
            ax = at.get("axis", 1)
            r = a[0].reshape(int(np.prod(a[0].shape[:ax])), -1)
        elif n.op_type == "Gemm":
            A = a[0].T if at.get("transA", 0) else a[0]
            B = a[1].T if at.get("transB", 0) else a[1]
            r = at.get("alpha", 1.0) * (A @ B)
            if len(a) > 2:
                r = r + at.get("beta", 1.0) * a[2]
        elif n.op_type == "Relu":
            r = np.maximum(a[0], 0.0)
        elif n.op_type == "Sigmoid":
            r = 1.0 / (1.0 + np.exp(-a[0]))
        elif n.op_type == "Softmax":
            e = np.exp(a[0] - a[0].max(axis=at.get("axis", -1), keepdims=True))
            r = e / e.sum(axis=at.get("axis", -1), keepdims=True)
        else:
            sys.exit(f"mlp_f64.py: {n.op_type} (node '{n.name}') is not one of Flatten, Gemm, Relu, Sigmoid, Softmax")
        vals[n.output[0]] = r
    return vals[model.graph.output[0].name]


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: mlp_f64.py MODEL IN_DIR OUT_DIR")
    model = onnx.load(sys.argv[1])
    os.makedirs(sys.argv[3], exist_ok=True)
    for f in sorted(os.listdir(sys.argv[2])):
        if f.endswith(".npy"):
            y = run(model, np.load(os.path.join(sys.argv[2], f)))
            np.save(os.path.join(sys.argv[3], f[:-4] + ".0.npy"), y.astype(np.float32))


if __name__ == "__main__":
    main()
