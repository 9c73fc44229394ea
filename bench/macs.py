"""Prints the multiply-accumulates of one batch-1 inference of an ONNX
model, in millions: Conv, ConvTranspose, Gemm and MatMul, from ONNX shape
inference with every symbolic input dimension set to 1 (bench/zoo.sh's
MACs column; independent of qnnc).  Prints "?" when inference leaves an
operand's shape unknown.

    macs.py MODEL.onnx
"""
import sys

import numpy as np
import onnx
from onnx import shape_inference


def main():
    m = onnx.load(sys.argv[1])
    for i in m.graph.input:
        for d in i.type.tensor_type.shape.dim:
            if not d.HasField("dim_value"):
                d.dim_value = 1
    m = shape_inference.infer_shapes(m, data_prop=True)
    shapes = {v.name: [d.dim_value if d.HasField("dim_value") else 0 for d in v.type.tensor_type.shape.dim]
              for v in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output)}
    for t in m.graph.initializer:
        shapes[t.name] = list(t.dims)
    total = 0
    for n in m.graph.node:
        if n.op_type not in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
            continue
        x, w, y = (shapes.get(n.input[0]), shapes.get(n.input[1]), shapes.get(n.output[0]))
        if not x or not w or not y or 0 in x + w + y:
            print("?")
            return
        if n.op_type == "Conv":
            total += int(np.prod(y)) * int(np.prod(w[1:]))
        elif n.op_type == "ConvTranspose":  # every input pixel meets the whole kernel
            total += int(np.prod(x)) * int(np.prod(w[1:]))
        elif n.op_type == "Gemm":
            transa = any(a.name == "transA" and a.i for a in n.attribute)
            total += int(np.prod(y)) * (x[0] if transa else x[-1])
        else:
            total += int(np.prod(y)) * x[-1]
    print(f"{total / 1e6:.2f}")


if __name__ == "__main__":
    main()
