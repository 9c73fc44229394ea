"""Writes kernels-conv.qir, kernels-dw.qir and kernels-dense.qir: shapes
that exercise the int8 kernels' remainders (channels not a multiple of
any vector width, output channels not a multiple of the register block,
pixel blocks that do not divide the image), padding, strides, dilation,
depthwise multipliers, u8 activations, per-channel quantization and
explicit tile attributes.  Deterministic: rerun to regenerate.

usage: gen_kernels.py OUTDIR
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(7)


def arr(a):
    return "[" + ", ".join(str(int(v)) for v in np.asarray(a).reshape(-1)) + "]"


def wq(o, per_channel, zps=None):
    if not per_channel:
        return "q(0.01, 0)"
    scales = ", ".join("{:.4g}".format(s) for s in rng.uniform(0.004, 0.02, o))
    zp = ", ".join(str(z) for z in (zps if zps is not None else [0] * o))
    return "q(axis=0, scales=[{}], zero_points=[{}])".format(scales, zp)


def i8(shape):
    return rng.integers(-128, 128, size=shape)


def conv_graph():
    lines = ["graph @kconv {",
             "  input %x : i8[1,9,11,37] q(0.05, -5)",
             "  input %xu : u8[1,6,7,70] q(0.04, 130)",
             "  input %xv : i8[2,6,6,32] q(0.03, 3)"]
    # General 3x3: padding, stride, dilation, per-channel, bias; tile given.
    lines.append("  const %w1 : i8[19,3,3,37] {} = {}".format(wq(19, True), arr(i8((19, 3, 3, 37)))))
    lines.append("  const %b1 : i32[19] = {}".format(arr(rng.integers(-3000, 3000, 19))))
    lines.append("  %y1 = conv2d(%x, %w1, %b1) {pads=[1, 2, 1, 0], strides=[2, 1], dilations=[1, 2], "
                 "rounding=tflite, tile=[5, 3, 32]} : i8[1,5,9,19] q(2.5, 1)")
    # Same weights, default tile, onnx rounding, a clamp.
    lines.append("  %y2 = conv2d(%x, %w1) {pads=[2, 2, 2, 2], rounding=onnx, act_min=0} : i8[1,11,13,19] q(2.0, -128)")
    # 1x1 on u8 activations (flip to i8 on sdot/smlad/vwmacc, native on vpdpbusd).
    lines.append("  const %w2 : i8[21,1,1,70] {} = {}".format(wq(21, False), arr(i8((21, 1, 1, 70)))))
    lines.append("  const %b2 : i32[21] = {}".format(arr(rng.integers(-9000, 9000, 21))))
    lines.append("  %y3 = conv2d(%xu, %w2, %b2) {rounding=onnx} : u8[1,6,7,21] q(0.6, 120)")
    # No padding at all (the correction folds into the bias), raw i32 out, batch 2.
    lines.append("  const %w3 : i8[10,3,3,32] {} = {}".format(wq(10, True), arr(i8((10, 3, 3, 32)))))
    lines.append("  %y4 = conv2d(%xv, %w3) {strides=[1, 2], tile=[7, 8, 16]} : i32[2,4,2,10]")
    lines += ["  output %y1", "  output %y2", "  output %y3", "  output %y4", "}"]
    return "\n".join(lines) + "\n"


def dw_graph():
    lines = ["graph @kdw {",
             "  input %x : i8[1,8,9,20] q(0.05, -7)",
             "  input %xu : u8[2,5,6,35] q(0.04, 140)",
             "  input %x16 : i8[1,8,9,16] q(0.05, 4)"]
    zps = rng.integers(-3, 4, 40)
    lines.append("  const %w1 : i8[40,3,3,1] {} = {}".format(wq(40, True, zps), arr(i8((40, 3, 3, 1)))))
    lines.append("  const %b1 : i32[40] = {}".format(arr(rng.integers(-2000, 2000, 40))))
    lines.append("  %y1 = conv2d(%x, %w1, %b1) {group=20, pads=[1, 1, 2, 0], strides=[2, 1], dilations=[1, 2], "
                 "rounding=tflite} : i8[1,5,6,40] q(0.9, 2)")
    lines.append("  const %w2 : u8[35,3,3,1] q(0.01, 128) = {}".format(arr(rng.integers(0, 256, (35, 3, 3, 1)))))
    lines.append("  %y2 = conv2d(%xu, %w2) {group=35, pads=[1, 1, 1, 1], rounding=onnx} : u8[2,5,6,35] q(0.5, 128)")
    # 5x5, exactly one vector of channels, raw i32 out.
    lines.append("  const %w3 : i8[16,5,5,1] {} = {}".format(wq(16, False), arr(i8((16, 5, 5, 1)))))
    lines.append("  %y3 = conv2d(%x16, %w3) {group=16, pads=[2, 2, 2, 2]} : i32[1,8,9,16]")
    lines += ["  output %y1", "  output %y2", "  output %y3", "}"]
    return "\n".join(lines) + "\n"


def dense_graph():
    lines = ["graph @kdense {",
             "  input %x : i8[3,100] q(0.05, 7)",
             "  input %xu : u8[2,200] q(0.04, 100)",
             "  input %xl : i8[5,300] q(0.02, -1)"]
    lines.append("  const %w1 : i8[45,100] {} = {}".format(wq(45, True), arr(i8((45, 100)))))
    lines.append("  const %b1 : i32[45] = {}".format(arr(rng.integers(-5000, 5000, 45))))
    lines.append("  %y1 = dense(%x, %w1, %b1) {rounding=tflite} : i8[3,45] q(1.2, -3)")
    lines.append("  const %w2 : i8[13,200] {} = {}".format(wq(13, False), arr(i8((13, 200)))))
    lines.append("  %y2 = dense(%xu, %w2) {rounding=onnx, tile=[1, 5, 64]} : u8[2,13] q(1.5, 128)")
    lines.append("  const %w3 : i8[33,300] {} = {}".format(wq(33, True), arr(i8((33, 300)))))
    lines.append("  %y3 = dense(%xl, %w3) {tile=[2, 4, 128]} : i32[5,33]")
    lines += ["  output %y1", "  output %y2", "  output %y3", "}"]
    return "\n".join(lines) + "\n"


def main():
    out = sys.argv[1]
    for name, text in [("kernels-conv.qir", conv_graph()), ("kernels-dw.qir", dw_graph()),
                       ("kernels-dense.qir", dense_graph())]:
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
