"""Writes the models of clip-runtime.test into DIR: Clip-13 with bounds
computed at run time, and the ones qnnc must refuse.

  gen_clip_runtime.py DIR

clip_rt.onnx, x f32[1,2,6,6] -> y1..y5 f32[1,3,6,6]: c = Conv(x) (held in
NHWC), lo = Cast(ReduceMax(c) - 2, FLOAT) (a scalar, as melspectrogram's
log-mel floor ReduceMax - 80 dB), hi = ReduceMin(c) + 3 of shape [1] and
  y1 = Clip(c, lo)          run-time min only
  y2 = Clip(c, lo, 1.5)     run-time min, constant max
  y3 = Clip(c, -0.5, hi)    constant min, run-time max
  y4 = Clip(c, lo, hi)      both at run time
  y5 = Clip(c, mx, mn)      min = ReduceMax(c) > max = ReduceMin(c): every
                            element becomes max (ONNX Clip-13)
DIR/x holds 8 inputs, DIR/calib 8 others.

Refused:
  clip_bad_rt     a run-time min of 3 elements
  clip_bad_const  a constant max of 2 elements
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(13)


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def init(a, name):
    return numpy_helper.from_array(np.asarray(a), name)


def save(nodes, inputs, outputs, inits, name):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + ".onnx"))


S = [1, 3, 6, 6]
wc = (rng.standard_normal((3, 2, 3, 3)) * 0.4).astype(np.float32)
nodes = [
    helper.make_node("Conv", ["x", "wc"], ["c"], pads=[1, 1, 1, 1], name="conv"),
    helper.make_node("ReduceMax", ["c"], ["mx"], keepdims=0, name="rmax"),
    helper.make_node("Sub", ["mx", "two"], ["mx2"], name="sub"),
    helper.make_node("Cast", ["mx2"], ["lo"], to=TensorProto.FLOAT, name="cast"),
    helper.make_node("ReduceMin", ["c"], ["mn"], keepdims=0, name="rmin"),
    helper.make_node("Add", ["mn", "three1"], ["hi"], name="add"),
    helper.make_node("Clip", ["c", "lo"], ["y1"], name="clip_lo"),
    helper.make_node("Clip", ["c", "lo", "c15"], ["y2"], name="clip_lo_c"),
    helper.make_node("Clip", ["c", "cm05", "hi"], ["y3"], name="clip_c_hi"),
    helper.make_node("Clip", ["c", "lo", "hi"], ["y4"], name="clip_lo_hi"),
    helper.make_node("Clip", ["c", "mx", "mn"], ["y5"], name="clip_crossed"),
]
save(nodes, [vi("x", [1, 2, 6, 6])], [vi("y%d" % k, S) for k in range(1, 6)],
     [init(wc, "wc"), init(np.float32(2), "two"), init(np.array([3], np.float32), "three1"),
      init(np.float32(1.5), "c15"), init(np.float32(-0.5), "cm05")], "clip_rt")
for part in ("x", "calib"):
    os.makedirs(os.path.join(OUT, part), exist_ok=True)
    for k in range(8):
        x = (rng.standard_normal((1, 2, 6, 6)) * rng.uniform(0.5, 2)).astype(np.float32)
        np.save(os.path.join(OUT, part, "%02d.npy" % k), x)

X = [vi("x", [1, 4])]
save([helper.make_node("Slice", ["x", "s0", "s3", "ax"], ["lo"], name="three"),
      helper.make_node("Clip", ["x", "lo"], ["y"], name="clip_bad_rt")], X, [vi("y", [1, 4])],
     [init(np.array([0], np.int64), "s0"), init(np.array([3], np.int64), "s3"),
      init(np.array([1], np.int64), "ax")], "clip_bad_rt")
save([helper.make_node("Clip", ["x", "", "hi"], ["y"], name="clip_bad_const")], X, [vi("y", [1, 4])],
     [init(np.array([1, 2], np.float32), "hi")], "clip_bad_const")
