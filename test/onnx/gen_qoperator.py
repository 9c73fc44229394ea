#!/usr/bin/python3
"""gen_qoperator.py OUT_DIR: small models in onnxruntime's QOperator format.

Each model is one com.microsoft op (QLinearAdd, QLinearMul, QLinearConcat,
QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool,
QLinearGlobalAveragePool, QGemm), plus one chain of them (the shape a
float model quantized by onnxruntime's quantize_static in QOperator format
has: QuantizeLinear, QLinear* ops, DequantizeLinear), hand-built because
onnxruntime's Python quantization tools are not available here.  Writes
NAME.onnx and NAME.x.npy (and NAME.x1.npy for two-input models) with
random inputs; the expected outputs come from ONNX Runtime (ort_run.js),
the op's implementer.  Prints the model names, one per line.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
rng = np.random.default_rng(12)
names = []


def model(name, nodes, inputs, outputs, inits, feeds):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    onnx.save(m, os.path.join(OUT, name + ".onnx"))
    for i, a in enumerate(feeds):
        np.save(os.path.join(OUT, f"{name}.x{i or ''}.npy"), a)
    names.append(name)


def ms(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs, name=op.lower(), domain="com.microsoft", **attrs)


def qp(prefix, s, z, t):
    """Scale and zero point initializers."""
    zt = np.int8 if t == TensorProto.INT8 else np.uint8
    return [numpy_helper.from_array(np.array(s, np.float32), prefix + "_s"),
            numpy_helper.from_array(np.array(z, zt), prefix + "_z")]


def rand(t, shape):
    lo, hi = (-128, 128) if t == TensorProto.INT8 else (0, 256)
    return rng.integers(lo, hi, shape).astype(np.int8 if t == TensorProto.INT8 else np.uint8)


I8, U8 = TensorProto.INT8, TensorProto.UINT8
for t, tn in ((U8, "u8"), (I8, "i8")):
    zx, zy, zo = (128, 100, 140) if t == U8 else (3, -7, 10)
    shape = [1, 6, 5, 5]
    vi = lambda n, s: helper.make_tensor_value_info(n, t, s)
    # Binary, with a broadcast [6,1,1] second operand.
    for op in ("QLinearAdd", "QLinearMul"):
        model(f"{op[7:].lower()}_{tn}",
              [ms(op, ["a", "a_s", "a_z", "b", "b_s", "b_z", "y_s", "y_z"], ["y"])],
              [vi("a", shape), vi("b", [6, 1, 1])], [vi("y", shape)],
              qp("a", 0.043, zx, t) + qp("b", 0.021, zy, t) + qp("y", 0.05 if op == "QLinearAdd" else 0.031, zo, t),
              [rand(t, shape), rand(t, [6, 1, 1])])
    # Unary, on all 256 values.
    full = np.arange(-128, 128) if t == I8 else np.arange(256)
    full = full.astype(np.int8 if t == I8 else np.uint8).reshape(1, 4, 8, 8)
    model(f"sigmoid_{tn}", [ms("QLinearSigmoid", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"])],
          [vi("x", [1, 4, 8, 8])], [vi("y", [1, 4, 8, 8])],
          qp("x", 0.0625, zx, t) + qp("y", 1 / 256, -128 if t == I8 else 0, t), [full])
    model(f"leakyrelu_{tn}", [ms("QLinearLeakyRelu", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"], alpha=0.1)],
          [vi("x", [1, 4, 8, 8])], [vi("y", [1, 4, 8, 8])],
          qp("x", 0.05, zx, t) + qp("y", 0.03, zo, t), [full])
    # Pools.
    model(f"avgpool_{tn}", [ms("QLinearAveragePool", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"],
                              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])],
          [vi("x", [1, 6, 9, 9])], [vi("y", [1, 6, 5, 5])],
          qp("x", 0.04, zx, t) + qp("y", 0.03, zo, t), [rand(t, [1, 6, 9, 9])])
    model(f"avgpool_incl_{tn}", [ms("QLinearAveragePool", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"],
                                   kernel_shape=[2, 3], pads=[0, 1, 1, 1], count_include_pad=1)],
          [vi("x", [1, 6, 9, 9])], [vi("y", [1, 6, 9, 9])],
          qp("x", 0.04, zx, t) + qp("y", 0.04, zx, t), [rand(t, [1, 6, 9, 9])])
    model(f"gap_{tn}", [ms("QLinearGlobalAveragePool", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"])],
          [vi("x", [2, 6, 7, 7])], [vi("y", [2, 6, 1, 1])],
          qp("x", 0.04, zx, t) + qp("y", 0.011, zo, t), [rand(t, [2, 6, 7, 7])])
    # Concat of a run-time input, a constant and another input, along C.
    cst = numpy_helper.from_array(rand(t, [1, 2, 5, 5]), "c")
    model(f"concat_{tn}", [ms("QLinearConcat", ["y_s", "y_z", "a", "a_s", "a_z", "c", "c_s", "c_z",
                                               "b", "b_s", "b_z"], ["y"], axis=1)],
          [vi("a", shape), vi("b", [1, 3, 5, 5])], [vi("y", [1, 11, 5, 5])],
          qp("y", 0.05, zo, t) + qp("a", 0.043, zx, t) + qp("c", 0.05, zo, t) + qp("b", 0.021, zy, t) + [cst],
          [rand(t, shape), rand(t, [1, 3, 5, 5])])
    # QGemm: per-tensor B (transB=1) and per-column B (transB=0), int32 bias.
    K, N = 24, 10
    for tb in (1, 0):
        bw = rng.integers(-127, 128, [N, K] if tb else [K, N]).astype(np.int8)
        bs = np.float32(0.02) if tb else (rng.random(N) * 0.03 + 0.005).astype(np.float32)
        bz = np.int8(0) if tb else np.zeros(N, np.int8)
        bias = rng.integers(-2000, 2000, [N]).astype(np.int32)
        model(f"qgemm_t{tb}_{tn}", [ms("QGemm", ["a", "a_s", "a_z", "b", "b_s", "b_z", "c", "y_s", "y_z"], ["y"],
                                       transB=tb)],
              [vi("a", [3, K])], [vi("y", [3, N])],
              qp("a", 0.04, zx, t) + qp("y", 0.07, zo, t) +
              [numpy_helper.from_array(bw, "b"), numpy_helper.from_array(np.array(bs), "b_s"),
               numpy_helper.from_array(np.array(bz), "b_z"), numpy_helper.from_array(bias, "c")],
              [rand(t, [3, K])])

# A float model in QOperator form: QuantizeLinear, QLinearConv, QLinearLeakyRelu,
# QLinearAdd (residual), QLinearAveragePool, QLinearConcat, QLinearGlobalAveragePool,
# flatten, QGemm, QLinearSigmoid, DequantizeLinear.
f = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
w = rng.integers(-127, 128, [8, 3, 3, 3]).astype(np.int8)
gw = rng.integers(-127, 128, [4, 16]).astype(np.int8)
inits = (qp("x", 0.02, 128, U8) + qp("c", 0.05, 120, U8) + qp("l", 0.04, 110, U8) + qp("r", 0.06, 100, U8) +
         qp("p", 0.05, 105, U8) + qp("k", 0.06, 100, U8) + qp("g", 0.03, 90, U8) + qp("h", 0.1, 128, U8) +
         qp("s", 1 / 256, 0, U8) +
         [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.float32(0.01), "w_s"),
          numpy_helper.from_array(np.int8(0), "w_z"),
          numpy_helper.from_array(rng.integers(-500, 500, [8]).astype(np.int32), "wb"),
          numpy_helper.from_array(gw, "gw"), numpy_helper.from_array(np.float32(0.015), "gw_s"),
          numpy_helper.from_array(np.int8(0), "gw_z"),
          numpy_helper.from_array(rng.integers(-300, 300, [4]).astype(np.int32), "gb"),
          numpy_helper.from_array(np.array([2, 16], np.int64), "flat")])
nodes = [
    helper.make_node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"], name="q"),
    helper.make_node("QLinearConv", ["xq", "x_s", "x_z", "w", "w_s", "w_z", "c_s", "c_z", "wb"], ["cq"],
                     name="conv", pads=[1, 1, 1, 1]),
    ms("QLinearLeakyRelu", ["cq", "c_s", "c_z", "l_s", "l_z"], ["lq"], alpha=0.2),
    ms("QLinearAdd", ["lq", "l_s", "l_z", "cq", "c_s", "c_z", "r_s", "r_z"], ["rq"]),
    ms("QLinearAveragePool", ["rq", "r_s", "r_z", "p_s", "p_z"], ["pq"], kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("MaxPool", ["rq"], ["mq"], name="mp", kernel_shape=[2, 2], strides=[2, 2]),
    ms("QLinearConcat", ["k_s", "k_z", "pq", "p_s", "p_z", "mq", "r_s", "r_z"], ["kq"], axis=1),
    ms("QLinearGlobalAveragePool", ["kq", "k_s", "k_z", "g_s", "g_z"], ["gq"]),
    helper.make_node("Reshape", ["gq", "flat"], ["fq"], name="flatten"),
    ms("QGemm", ["fq", "g_s", "g_z", "gw", "gw_s", "gw_z", "gb", "h_s", "h_z"], ["hq"], transB=1),
    ms("QLinearSigmoid", ["hq", "h_s", "h_z", "s_s", "s_z"], ["sq"]),
    helper.make_node("DequantizeLinear", ["sq", "s_s", "s_z"], ["y"], name="dq"),
]
model("chain", nodes, [f("x", [2, 3, 8, 8])], [f("y", [2, 4])], inits,
      [rng.standard_normal([2, 3, 8, 8]).astype(np.float32)])
print("\n".join(names))
