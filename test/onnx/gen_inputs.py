#!/usr/bin/python3
"""Generate the small ONNX models under Inputs/ used by the lit tests.

usage: gen_inputs.py [OUT_DIR]      (default: Inputs/ beside this script)

Malformed models exercise the importer's error messages (import-errors.test);
well-formed ones exercise layout handling, shape folding, external data and
quantized import, with expected outputs computed here in NumPy (an
independent oracle, never qnnc's own output).  The generated files are
committed; rerun this script after changing it.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(1234)


def save(model, name):
    onnx.save(model, os.path.join(OUT, name))


def model(nodes, inputs, outputs, inits=(), opset=13, check=True):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    if check:
        onnx.checker.check_model(m)
    return m


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def npy(name, arr):
    np.save(os.path.join(OUT, name), arr)


# ---------------------------------------------------------------- errors

relu = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, 4])], [vi("y", [1, 4])])
data = relu.SerializeToString()
with open(os.path.join(OUT, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(os.path.join(OUT, "corrupt.onnx"), "wb") as f:
    f.write(b"\xff\xff\xff\xff\xff\xff\xff\xff not a protobuf \x00\x01")

save(model([helper.make_node("Relu", ["x"], ["a"], name="ok"),
            helper.make_node("Erf", ["a"], ["b"], name="erf_1"),
            helper.make_node("LSTM", ["b", "w", "r"], ["c"], name="lstm_7"),
            helper.make_node("Round", ["c"], ["y"], name="round_2")],
           [vi("x", [1, 4]), vi("w", [1, 4, 4]), vi("r", [1, 4, 1])], [vi("y", [1, 4])], check=False),
     "unsupported.onnx")

save(model([helper.make_node("Conv", ["x", "W"], ["y"], name="conv_0")],
           [vi("x", [1, 1, 3, 3])], [vi("y", [1, 1, 1, 1])], check=False), "missing_init.onnx")

save(model([helper.make_node("Relu", ["x"], ["y"], name="a"),
            helper.make_node("Sigmoid", ["x"], ["y"], name="b")],
           [vi("x", [1, 4])], [vi("y", [1, 4])], check=False), "duplicate.onnx")

save(model([helper.make_node("Add", ["x", "c"], ["b"], name="add_a"),
            helper.make_node("Relu", ["b"], ["c"], name="relu_b"),
            helper.make_node("Relu", ["b"], ["y"], name="relu_y")],
           [vi("x", [1, 4])], [vi("y", [1, 4])], check=False), "cycle.onnx")

bad_type = helper.make_tensor("w", TensorProto.STRING, [1], [b"abc"])
save(model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [1, 4])], [vi("y", [1, 4])],
           [bad_type], check=False), "wrong_type.onnx")

short = helper.make_tensor("w", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
short.raw_data = b"\x00" * 10  # 10 bytes for 4 floats
del short.float_data[:]
save(model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [1, 4])], [vi("y", [1, 4])],
           [short], check=False), "short_data.onnx")

huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 40, 1 << 40])
save(model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [1, 4])], [vi("y", [1, 4])],
           [huge], check=False), "overflow_dims.onnx")

ext = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4])
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "missing_weights.bin"), ("offset", "0"), ("length", "16")):
    e = ext.external_data.add()
    e.key, e.value = k, v
save(model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [1, 4])], [vi("y", [1, 4])],
           [ext], check=False), "external_missing.onnx")

ext2 = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4])
ext2.data_location = TensorProto.EXTERNAL
for k, v in (("location", "weights.bin"), ("offset", "8"), ("length", "16")):
    e = ext2.external_data.add()
    e.key, e.value = k, v
with open(os.path.join(OUT, "weights.bin"), "wb") as f:
    f.write(np.array([0, 0, 1.5, -2, 0.25, 8], dtype="<f4").tobytes())
save(model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [1, 4])], [vi("y", [1, 4])],
           [ext2], check=False), "external_ok.onnx")
npy("external_ok.x.npy", np.array([[1, 2, 3, 4]], dtype=np.float32))

ext3 = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4])
ext3.data_location = TensorProto.EXTERNAL
for k, v in (("location", "weights.bin"), ("offset", "16")):
    e = ext3.external_data.add()
    e.key, e.value = k, v
save(model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [1, 4])], [vi("y", [1, 4])],
           [ext3], check=False), "external_short.onnx")

save(model([helper.make_node("QLinearMatMul", ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"], ["y"], name="qmm")],
           [vi("a", [2, 3], TensorProto.UINT8), vi("sa", [], TensorProto.FLOAT)],
           [vi("y", [2, 2], TensorProto.UINT8)],
           [numpy_helper.from_array(np.array(3, np.uint8), "za"),
            numpy_helper.from_array(np.ones((3, 2), np.uint8), "b"),
            numpy_helper.from_array(np.array(0.5, np.float32), "sb"),
            numpy_helper.from_array(np.array(1, np.uint8), "zb"),
            numpy_helper.from_array(np.array(0.25, np.float32), "sy"),
            numpy_helper.from_array(np.array(7, np.uint8), "zy")], check=False), "qparam_input.onnx")

# com.microsoft (onnxruntime's contrib ops): the domain's own opset decides
# the range, an op qnnc lacks there is named with its domain, and the
# forms qnnc does not read are refused.
def ms_model(nodes, ms_opset=1):
    qp = [numpy_helper.from_array(np.array(0.5, np.float32), "s"), numpy_helper.from_array(np.array(3, np.uint8), "z")]
    g = helper.make_graph(nodes, "g", [vi("x", [1, 2, 4, 4], TensorProto.UINT8)],
                          [vi("y", [1, 2, 4, 4], TensorProto.UINT8)], qp)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", ms_opset)])
    m.ir_version = 8
    return m


def ms_node(op, ins, **attrs):
    return helper.make_node(op, ins, ["y"], name="q1", domain="com.microsoft", **attrs)


save(ms_model([ms_node("QLinearSigmoid", ["x", "s", "z", "s", "z"])], ms_opset=2), "ms_opset.onnx")
save(ms_model([ms_node("QLinearSoftmax", ["x", "s", "z", "s", "z"])]), "ms_unsupported.onnx")
save(ms_model([ms_node("QLinearGlobalAveragePool", ["x", "s", "z", "s", "z"], channels_last=1)]),
     "ms_channels_last.onnx")
save(ms_model([ms_node("QGemm", ["x", "s", "z", "x", "s", "z"])]), "ms_qgemm_float.onnx")
save(ms_model([ms_node("QLinearConcat", ["s", "z", "x", "s", "z", "x"])]), "ms_concat_triples.onnx")

save(model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, 4])], [vi("y", [1, 4])], opset=20,
           check=False), "opset20.onnx")

# Ops used outside their opset range (onnx_ops.def): HardSwish exists from
# opset 14, Concat's axis defaulted to 1 before opset 4 (qnnc imports it
# from 4 on).
save(model([helper.make_node("HardSwish", ["x"], ["h"], name="hs"), helper.make_node("Relu", ["h"], ["y"], name="r")],
           [vi("x", [1, 4])], [vi("y", [1, 4])], opset=13, check=False), "opset_range.onnx")
save(model([helper.make_node("Concat", ["x", "x"], ["y"], name="cat")], [vi("x", [1, 4])], [vi("y", [2, 4])],
           opset=3, check=False), "opset_range_old.onnx")
# Opset 6 forms qnnc refuses rather than misreads: Add broadcasting B along
# axis 0 (numpy would align it with the last axis), BatchNormalization
# without is_test (training mode).
save(model([helper.make_node("Add", ["x", "b"], ["y"], broadcast=1, axis=0, name="add_ax0")],
           [vi("x", [3, 3])], [vi("y", [3, 3])], [numpy_helper.from_array(np.ones(3, np.float32), "b")],
           opset=6, check=False), "legacy_broadcast.onnx")
save(model([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn")],
           [vi("x", [1, 2, 2, 2])], [vi("y", [1, 2, 2, 2])],
           [numpy_helper.from_array(np.ones(2, np.float32), k) for k in "sbmv"], opset=6, check=False),
     "bn_training_opset6.onnx")

save(model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, "h"])], [vi("y", [1, 4])],
           check=False), "symbolic_dim.onnx")

# ---------------------------------------------------------------- positive models


def conv2d_nchw(x, w, b, stride=1, pad=0, group=1):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, o, oh, ow), np.float64)
    opg = o // group
    for oc in range(o):
        g = oc // opg
        xs = xp[:, g * cg:(g + 1) * cg]
        for i in range(oh):
            for j in range(ow):
                win = xs[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                y[:, oc, i, j] = np.sum(win * w[oc], axis=(1, 2, 3)) + b[oc]
    return y


# A small NCHW CNN: Conv -> BatchNorm -> Relu -> MaxPool -> a grouped Conv
# concatenated with its input along channels -> Softmax over channels ->
# GlobalAveragePool -> the PyTorch-style Reshape (Shape/Gather/Unsqueeze/
# Concat) -> Gemm.  Every layout-sensitive path is on it.
x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
w1 = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
b1 = rng.standard_normal(4).astype(np.float32)
sc, bb = rng.uniform(0.5, 1.5, 4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
mean, var = rng.standard_normal(4).astype(np.float32), rng.uniform(0.5, 2, 4).astype(np.float32)
w2 = (rng.standard_normal((4, 2, 3, 3)) * 0.3).astype(np.float32)
b2 = np.zeros(4, np.float32)
wg = rng.standard_normal((5, 8)).astype(np.float32)  # Gemm B with transB=1: [N, K]
bg = rng.standard_normal(5).astype(np.float32)

y = conv2d_nchw(x.astype(np.float64), w1, b1, pad=1)
y = (y - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5) * sc[None, :, None, None] \
    + bb[None, :, None, None]
y = np.maximum(y, 0)
y = y.reshape(1, 4, 4, 2, 4, 2).max(axis=(3, 5))  # MaxPool 2x2 stride 2
z = conv2d_nchw(y, w2, b2, pad=1, group=2)
cat = np.concatenate([y, z], axis=1)
e = np.exp(cat - cat.max(axis=1, keepdims=True))
sm = e / e.sum(axis=1, keepdims=True)
gap = sm.mean(axis=(2, 3), keepdims=True)
flat = gap.reshape(1, -1)
out = flat @ wg.T.astype(np.float64) + bg

inits = [numpy_helper.from_array(a, n) for a, n in
         ((w1, "w1"), (b1, "b1"), (sc, "sc"), (bb, "bb"), (mean, "mean"), (var, "var"), (w2, "w2"), (b2, "b2"),
          (wg, "wg"), (bg, "bg"), (np.array([0], np.int64), "idx0"), (np.array([-1], np.int64), "minus1"))]
nodes = [
    helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
    helper.make_node("BatchNormalization", ["c1", "sc", "bb", "mean", "var"], ["bn"], name="bn"),
    helper.make_node("Relu", ["bn"], ["r1"], name="relu"),
    helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
    helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=2, name="conv2"),
    helper.make_node("Concat", ["p1", "c2"], ["cat"], axis=1, name="cat"),
    helper.make_node("Softmax", ["cat"], ["sm"], axis=1, name="softmax"),
    helper.make_node("GlobalAveragePool", ["sm"], ["gap"], name="gap"),
    helper.make_node("Shape", ["gap"], ["shp"], name="shape"),
    helper.make_node("Gather", ["shp", "idx0"], ["n"], axis=0, name="gather"),
    helper.make_node("Concat", ["n", "minus1"], ["tgt"], axis=0, name="tgt"),
    helper.make_node("Reshape", ["gap", "tgt"], ["flat"], name="flatten"),
    helper.make_node("Gemm", ["flat", "wg", "bg"], ["y"], transB=1, name="fc"),
]
save(model(nodes, [vi("x", ["N", 3, 8, 8])], [vi("y", ["N", 5])], inits), "cnn.onnx")
npy("cnn.x.npy", x)
npy("cnn.y.npy", out.astype(np.float32))

# The same first layers, returning the 4-D feature map: the output must come
# back in NCHW (and in NHWC with the layout option).
save(model(nodes[:5], [vi("x", [1, 3, 8, 8])], [vi("c2", [1, 4, 4, 4])], inits[:8]), "features.onnx")
npy("features.y.npy", z.astype(np.float32))

# A QDQ model: QuantizeLinear -> DequantizeLinear around a float Conv with
# int8 weights, then QuantizeLinear of the output.
xs, xz = np.float32(0.05), np.uint8(128)
wq = rng.integers(-20, 20, (2, 3, 3, 3)).astype(np.int8)
ws = np.array([0.01, 0.02], np.float32)
ys, yz = np.float32(0.1), np.uint8(120)
xq = np.clip(np.round(x / xs) + xz, 0, 255).astype(np.uint8)
xd = (xq.astype(np.float64) - xz) * xs
wd = wq.astype(np.float64) * ws[:, None, None, None]
conv = conv2d_nchw(xd, wd, np.zeros(2))
yq = np.clip(np.round(conv / ys) + yz, 0, 255).astype(np.uint8)
qinits = [numpy_helper.from_array(a, n) for a, n in
          ((np.array(xs), "xs"), (np.array(xz), "xz"), (wq, "wq"), (ws, "ws"), (np.zeros(2, np.int8), "wz"),
           (np.array(ys), "ys"), (np.array(yz), "yz"))]
qnodes = [
    helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q_x"),
    helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xdq"], name="dq_x"),
    helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wdq"], axis=0, name="dq_w"),
    helper.make_node("Conv", ["xdq", "wdq"], ["c"], name="conv"),
    helper.make_node("QuantizeLinear", ["c", "ys", "yz"], ["y"], name="q_y"),
]
save(model(qnodes, [vi("x", [1, 3, 8, 8])], [vi("y", [1, 2, 6, 6], TensorProto.UINT8)], qinits), "qdq_conv.onnx")
npy("qdq_conv.y.npy", yq)
npy("cnn.x_nhwc.npy", np.ascontiguousarray(x.transpose(0, 2, 3, 1)))

# Layout-sensitive ops on an NHWC tensor: broadcasting with lower-rank
# constants, Sub/Div by constants, activations, Pad, AveragePool with
# ceil_mode and count_include_pad (the ceil padding is not counted), and a
# Transpose to NHWC that needs no IR op at all.
x2 = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
w3 = (rng.standard_normal((3, 2, 1, 1))).astype(np.float32)
cb = rng.standard_normal((3, 1, 1)).astype(np.float32)
t = conv2d_nchw(x2.astype(np.float64), w3, np.zeros(3))
t = t.astype(np.float32)
t = t + cb
t = t - np.float32(0.5)
t = t / np.float32(4.0)
t = np.where(t >= 0, t, np.float32(0.1) * t).astype(np.float32)
t = np.clip(np.float32(0.3) * t + np.float32(0.5), 0, 1).astype(np.float32)
tp = np.pad(t, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=0.0)
# AveragePool k=3, s=2, pads=1, ceil_mode=1, count_include_pad=1 on 6x6:
# output ceil((6+2-3)/2)+1 = 4; the last window reaches one past the
# padded input, and that extra tap is not counted.
ap = np.zeros((1, 3, 4, 4), np.float64)
for i in range(4):
    for j in range(4):
        win = tp[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3].astype(np.float64)
        ap[:, :, i, j] = win.sum(axis=(2, 3)) / (win.shape[2] * win.shape[3])
lay_out = ap.transpose(0, 2, 3, 1)
lay_nodes = [
    helper.make_node("Conv", ["x", "w3"], ["c"], name="conv"),
    helper.make_node("Add", ["c", "cb"], ["a"], name="add"),
    helper.make_node("Sub", ["a", "half"], ["s"], name="sub"),
    helper.make_node("Div", ["s", "four"], ["d"], name="div"),
    helper.make_node("LeakyRelu", ["d"], ["l"], alpha=0.1, name="leaky"),
    helper.make_node("HardSigmoid", ["l"], ["h"], alpha=0.3, name="hsig"),
    helper.make_node("AveragePool", ["h"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                     ceil_mode=1, count_include_pad=1, name="avg"),
    helper.make_node("Transpose", ["p"], ["y"], perm=[0, 2, 3, 1], name="to_nhwc"),
]
lay_inits = [numpy_helper.from_array(w3, "w3"), numpy_helper.from_array(cb, "cb"),
             numpy_helper.from_array(np.array(0.5, np.float32), "half"),
             numpy_helper.from_array(np.array(4.0, np.float32), "four")]
save(model(lay_nodes, [vi("x", [1, 2, 6, 6])], [vi("y", [1, 4, 4, 3])], lay_inits), "layout.onnx")
npy("layout.x.npy", x2)
npy("layout.y.npy", lay_out.astype(np.float32))

# A QDQ MLP: Gemm (transB=1, per-channel int8 weights, int32 bias) and
# MatMul (per-column weights), each wrapped in DQ/Q: fused into dense and
# matmul.
xm = rng.standard_normal((2, 6)).astype(np.float32)
ms, mz = np.float32(0.03), np.int8(-3)
w1q = rng.integers(-60, 60, (4, 6)).astype(np.int8)
w1s = rng.uniform(0.005, 0.02, 4).astype(np.float32)
b1s = (np.float32(ms) * w1s).astype(np.float32)
b1q = rng.integers(-500, 500, 4).astype(np.int32)
h_s, h_z = np.float32(0.05), np.int8(5)
w2q = rng.integers(-60, 60, (4, 3)).astype(np.int8)
w2s = rng.uniform(0.005, 0.02, 3).astype(np.float32)
o_s, o_z = np.float32(0.02), np.int8(-1)


def q8(v, s, z):
    return np.clip(np.round(v / np.float64(s)) + z, -128, 127).astype(np.int8)


xmq = np.clip(np.round(xm / ms) + mz, -128, 127).astype(np.int8)
h = ((xmq.astype(np.float64) - mz) * ms) @ (w1q * w1s[:, None].astype(np.float64)).T + b1q * b1s.astype(np.float64)
hq = q8(h, h_s, h_z)
o = ((hq.astype(np.float64) - h_z) * h_s) @ (w2q * w2s[None, :].astype(np.float64))
oq = q8(o, o_s, o_z)
minits = [numpy_helper.from_array(a, n) for a, n in
          ((np.array(ms), "ms"), (np.array(mz), "mz"), (w1q, "w1q"), (w1s, "w1s"), (np.zeros(4, np.int8), "w1z"),
           (b1q, "b1q"), (b1s, "b1s"), (np.zeros(4, np.int32), "b1z"), (np.array(h_s), "hs"), (np.array(h_z), "hz"),
           (w2q, "w2q"), (w2s, "w2s"), (np.zeros(3, np.int8), "w2z"), (np.array(o_s), "os"), (np.array(o_z), "oz"))]
mnodes = [
    helper.make_node("QuantizeLinear", ["x", "ms", "mz"], ["xq"], name="q_x"),
    helper.make_node("DequantizeLinear", ["xq", "ms", "mz"], ["xd"], name="dq_x"),
    helper.make_node("DequantizeLinear", ["w1q", "w1s", "w1z"], ["w1"], axis=0, name="dq_w1"),
    helper.make_node("DequantizeLinear", ["b1q", "b1s", "b1z"], ["b1"], axis=0, name="dq_b1"),
    helper.make_node("Gemm", ["xd", "w1", "b1"], ["h"], transB=1, name="fc1"),
    helper.make_node("QuantizeLinear", ["h", "hs", "hz"], ["hq"], name="q_h"),
    helper.make_node("DequantizeLinear", ["hq", "hs", "hz"], ["hd"], name="dq_h"),
    helper.make_node("DequantizeLinear", ["w2q", "w2s", "w2z"], ["w2"], axis=1, name="dq_w2"),
    helper.make_node("MatMul", ["hd", "w2"], ["o"], name="fc2"),
    helper.make_node("QuantizeLinear", ["o", "os", "oz"], ["y"], name="q_y"),
]
save(model(mnodes, [vi("x", [2, 6])], [vi("y", [2, 3], TensorProto.INT8)], minits), "qdq_mlp.onnx")
npy("qdq_mlp.x.npy", xm)
npy("qdq_mlp.y.npy", oq)

# Opset 9 attribute forms: Clip-6 min/max, Pad-2 pads/value, Softmax-1's
# 2-D coercion on a 4-D NHWC-capable tensor, Squeeze-1/Unsqueeze-1 axes,
# and a Slice-1 (attributes) in the shape computation of a Reshape.
xo = rng.standard_normal((1, 3, 4, 4)).astype(np.float32)
co = np.clip(xo, -0.5, 0.5)
po = np.pad(co, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=0.25).astype(np.float64)
flat = po.reshape(1, -1)
eo = np.exp(flat - flat.max(axis=1, keepdims=True))
so = (eo / eo.sum(axis=1, keepdims=True)).reshape(po.shape)
old_out = so.reshape(1, 3, 36)
onodes = [
    helper.make_node("Clip", ["x"], ["c"], min=-0.5, max=0.5, name="clip"),
    helper.make_node("Pad", ["c"], ["p"], pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.25, name="pad"),
    helper.make_node("Softmax", ["p"], ["s"], axis=1, name="softmax"),
    helper.make_node("Squeeze", ["s"], ["sq"], axes=[0], name="squeeze"),
    helper.make_node("Unsqueeze", ["sq"], ["us"], axes=[0], name="unsqueeze"),
    helper.make_node("Shape", ["x"], ["shp"], name="shape"),
    helper.make_node("Slice", ["shp"], ["nc"], starts=[0], ends=[2], name="slice"),
    helper.make_node("Concat", ["nc", "m1"], ["tgt"], axis=0, name="tgt"),
    helper.make_node("Reshape", ["us", "tgt"], ["y"], name="reshape"),
]
save(model(onodes, [vi("x", [1, 3, 4, 4])], [vi("y", [1, 3, 36])],
           [numpy_helper.from_array(np.array([-1], np.int64), "m1")], opset=9), "old_opset.onnx")
npy("old_opset.x.npy", xo)
npy("old_opset.y.npy", old_out.astype(np.float32))

# A QDQ network with a residual: every op wrapped in DQ/Q is fused into a
# quantized IR op (conv2d with a fused Relu, max_pool, add, global_avg_pool,
# reshape, dense, softmax).  The reference dequantizes, runs the float op
# and quantizes, as the model says.
def qu8(v, s, z):
    return np.clip(np.round(np.asarray(v, np.float64) / np.float64(np.float32(s))) + z, 0, 255).astype(np.uint8)


def dq(q, s, z):
    return (q.astype(np.float64) - z) * np.float64(np.float32(s))


xr = rng.standard_normal((1, 4, 6, 6)).astype(np.float32)
S = {k: np.float32(v) for k, v in dict(s0=0.04, s1=0.05, s2=0.06, s3=0.08, s4=0.03, s5=0.1, s6=1 / 256).items()}
Z = dict(z0=128, z1=0, z2=128, z3=100, z4=128, z5=128, z6=0)
wa = rng.integers(-50, 50, (4, 4, 3, 3)).astype(np.int8)
wa_s = rng.uniform(0.004, 0.01, 4).astype(np.float32)
ba = rng.integers(-300, 300, 4).astype(np.int32)
ba_s = (S["s0"] * wa_s).astype(np.float32)
wb = rng.integers(-50, 50, (4, 4, 1, 1)).astype(np.int8)
wb_s = rng.uniform(0.004, 0.01, 4).astype(np.float32)
wf = rng.integers(-50, 50, (5, 4)).astype(np.int8)
wf_s = rng.uniform(0.01, 0.03, 5).astype(np.float32)
bf = rng.integers(-300, 300, 5).astype(np.int32)
bf_s = (S["s4"] * wf_s).astype(np.float32)

x0q = np.clip(np.round(xr / S["s0"]) + Z["z0"], 0, 255).astype(np.uint8)
c1 = conv2d_nchw(dq(x0q, S["s0"], Z["z0"]), wa * wa_s[:, None, None, None].astype(np.float64),
                 ba * ba_s.astype(np.float64), pad=1)
c1q = qu8(np.maximum(c1, 0), S["s1"], Z["z1"])
mp = dq(c1q, S["s1"], Z["z1"]).reshape(1, 4, 3, 2, 3, 2).max(axis=(3, 5))
mpq = qu8(mp, S["s1"], Z["z1"])
c2 = conv2d_nchw(dq(mpq, S["s1"], Z["z1"]), wb * wb_s[:, None, None, None].astype(np.float64), np.zeros(4))
c2q = qu8(c2, S["s2"], Z["z2"])
addq = qu8(dq(mpq, S["s1"], Z["z1"]) + dq(c2q, S["s2"], Z["z2"]), S["s3"], Z["z3"])
gq = qu8(dq(addq, S["s3"], Z["z3"]).mean(axis=(2, 3), keepdims=True), S["s4"], Z["z4"])
fq = gq.reshape(1, 4)
lg = dq(fq, S["s4"], Z["z4"]) @ (wf * wf_s[:, None].astype(np.float64)).T + bf * bf_s.astype(np.float64)
lq = qu8(lg, S["s5"], Z["z5"])
# Softmax as the IR computes its quantized form: float32 throughout.
lf = ((lq.astype(np.int32) - Z["z5"]).astype(np.float32) * S["s5"]).astype(np.float32)
le = np.exp(lf - lf.max(axis=1, keepdims=True)).astype(np.float32)
sf = (le / le.sum(axis=1, keepdims=True, dtype=np.float32)).astype(np.float32)
yq_res = np.clip(np.round((sf / S["s6"]).astype(np.float32)) + Z["z6"], 0, 255).astype(np.uint8)

rinits = [numpy_helper.from_array(np.array(S[k]), k) for k in S]
rinits += [numpy_helper.from_array(np.array(Z[k], np.uint8), k) for k in Z]
rinits += [numpy_helper.from_array(a, n) for a, n in
           ((wa, "wa"), (wa_s, "wa_s"), (np.zeros(4, np.int8), "z8x4"), (ba, "ba"), (ba_s, "ba_s"),
            (np.zeros(4, np.int32), "z32x4"), (wb, "wb"), (wb_s, "wb_s"), (wf, "wf"), (wf_s, "wf_s"),
            (np.zeros(5, np.int8), "z8x5"), (bf, "bf"), (bf_s, "bf_s"), (np.zeros(5, np.int32), "z32x5"))]


def Qn(i, s, z, o):
    return helper.make_node("QuantizeLinear", [i, s, z], [o], name="q_" + o)


def DQn(i, s, z, o, axis=None):
    kw = {} if axis is None else {"axis": axis}
    return helper.make_node("DequantizeLinear", [i, s, z], [o], name="dq_" + o, **kw)


rnodes = [
    Qn("x", "s0", "z0", "x0q"), DQn("x0q", "s0", "z0", "x0d"),
    DQn("wa", "wa_s", "z8x4", "wad", 0), DQn("ba", "ba_s", "z32x4", "bad", 0),
    helper.make_node("Conv", ["x0d", "wad", "bad"], ["c1"], pads=[1, 1, 1, 1], name="conv_a"),
    helper.make_node("Relu", ["c1"], ["r1"], name="relu_a"), Qn("r1", "s1", "z1", "c1q"),
    DQn("c1q", "s1", "z1", "c1d"),
    helper.make_node("MaxPool", ["c1d"], ["mp"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
    Qn("mp", "s1", "z1", "mpq"), DQn("mpq", "s1", "z1", "mpd"),
    DQn("wb", "wb_s", "z8x4", "wbd", 0),
    helper.make_node("Conv", ["mpd", "wbd"], ["c2"], name="conv_b"), Qn("c2", "s2", "z2", "c2q"),
    DQn("c2q", "s2", "z2", "c2d"),
    helper.make_node("Add", ["mpd", "c2d"], ["sum"], name="residual"), Qn("sum", "s3", "z3", "addq"),
    DQn("addq", "s3", "z3", "addd"),
    helper.make_node("GlobalAveragePool", ["addd"], ["gap"], name="gap"), Qn("gap", "s4", "z4", "gq"),
    DQn("gq", "s4", "z4", "gd"),
    helper.make_node("Flatten", ["gd"], ["fl"], name="flatten"), Qn("fl", "s4", "z4", "fq"),
    DQn("fq", "s4", "z4", "fd"),
    DQn("wf", "wf_s", "z8x5", "wfd", 0), DQn("bf", "bf_s", "z32x5", "bfd", 0),
    helper.make_node("Gemm", ["fd", "wfd", "bfd"], ["lg"], transB=1, name="fc"), Qn("lg", "s5", "z5", "lq"),
    DQn("lq", "s5", "z5", "ld"),
    helper.make_node("Softmax", ["ld"], ["sm"], axis=1, name="softmax"), Qn("sm", "s6", "z6", "y"),
]
save(model(rnodes, [vi("x", [1, 4, 6, 6])], [vi("y", [1, 5], TensorProto.UINT8)], rinits), "qdq_resnet.onnx")
npy("qdq_resnet.x.npy", xr)
npy("qdq_resnet.y.npy", yq_res)

# A graph input that is also an initializer is a constant; Identity of an
# input and a Constant are outputs too.
winit = numpy_helper.from_array(np.array([[1.0, -2.0, 3.0, 0.5]], np.float32), "w")
save(model([helper.make_node("Mul", ["x", "w"], ["y"], name="mul"),
            helper.make_node("Identity", ["x"], ["same"], name="id"),
            helper.make_node("Constant", [], ["k"], value_floats=[4.0, 5.0], name="const")],
           [vi("x", [1, 4]), vi("w", [1, 4])], [vi("y", [1, 4]), vi("same", [1, 4]), vi("k", [2])], [winit]),
     "input_initializer.onnx")

# Initializers in TensorProto's typed fields (float_data, int64_data,
# int32_data for uint8) rather than raw_data.
tf_w = helper.make_tensor("w", TensorProto.FLOAT, [1, 4], [0.5, 1.5, -2.0, 8.0])
tf_shape = helper.make_tensor("shape", TensorProto.INT64, [2], [2, 2])
tf_s = helper.make_tensor("s", TensorProto.FLOAT, [], [0.5])
tf_z = helper.make_tensor("z", TensorProto.UINT8, [], [10])
save(model([helper.make_node("Add", ["x", "w"], ["a"], name="add"),
            helper.make_node("Reshape", ["a", "shape"], ["r"], name="reshape"),
            helper.make_node("QuantizeLinear", ["r", "s", "z"], ["y"], name="q")],
           [vi("x", [1, 4])], [vi("y", [2, 2], TensorProto.UINT8)], [tf_w, tf_shape, tf_s, tf_z]),
     "typed_fields.onnx")

# QLinearConv with per-channel weight scales and zero points, depthwise,
# strided and padded, with an int32 bias; the reference is the ONNX spec's
# integer formula, exactly: rne(acc * x_scale * w_scale[o] / y_scale) + y_zp.
qx = rng.integers(0, 256, (1, 3, 7, 7)).astype(np.uint8)
qxs, qxz = np.float32(0.02), np.uint8(120)
qw = rng.integers(0, 256, (6, 1, 3, 3)).astype(np.uint8)
qws = rng.uniform(0.003, 0.01, 6).astype(np.float32)
qwz = rng.integers(100, 150, 6).astype(np.uint8)
qb = rng.integers(-2000, 2000, 6).astype(np.int32)
qys, qyz = np.float32(0.05), np.uint8(128)
acc = np.zeros((1, 6, 4, 4), np.int64)
xp = np.pad(qx.astype(np.int64) - qxz, ((0, 0), (0, 0), (1, 1), (1, 1)))
for o in range(6):
    g = o // 2
    for i in range(4):
        for j in range(4):
            acc[0, o, i, j] = np.sum(xp[0, g, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * (qw[o, 0].astype(np.int64) - qwz[o]))
    acc[0, o] += qb[o]
m = (np.float64(qxs) * qws.astype(np.float64) / np.float64(qys))[None, :, None, None]
qy = np.clip(np.round(acc * m) + qyz, 0, 255).astype(np.uint8)
qc_inits = [numpy_helper.from_array(a, n) for a, n in
            ((np.array(qxs), "xs"), (np.array(qxz), "xz"), (qw, "w"), (qws, "ws"), (qwz, "wz"),
             (np.array(qys), "ys"), (np.array(qyz), "yz"), (qb, "b"))]
save(model([helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"],
                             group=3, strides=[2, 2], pads=[1, 1, 1, 1], name="qconv")],
           [vi("x", [1, 3, 7, 7], TensorProto.UINT8)], [vi("y", [1, 6, 4, 4], TensorProto.UINT8)], qc_inits),
     "qlinearconv_perchannel.onnx")
npy("qlinearconv_perchannel.x.npy", qx)
npy("qlinearconv_perchannel.y.npy", qy)

# If with a condition known at import time: the chosen branch is inlined.
# The then branch reads an outer-scope run-time value ('r', produced by a
# Relu listed after the If, so the topological sort must see the capture),
# its own initializer and a nested If; the else branch, never taken, holds
# an op qnnc does not support.  y = relu(x) * 3 + 1 (then), z = x (the
# second If, cond False from a Constant node, takes its else branch).
def branch(nodes, outs, inits=()):
    return helper.make_graph(nodes, "b", [], [vi(o, [1, 4]) for o in outs], list(inits))


inner = helper.make_node("If", ["t"], ["i1"], name="inner_if",
                         then_branch=branch([helper.make_node("Add", ["m", "one"], ["i0"], name="inc")], ["i0"],
                                            [numpy_helper.from_array(np.ones(4, np.float32), "one")]),
                         else_branch=branch([helper.make_node("Neg", ["m"], ["i2"], name="neg")], ["i2"]))
if_then = branch([helper.make_node("Mul", ["r", "three"], ["m"], name="mul3"), inner], ["i1"],
                 [numpy_helper.from_array(np.full(4, 3, np.float32), "three")])
if_else = branch([helper.make_node("Erf", ["x"], ["e"], name="erf_never")], ["e"])
if_nodes = [helper.make_node("If", ["t"], ["y"], name="if_const", then_branch=if_then, else_branch=if_else),
            helper.make_node("Relu", ["x"], ["r"], name="relu"),
            helper.make_node("Constant", [], ["f"], name="false", value=numpy_helper.from_array(np.array(False))),
            helper.make_node("If", ["f"], ["z"], name="if_false",
                             then_branch=branch([helper.make_node("Erf", ["x"], ["e2"], name="erf2")], ["e2"]),
                             else_branch=branch([helper.make_node("Identity", ["x"], ["x2"], name="id")], ["x2"]))]
save(model(if_nodes, [vi("x", [1, 4])], [vi("y", [1, 4]), vi("z", [1, 4])],
           [numpy_helper.from_array(np.array(True), "t")], check=False), "if_const.onnx")
xi = np.array([[-1.5, 0.0, 2.0, 0.25]], np.float32)
npy("if_const.x.npy", xi)
npy("if_const.y.npy", (np.maximum(xi, 0) * 3 + 1).astype(np.float32))
npy("if_const.z.npy", xi)

# A taken branch with an unsupported op.  (Run-time conditions:
# gen_if_runtime.py, if-runtime.test.)
if_round = branch([helper.make_node("Round", ["x"], ["e"], name="round_never")], ["e"])  # Round: not imported
save(model([helper.make_node("If", ["t"], ["y"], name="if_bad", then_branch=if_round, else_branch=if_round)],
           [vi("x", [1, 4])], [vi("y", [1, 4])], [numpy_helper.from_array(np.array(True), "t")], check=False),
     "if_unsupported.onnx")
save(model([helper.make_node("If", ["t"], ["y"], name="if_undef",
                             then_branch=branch([helper.make_node("Relu", ["nowhere"], ["a"], name="ru")], ["a"]),
                             else_branch=branch([helper.make_node("Relu", ["x"], ["b"], name="rb")], ["b"]))],
           [vi("x", [1, 4])], [vi("y", [1, 4])], [numpy_helper.from_array(np.array(True), "t")], check=False),
     "if_undefined.onnx")
# An initializer without a name, in the model's graph and in an If branch.
save(model([helper.make_node("Add", ["x", "x"], ["y"], name="add")], [vi("x", [1, 4])], [vi("y", [1, 4])],
           [numpy_helper.from_array(np.ones(4, np.float32), "")], check=False), "init_noname.onnx")
save(model([helper.make_node("If", ["t"], ["y"], name="if_noname",
                             then_branch=branch([helper.make_node("Add", ["x", "c"], ["a"], name="ra")], ["a"],
                                                [numpy_helper.from_array(np.ones(4, np.float32), "")]),
                             else_branch=branch([helper.make_node("Relu", ["x"], ["b"], name="rb")], ["b"]))],
           [vi("x", [1, 4])], [vi("y", [1, 4])], [numpy_helper.from_array(np.array(True), "t")], check=False),
     "if_init_noname.onnx")
# Split and Slice of run-time data on an NHWC tensor (a Conv's output):
# Split along C into [1, 3]; the 3-channel part sliced with W reversed
# (step -1) and every other row, the 1-channel part every other row from
# row 1; Concat puts them back in the other order.  Axes are remapped to
# the NHWC layout; the reference is NumPy's own slicing.
xs_ = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
ws_ = (rng.standard_normal((4, 2, 3, 3)) * 0.3).astype(np.float32)
bs_ = rng.standard_normal(4).astype(np.float32)
cs_ = conv2d_nchw(xs_.astype(np.float64), ws_, bs_, pad=1)
ys_ = np.concatenate([cs_[:, 1:4, 0:6:2, ::-1], cs_[:, 0:1, 1:6:2, :]], axis=1)
sl_inits = [numpy_helper.from_array(a, n) for a, n in
            ((ws_, "w"), (bs_, "b"), (np.array([1, 3], np.int64), "parts"),
             (np.array([5, 0], np.int64), "b_starts"), (np.array([-7, 6], np.int64), "b_ends"),
             (np.array([3, 2], np.int64), "b_axes"), (np.array([-1, 2], np.int64), "b_steps"),
             (np.array([1], np.int64), "a_starts"), (np.array([6], np.int64), "a_ends"),
             (np.array([-2], np.int64), "a_axes"), (np.array([2], np.int64), "a_steps"))]
sl_nodes = [
    helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
    helper.make_node("Split", ["c", "parts"], ["a", "bb"], axis=1, name="split"),
    helper.make_node("Slice", ["bb", "b_starts", "b_ends", "b_axes", "b_steps"], ["bs"], name="slice_b"),
    helper.make_node("Slice", ["a", "a_starts", "a_ends", "a_axes", "a_steps"], ["as"], name="slice_a"),
    helper.make_node("Concat", ["bs", "as"], ["y"], axis=1, name="cat"),
]
save(model(sl_nodes, [vi("x", [1, 2, 6, 6])], [vi("y", [1, 4, 3, 6])], sl_inits), "split_slice.onnx")
npy("split_slice.x.npy", xs_)
npy("split_slice.y.npy", ys_.astype(np.float32))

# Split errors: parts that do not add up to the axis, and equal parts that
# do not divide it (uneven parts need opset 18's num_outputs).
save(model([helper.make_node("Split", ["x", "parts"], ["a", "b"], axis=1, name="split_sum")],
           [vi("x", [2, 5])], [vi("a", [2, 2]), vi("b", [2, 3])],
           [numpy_helper.from_array(np.array([2, 2], np.int64), "parts")]), "split_sum.onnx")
save(model([helper.make_node("Split", ["x"], ["a", "b"], axis=-1, name="split_even")],
           [vi("x", [2, 5])], [vi("a", [2, 2]), vi("b", [2, 3])]), "split_even.onnx")
# Resize, Upsample and ConvTranspose errors (import-errors.test): one bad
# attribute or input each.
def f32c(name, vals):
    return numpy_helper.from_array(np.array(vals, np.float32), name)


def resize_err(fname, attrs, inputs, inits, out_shape=(1, 2, 8, 8), opset=13, op="Resize", check=True):
    save(model([helper.make_node(op, inputs, ["y"], name="rs", **attrs)], [vi("x", [1, 2, 4, 4])],
               [vi("y", list(out_shape))], inits, opset=opset, check=check), fname)


resize_err("resize_cubic.onnx", {"mode": "cubic"}, ["x", "", "s"], [f32c("s", [1, 1, 2, 2])])
resize_err("resize_channels.onnx", {}, ["x", "", "s"], [f32c("s", [1, 2, 2, 2])], (1, 4, 8, 8))
resize_err("resize_both.onnx", {}, ["x", "", "s", "z"],
           [f32c("s", [1, 1, 2, 2]), numpy_helper.from_array(np.array([1, 2, 8, 8], np.int64), "z")], check=False)
resize_err("resize_crop.onnx", {"coordinate_transformation_mode": "tf_crop_and_resize"}, ["x", "", "s"],
           [f32c("s", [1, 1, 2, 2])])
resize_err("resize_negative.onnx", {}, ["x", "", "s"], [f32c("s", [1, 1, -2, 2])], check=False)
save(model([helper.make_node("Resize", ["x", "", "s"], ["y"], name="rs")],
           [vi("x", [1, 2, 4, 4]), vi("s", [4])], [vi("y", [1, 2, 8, 8])]), "resize_runtime_scales.onnx")
resize_err("upsample_mixed.onnx", {"mode": "nearest"}, ["x", "s"], [f32c("s", [1, 1, 2, 0.5])], (1, 2, 8, 2),
           opset=9, op="Upsample")
ct_w = numpy_helper.from_array(np.ones((2, 3, 3, 3), np.float32), "w")
save(model([helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="ct", group=2)],
           [vi("x", [1, 2, 4, 4])], [vi("y", [1, 6, 6, 6])],
           [numpy_helper.from_array(np.ones((3, 3, 3, 3), np.float32), "w")], check=False),
     "convtranspose_group.onnx")
save(model([helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="ct", strides=[2, 2],
                             output_padding=[2, 0])],
           [vi("x", [1, 2, 4, 4])], [vi("y", [1, 3, 11, 9])], [ct_w], check=False), "convtranspose_outpad.onnx")

# ---------------------------------------------------------------- Gather, Expand, Tile, Cast

# Gather (runs of indices, a repeated index, a scalar and a 2-D index),
# Expand (same rank and growing rank), Tile (size-1 dims only, dims > 1,
# and all four dims, which takes two passes under the IR's rank limit) and
# a Cast to BOOL and back of two convolutions' (NHWC) results, every result
# flattened into one output.  The ops that work in any layout read conv
# c, which nothing needs in NCHW; those that change the rank read conv d.
# The reference is NumPy written from the ONNX operator specs.
gr = np.random.default_rng(77)
gx = gr.standard_normal((1, 3, 4, 4)).astype(np.float32)
gw = gr.standard_normal((8, 3, 1, 1)).astype(np.float32)
gc = np.einsum("nchw,oc->nohw", gx.astype(np.float64), gw[:, :, 0, 0].astype(np.float64))
gd = -gc
grelu = np.maximum(gc, 0)
gdrelu = np.maximum(gd, 0)
g_row0 = gc[:, :, 0:1, :]
g_ref = {
    "g1": gc[:, [7, 0, 1, 2, 5]],
    "grep": gc[:, :, :, [2, 2, 2, 1]],
    "g2": gdrelu[:, :, -1],
    "g2d": gd[:, :, [[0, 3], [1, 1]]],
    "ex": np.broadcast_to(g_row0, (2, 8, 3, 4)),
    "ex2": np.broadcast_to(gdrelu[:, :, -1], (2, 1, 8, 4)),
    "tl1": np.tile(g_row0, (2, 1, 3, 1)),
    "tl": np.tile(gdrelu, (1, 2, 1, 3)),
    "tl4": np.tile(gd.reshape(2, 4, 4, 4), (2, 2, 2, 2)),
    "cb": (grelu != 0).astype(np.float64),
}


def i64(name, v):
    return numpy_helper.from_array(np.array(v, np.int64), name)


g_nodes = [
    helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
    helper.make_node("Conv", ["x", "wn"], ["d"], name="conv_d"),
    helper.make_node("Relu", ["c"], ["r"], name="relu"),
    helper.make_node("Relu", ["d"], ["rd"], name="relu_d"),
    helper.make_node("Gather", ["c", "gi"], ["g1"], axis=1, name="gather_runs"),
    helper.make_node("Gather", ["c", "gr"], ["grep"], axis=-1, name="gather_repeat"),
    helper.make_node("Gather", ["rd", "gs"], ["g2"], axis=2, name="gather_scalar"),
    helper.make_node("Gather", ["d", "g2i"], ["g2d"], axis=2, name="gather_2d"),
    helper.make_node("Slice", ["c", "z1", "o1", "a2"], ["row0"], name="row0"),
    helper.make_node("Expand", ["row0", "es"], ["ex"], name="expand"),
    helper.make_node("Expand", ["g2", "es2"], ["ex2"], name="expand_rank"),
    helper.make_node("Tile", ["row0", "rep1"], ["tl1"], name="tile_ones"),
    helper.make_node("Tile", ["rd", "rep"], ["tl"], name="tile"),
    helper.make_node("Reshape", ["d", "s4"], ["c4"], name="c4"),
    helper.make_node("Tile", ["c4", "rep4"], ["tl4"], name="tile_all"),
    helper.make_node("Cast", ["r"], ["rb"], to=TensorProto.BOOL, name="to_bool"),
    helper.make_node("Cast", ["rb"], ["cb"], to=TensorProto.FLOAT, name="from_bool"),
]
flat = []
for k in g_ref:
    g_nodes.append(helper.make_node("Reshape", [k, "m1"], [k + "_f"], name=k + "_flat"))
    flat.append(k + "_f")
g_nodes.append(helper.make_node("Concat", flat, ["y"], axis=0, name="all"))
g_inits = [numpy_helper.from_array(gw, "w"), numpy_helper.from_array(-gw, "wn"), i64("gi", [7, 0, 1, 2, 5]), i64("gr", [2, 2, 2, -3]), i64("gs", -1),
           i64("g2i", [[0, 3], [1, -3]]), i64("z1", [0]), i64("o1", [1]), i64("a2", [2]),
           i64("es", [2, 1, 3, 1]), i64("es2", [2, 1, 1, 1]), i64("rep1", [2, 1, 3, 1]), i64("rep", [1, 2, 1, 3]),
           i64("s4", [2, 4, 4, 4]), i64("rep4", [2, 2, 2, 2]), i64("m1", [-1])]
g_y = np.concatenate([v.reshape(-1) for v in g_ref.values()]).astype(np.float32)
save(model(g_nodes, [vi("x", [1, 3, 4, 4])], [vi("y", [g_y.size])], g_inits), "gather_tile.onnx")
npy("gather_tile.x.npy", gx)
npy("gather_tile.y.npy", g_y)

# Cast of run-time tensors: FLOAT -> INT32 truncates toward zero; INT32 ->
# INT8 and UINT8 wrap (NumPy's astype, as C converts); back to FLOAT
# exactly.  A graph output of INT32 too.
cx = np.array([[2.9, -2.9, 100.5], [-0.5, 7.0, 250.7], [-300.2, 0.0, 1e4]], np.float32)
c32 = cx.astype(np.int32)
save(model([helper.make_node("Cast", ["x"], ["a"], to=TensorProto.INT32, name="to_i32"),
            helper.make_node("Cast", ["a"], ["b"], to=TensorProto.INT8, name="to_i8"),
            helper.make_node("Cast", ["b"], ["c"], to=TensorProto.FLOAT, name="i8_to_f32"),
            helper.make_node("Cast", ["a"], ["u"], to=TensorProto.UINT8, name="to_u8"),
            helper.make_node("Cast", ["u"], ["d"], to=TensorProto.FLOAT, name="u8_to_f32")],
           [vi("x", [3, 3])], [vi("a", [3, 3], TensorProto.INT32), vi("c", [3, 3]), vi("d", [3, 3])]),
     "cast_rt.onnx")
npy("cast_rt.x.npy", cx)
npy("cast_rt.a.npy", c32)
npy("cast_rt.c.npy", c32.astype(np.int8).astype(np.float32))
npy("cast_rt.d.npy", c32.astype(np.uint8).astype(np.float32))


# Their errors (import-errors.test).
def err_model(node, inputs, inits, name, opset=13):
    save(model([node], inputs, [vi(node.output[0], None)], inits, opset=opset, check=False), name)


err_model(helper.make_node("Gather", ["x", "i"], ["y"], axis=1, name="gather_range"),
          [vi("x", [2, 6])], [i64("i", [0, 6])], "gather_range.onnx")
err_model(helper.make_node("Gather", ["x", "i"], ["y"], axis=0, name="gather_rt"),
          [vi("x", [2, 6]), vi("i", [3], TensorProto.INT32)], [], "gather_rt.onnx")
err_model(helper.make_node("Tile", ["x", "r"], ["y"], name="tile_neg"),
          [vi("x", [2, 6])], [i64("r", [1, -2])], "tile_neg.onnx")
err_model(helper.make_node("Tile", ["x", "r"], ["y"], name="tile_len"),
          [vi("x", [2, 6])], [i64("r", [2])], "tile_len.onnx")
err_model(helper.make_node("Tile", ["x", "r"], ["y"], name="tile_rt"),
          [vi("x", [2, 6]), vi("r", [2], TensorProto.INT32)], [], "tile_rt.onnx")
err_model(helper.make_node("Expand", ["x", "s"], ["y"], name="expand_bad"),
          [vi("x", [2, 6])], [i64("s", [3, 6])], "expand_bad.onnx")
err_model(helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT64, name="cast_i64"),
          [vi("x", [2, 6])], [], "cast_i64.onnx")
err_model(helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT16, name="cast_f16"),
          [vi("x", [2, 6])], [], "cast_f16.onnx")

# Expand and Tile of tensors known at import time fold: an INT64 Tile
# feeds Reshape's shape (which must be known then), a FLOAT Expand an Add.
fx = np.arange(9, dtype=np.float32) - 4
fk = np.array([1.5, -2, 0.25], np.float32)
save(model([helper.make_node("Tile", ["s0", "rp"], ["s"], name="tile_shape"),
            helper.make_node("Reshape", ["x", "s"], ["xr"], name="reshape"),
            helper.make_node("Expand", ["k", "ks"], ["ke"], name="expand_const"),
            helper.make_node("Add", ["xr", "ke"], ["y"], name="add")],
           [vi("x", [9])], [vi("y", [1, 3, 1, 3])],
           [i64("s0", [1, 3]), i64("rp", [2]), numpy_helper.from_array(fk, "k"), i64("ks", [1, 1, 1, 3])]),
     "fold_expand_tile.onnx")
npy("fold_expand_tile.x.npy", fx)
npy("fold_expand_tile.y.npy", fx.reshape(np.tile(np.array([1, 3]), 2)) + np.broadcast_to(fk, (1, 1, 1, 3)))

# Gather, Tile and Expand between QuantizeLinear and DequantizeLinear move
# the int8 values and keep their scale and zero point.  NumPy: round half
# to even, saturate, move, dequantize.
qx = np.linspace(-7, 7, 12, dtype=np.float32).reshape(2, 6)
qs, qz = np.float32(0.05), np.int8(3)
qq = np.clip(np.rint(qx / qs) + qz, -128, 127).astype(np.int8)
qm = np.broadcast_to(np.tile(qq[:, [5, 4, 0, 0]], (2, 1)), (2, 4, 4))
save(model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="q"),
            helper.make_node("Gather", ["q", "gi"], ["g"], axis=1, name="gather"),
            helper.make_node("Tile", ["g", "rp"], ["t"], name="tile"),
            helper.make_node("Expand", ["t", "es"], ["e"], name="expand"),
            helper.make_node("DequantizeLinear", ["e", "s", "z"], ["y"], name="dq")],
           [vi("x", [2, 6])], [vi("y", [2, 4, 4])],
           [numpy_helper.from_array(np.array(qs), "s"), numpy_helper.from_array(np.array(qz), "z"),
            i64("gi", [5, 4, 0, 0]), i64("rp", [2, 1]), i64("es", [2, 1, 1])]), "q_gather.onnx")
npy("q_gather.x.npy", qx)
npy("q_gather.y.npy", ((qm.astype(np.int32) - qz) * qs).astype(np.float32))
