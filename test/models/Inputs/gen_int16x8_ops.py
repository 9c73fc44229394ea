"""gen_int16x8_ops.py OUTDIR: the model of int16x8-ops.test, one graph with
one branch per op issue 12 added, each its own output, each reading h =
Conv 1x1 (4->4) of x f32[1,4,6,6], so that it reads an int16 activation
(ONNX opset 17):

   0 Resize linear half_pixel x2       9 Elu
   1 Resize nearest asymmetric floor  10 Sigmoid
   2 ConvTranspose 4->3, 3x3, s2      11 Tanh
   3 ReduceMean over H, W             12 Exp
   4 ReduceSum over C (axes input)    13 Sqrt(Abs)
   5 ReduceMax over W                 14 Erf
   6 ReduceMin over H                 15 Max(x, c) with a constant
   7 LayerNormalization over W        16 Min(x, Neg(x))
   8 GELU (erf, as torch writes it)   17 PRelu, slope per channel
                                      18 GELU tanh form (torch's)
                                      19 Abs

Inputs: OUTDIR/{calib,eval}/NNN.npy, 8 each, standard normal.
"""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(21)
inits = []


def const(name, v, dtype=np.float32):
    inits.append(numpy_helper.from_array(np.asarray(v, dtype), name))
    return name


const("scales2", [1, 1, 2, 2])
# Weights exactly representable in int8 per output channel (integers up to
# 127, one of them 127, times a power of two), so that what the outputs show
# is the int16 activations' rounding, not the weights'.
w1 = rng.integers(-127, 128, (4, 4, 1, 1))
w1[:, 0] = 127
const("w1", w1 / 128.0)
const("b1", rng.normal(0, 0.1, 4))
wt = rng.integers(-127, 128, (4, 3, 3, 3))
wt[0, :, 0, 0] = 127
const("wt", wt / 512.0)
const("bt", rng.normal(0, 0.1, 3))
const("ax1", [1], np.int64)
const("lns", rng.uniform(0.5, 1.5, 6))
const("lnb", rng.normal(0, 0.2, 6))
const("cmax", rng.normal(0, 0.5, 6))
const("slope", rng.uniform(0.05, 0.5, (4, 1, 1)))
for k, v in (("sqrt2", math.sqrt(2)), ("one", 1.0), ("half", 0.5), ("kappa", 0.044715),
             ("beta", math.sqrt(2 / math.pi))):
    const(k, v)
N = helper.make_node
nodes = [
    N("Conv", ["x", "w1", "b1"], ["h"]),
    N("Resize", ["h", "", "scales2"], ["y0"], mode="linear", coordinate_transformation_mode="half_pixel"),
    N("Resize", ["h", "", "scales2"], ["y1"], mode="nearest", coordinate_transformation_mode="asymmetric",
      nearest_mode="floor"),
    N("ConvTranspose", ["h", "wt", "bt"], ["y2"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
    N("ReduceMean", ["h"], ["y3"], axes=[2, 3], keepdims=1),
    N("ReduceSum", ["h", "ax1"], ["y4"], keepdims=0),
    N("ReduceMax", ["h"], ["y5"], axes=[3], keepdims=1),
    N("ReduceMin", ["h"], ["y6"], axes=[2], keepdims=0),
    N("LayerNormalization", ["h", "lns", "lnb"], ["y7"], axis=-1, epsilon=1e-5),
    N("Div", ["h", "sqrt2"], ["g_t"]), N("Erf", ["g_t"], ["g_e"]), N("Add", ["g_e", "one"], ["g_a"]),
    N("Mul", ["h", "g_a"], ["g_m"]), N("Mul", ["g_m", "half"], ["y8"]),
    N("Elu", ["h"], ["y9"], alpha=0.7),
    N("Sigmoid", ["h"], ["y10"]),
    N("Tanh", ["h"], ["y11"]),
    N("Exp", ["h"], ["y12"]),
    N("Abs", ["h"], ["ab"]), N("Sqrt", ["ab"], ["y13"]),
    N("Erf", ["h"], ["y14"]),
    N("Max", ["h", "cmax"], ["y15"]),
    N("Neg", ["h"], ["nx"]), N("Min", ["h", "nx"], ["y16"]),
    N("PRelu", ["h", "slope"], ["y17"]),
    N("Mul", ["h", "h"], ["t_sq"]), N("Mul", ["h", "t_sq"], ["t_c"]), N("Mul", ["kappa", "t_c"], ["t_k"]),
    N("Add", ["h", "t_k"], ["t_s"]), N("Mul", ["beta", "t_s"], ["t_u"]), N("Tanh", ["t_u"], ["t_t"]),
    N("Add", ["one", "t_t"], ["t_a"]), N("Mul", ["h", "t_a"], ["t_m"]), N("Mul", ["half", "t_m"], ["y18"]),
    N("Abs", ["h"], ["y19"]),
]
shapes = [[1, 4, 12, 12], [1, 4, 12, 12], [1, 3, 12, 12], [1, 4, 1, 1], [1, 6, 6], [1, 4, 6, 1], [1, 4, 6],
          [1, 4, 6, 6]] + [[1, 4, 6, 6]] * 12
outs = [helper.make_tensor_value_info("y%d" % i, TensorProto.FLOAT, s) for i, s in enumerate(shapes)]
g = helper.make_graph(nodes, "int16x8_ops", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
                      outs, inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.checker.check_model(m, full_check=True)
onnx.save(m, os.path.join(out, "ops.onnx"))
for split in ("calib", "eval"):
    d = os.path.join(out, split)
    os.makedirs(d, exist_ok=True)
    for i in range(8):
        np.save(os.path.join(d, "%03d.npy" % i), rng.standard_normal((1, 4, 6, 6)).astype(np.float32))
