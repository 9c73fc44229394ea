"""gen_resize.py OUTDIR: single-node Resize, Upsample and ConvTranspose
models for the forms ONNX 1.12's node tests do not cover (Resize-10 and
Upsample-7 linear, opset-11 Resize with each coordinate transform and
nearest rounding on non-integer scales, ConvTranspose with groups,
dilations, output_padding and asymmetric pads), with one random input
each.  ONNX Runtime is the oracle (resize-convtranspose.test); writes
OUTDIR/NAME.onnx, OUTDIR/NAME.x.npy and prints the names.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)


def save(name, node, xshape, yshape, inits, opset):
    g = helper.make_graph([node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, xshape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, yshape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.save(m, os.path.join(out, name + ".onnx"))
    np.save(os.path.join(out, name + ".x.npy"), rng.normal(0, 2, xshape).astype(np.float32))
    print(name)


def f32(name, v):
    return numpy_helper.from_array(np.array(v, np.float32), name)


def i64(name, v):
    return numpy_helper.from_array(np.array(v, np.int64), name)


X = [1, 3, 5, 7]
# Resize-10 and Upsample: asymmetric; nearest truncates when enlarging.
save("resize10_nearest", helper.make_node("Resize", ["x", "s"], ["y"], mode="nearest"), X, None,
     [f32("s", [1, 1, 2.5, 1.5])], 10)
save("resize10_linear", helper.make_node("Resize", ["x", "s"], ["y"], mode="linear"), X, None,
     [f32("s", [1, 1, 0.6, 1.7])], 10)
save("upsample7_linear", helper.make_node("Upsample", ["x"], ["y"], mode="linear", scales=[1.0, 1.0, 2.0, 3.0]), X, None,
     [], 7)
save("upsample9_nearest", helper.make_node("Upsample", ["x", "s"], ["y"], mode="nearest"), X, None,
     [f32("s", [1, 1, 3, 2])], 9)
# Opset 11: every transform, linear and nearest, scales and sizes.
for ct in ["half_pixel", "asymmetric", "pytorch_half_pixel", "align_corners", "tf_half_pixel_for_nn"]:
    for nm in ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]:
        # align_corners with scales divides by in * scale - 1 in ONNX's
        # reference (qnnc) but by out - 1 in ORT; sizes make them agree.
        sz = ct == "align_corners"
        save("resize11_nearest_%s_%s" % (ct, nm),
             helper.make_node("Resize", ["x", "roi", "s"] + (["z"] if sz else []), ["y"], mode="nearest",
                              coordinate_transformation_mode=ct, nearest_mode=nm),
             X, None, [f32("roi", []), f32("s", [] if sz else [1, 1, 2.7, 0.75])] +
             ([i64("z", [1, 3, 13, 5])] if sz else []), 11)
    if ct != "tf_half_pixel_for_nn":
        save("resize11_linear_%s" % ct,
             helper.make_node("Resize", ["x", "roi", "s", "z"], ["y"], mode="linear",
                              coordinate_transformation_mode=ct),
             X, None, [f32("roi", []), f32("s", []), i64("z", [1, 3, 9, 4])], 11)
# The M-LSD form: opset 11, linear, half_pixel, sizes doubling H and W.
save("resize11_mlsd", helper.make_node("Resize", ["x", "roi", "s", "z"], ["y"], mode="linear",
                                       coordinate_transformation_mode="half_pixel", nearest_mode="floor"),
     X, None, [f32("roi", []), f32("s", []), i64("z", [1, 3, 10, 14])], 11)
# ConvTranspose.
w = rng.normal(0, 1, (4, 3, 3, 2)).astype(np.float32)
b = rng.normal(0, 1, (6,)).astype(np.float32)
XC = [1, 4, 5, 6]
save("convtranspose_groups", helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], group=2, strides=[2, 3],
                                              dilations=[2, 1], pads=[1, 0, 2, 3], output_padding=[1, 2]),
     XC, None, [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")], 13)
save("convtranspose_same_lower", helper.make_node("ConvTranspose", ["x", "w"], ["y"], auto_pad="SAME_LOWER",
                                                  strides=[2, 2]),
     XC, None, [numpy_helper.from_array(w[:, :, :, :], "w")], 13)
save("convtranspose_output_shape", helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[3, 2],
                                                    output_shape=[14, 12]),
     XC, None, [numpy_helper.from_array(w, "w")], 13)
save("convtranspose_1d", helper.make_node("ConvTranspose", ["x", "w1"], ["y"], strides=[3], pads=[2, 1]),
     [1, 4, 7], None, [numpy_helper.from_array(w[:, :, 0, :], "w1")], 13)
