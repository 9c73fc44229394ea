"""Writes kernels-conv.qir, kernels-dw.qir, kernels-dense.qir,
kernels-few.qir, kernels-matmul.qir, kernels-dw-rows.qir,
kernels-gemm.qir (conv_gemm's remainders), kernels-gemm-tiles.qir (its
tiles for few output vectors), kernels-stem.qir (its stems' paths),
kernels-onepix.qir (its one-pixel layers) and kernels-patch.qir
(conv_patch's): shapes
that exercise the int8 kernels' remainders (channels not a multiple of
any vector width, output channels not a multiple of the register block,
pixel blocks that do not divide the image), padding, strides, dilation,
depthwise multipliers, u8 activations, per-channel quantization and
explicit tile attributes; kernels-few.qir the convs with fewer input
channels than a dot step (kern_conv_few: 1, 2, 3 and 8 channels, 3x3,
5x5 and 7x7, odd reduction lengths, output channels that fill no whole
vector, u8 weights with a zero point); kernels-matmul.qir matmuls by a constant
(kern_conv as a dense layer of b transposed, and the forms that stay
generic).  Deterministic: rerun to regenerate; every file is this
script's output byte for byte (test/codegen/gen-kernels.test), so a new
case goes here, not into a .qir by hand.

usage: gen_kernels.py OUTDIR
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(7)


def arr(a):
    return "[" + ", ".join(str(int(v)) for v in np.asarray(a).reshape(-1)) + "]"


def wq(o, per_channel, zps=None, lo=0.004, hi=0.02):
    if not per_channel:
        return "q(0.01, 0)"
    scales = ", ".join("{:.4g}".format(s) for s in rng.uniform(lo, hi, o))
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
    # 5x5 stride 2 (dw_patch's window form as an asm group on Helium): 84
    # channels, 21 groups in two chunks of its 4 KiB window (12 + 9, the
    # last vector of the copy predicated), a block of 4 pixels and one of
    # 2; then u8 activations, one block.  Their own generator, so that the
    # graphs after this one keep their numbers.
    r2 = np.random.default_rng(15)
    lines[1:1] = ["  input %x84 : i8[1,9,11,84] q(0.05, -3)", "  input %xu8 : u8[1,6,9,8] q(0.04, 120)"]
    lines.append("  const %w4 : i8[84,5,5,1] q(0.01, 0) = {}".format(arr(r2.integers(-128, 128, (84, 5, 5, 1)))))
    lines.append("  const %b4 : i32[84] = {}".format(arr(r2.integers(-2000, 2000, 84))))
    lines.append("  %y4 = conv2d(%x84, %w4, %b4) {group=84, pads=[2, 2, 2, 2], strides=[2, 2], "
                 "rounding=tflite} : i8[1,5,6,84] q(0.6, -4)")
    lines.append("  const %w5 : i8[8,5,5,1] q(0.01, 0) = {}".format(arr(r2.integers(-128, 128, (8, 5, 5, 1)))))
    lines.append("  %y5 = conv2d(%xu8, %w5) {group=8, pads=[2, 2, 1, 1], strides=[2, 2], "
                 "rounding=tflite} : u8[1,3,4,8] q(0.3, 128)")
    lines += ["  output %y1", "  output %y2", "  output %y3", "  output %y4", "  output %y5", "}"]
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


def few_graph():
    # Its own generator, so that the other files stay as they were.
    r = np.random.default_rng(11)

    def w(o, kh, kw, c, per_channel):
        scales = "q(0.01, 0)" if not per_channel else "q(axis=0, scales=[{}], zero_points=[{}])".format(
            ", ".join("{:.4g}".format(s) for s in r.uniform(0.004, 0.02, o)), ", ".join(["0"] * o))
        return "i8[{},{},{},{}] {} = {}".format(o, kh, kw, c, scales, arr(r.integers(-128, 128, (o, kh, kw, c))))

    def b(o):
        return "i32[{}] = {}".format(o, arr(r.integers(-3000, 3000, o)))

    lines = ["graph @kfew {",
             "  input %x1 : i8[1,9,10,1] q(0.02, -128)",
             "  input %x2 : u8[1,8,7,2] q(0.03, 131)",
             "  input %x3 : i8[2,7,8,3] q(0.05, 5)",
             "  input %x8 : i8[1,6,6,8] q(0.04, -9)"]
    # 1 channel, 3x3, padding, 13 filters (no whole vector), per-channel,
    # act_min: the Fashion-MNIST stem's form.
    lines.append("  const %w1 : " + w(13, 3, 3, 1, True))
    lines.append("  const %b1 : " + b(13))
    lines.append("  %y1 = conv2d(%x1, %w1, %b1) {pads=[1, 1, 1, 1], rounding=tflite, act_min=0} : i8[1,9,10,13] q(0.3, -128)")
    # 1 channel, 5x5, stride 2, uneven padding, per-tensor, onnx rounding.
    lines.append("  const %w2 : " + w(6, 5, 5, 1, False))
    lines.append("  %y2 = conv2d(%x1, %w2) {pads=[2, 1, 2, 2], strides=[2, 2], rounding=onnx} : i8[1,5,5,6] q(0.4, 3)")
    # 2 channels on u8 activations, stride [2, 1], dilation, u8 out.
    lines.append("  const %w3 : " + w(19, 3, 3, 2, True))
    lines.append("  const %b3 : " + b(19))
    lines.append("  %y3 = conv2d(%x2, %w3, %b3) {pads=[0, 1, 1, 0], strides=[2, 1], dilations=[1, 2], "
                 "rounding=tflite} : u8[1,4,4,19] q(0.5, 120)")
    # 3 channels, 5x5, batch 2, raw i32 out.
    lines.append("  const %w4 : " + w(33, 5, 5, 3, True))
    lines.append("  %y4 = conv2d(%x3, %w4) {pads=[2, 2, 2, 2]} : i32[2,7,8,33]")
    # 3 channels, stride 2, no padding (every tap valid), u8 weights with
    # zero point 120.
    lines.append("  const %w5 : u8[16,3,3,3] q(0.01, 120) = {}".format(arr(r.integers(0, 256, (16, 3, 3, 3)))))
    lines.append("  %y5 = conv2d(%x3, %w5) {strides=[2, 2], rounding=tflite} : i8[2,3,3,16] q(0.6, -4)")
    # A 7x7 RGB stem: stride 2, padding 3 (reduction length 147).
    lines.append("  const %w6 : " + w(24, 7, 7, 3, True))
    lines.append("  const %b6 : " + b(24))
    lines.append("  %y6 = conv2d(%x3, %w6, %b6) {pads=[3, 3, 3, 3], strides=[2, 2], rounding=tflite} : i8[2,4,4,24] q(1.5, 0)")
    # 8 channels: few for 16-byte steps, a dot kernel for Cortex-M's 4.
    lines.append("  const %w7 : " + w(7, 3, 3, 8, True))
    lines.append("  const %b7 : " + b(7))
    lines.append("  %y7 = conv2d(%x8, %w7, %b7) {pads=[1, 1, 1, 1], rounding=tflite} : i8[1,6,6,7] q(0.8, 2)")
    lines += ["  output %y{}".format(i) for i in range(1, 8)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def matmul_graph():
    r = np.random.default_rng(13)

    def bq(n, per_channel, axis):
        if not per_channel:
            return "q(0.01, 0)"
        return "q(axis={}, scales=[{}], zero_points=[{}])".format(
            axis, ", ".join("{:.4g}".format(s) for s in r.uniform(0.004, 0.02, n)), ", ".join(["0"] * n))

    lines = ["graph @kmatmul {",
             "  input %a1 : i8[2,3,40] q(0.05, -3)",
             "  input %a2 : u8[5,70] q(0.04, 130)",
             "  input %a3 : i8[4,33] q(0.03, 2)",
             "  input %a4 : i8[2,3,16] q(0.05, 1)",
             "  input %a5 : i8[3,5] q(0.05, -1)"]
    # Batch dims on a, b per-axis along N, 19 columns (no whole block).
    lines.append("  const %b1 : i8[40,19] {} = {}".format(bq(19, True, 1), arr(r.integers(-128, 128, (40, 19)))))
    lines.append("  %y1 = matmul(%a1, %b1) {rounding=tflite} : i8[2,3,19] q(1.1, -5)")
    # u8 activations, b with a leading 1 (y gains it), per-tensor.
    lines.append("  const %b2 : i8[1,70,13] {} = {}".format(bq(13, False, 2), arr(r.integers(-128, 128, (1, 70, 13)))))
    lines.append("  %y2 = matmul(%a2, %b2) {rounding=onnx} : u8[1,5,13] q(1.5, 128)")
    # Raw i32 out and an explicit tile that divides nothing.
    lines.append("  const %b3 : i8[33,21] {} = {}".format(bq(21, True, 1), arr(r.integers(-128, 128, (33, 21)))))
    lines.append("  %y3 = matmul(%a3, %b3) {tile=[3, 5, 16]} : i32[4,21]")
    # Generic: b batched (two different matrices), b with a zero point, K
    # shorter than a step.
    lines.append("  const %b4 : i8[2,16,6] {} = {}".format(bq(6, True, 2), arr(r.integers(-128, 128, (2, 16, 6)))))
    lines.append("  %y4 = matmul(%a4, %b4) {rounding=tflite} : i8[2,3,6] q(0.7, 0)")
    lines.append("  const %b5 : u8[16,6] q(0.01, 120) = {}".format(arr(r.integers(0, 256, (16, 6)))))
    lines.append("  %y5 = matmul(%a4, %b5) {rounding=tflite} : i8[2,3,6] q(0.4, 0)")
    lines.append("  const %b6 : i8[5,7] {} = {}".format(bq(7, False, 1), arr(r.integers(-128, 128, (5, 7)))))
    lines.append("  %y6 = matmul(%a5, %b6) {rounding=tflite} : i8[3,7] q(0.2, 0)")
    # Both operands computed (kern_matmul_gemm, kernel_matmul.c: attention's
    # Q.K^T and P.V): zero points on both sides; M, K and N that no tile,
    # step or vector width divides; batch dims broadcast on either side;
    # i8 and u8 on each side; per-axis b with zero points; b's zero point 0
    # (no row sums); fewer columns than a vector; both roundings.
    lines[6:6] = ["  input %c1 : i8[2,3,13,21] q(0.05, -3)",
                  "  input %d1 : i8[3,21,37] q(0.04, 5)",
                  "  input %c2 : u8[1,7,18] q(0.03, 130)",
                  "  input %d2 : u8[2,18,16] q(0.05, 120)",
                  "  input %c3 : i8[5,23] q(0.04, 7)",
                  "  input %d3 : i8[23,19] q(axis=1, scales=[{}], zero_points=[{}])".format(
                      ", ".join("{:.4g}".format(s) for s in r.uniform(0.02, 0.06, 19)),
                      ", ".join(str(z) for z in r.integers(-20, 21, 19))),
                  "  input %c4 : u8[9,66] q(0.02, 100)",
                  "  input %d4 : i8[66,3] q(0.03, 0)",
                  "  input %c5 : i8[2,6,8] q(0.05, 0)",
                  "  input %d5 : u8[8,70] q(0.04, 128)"]
    lines.append("  %y7 = matmul(%c1, %d1) {rounding=tflite} : i8[2,3,13,37] q(0.9, -5)")
    lines.append("  %y8 = matmul(%c2, %d2) {rounding=onnx} : u8[2,7,16] q(0.6, 120)")
    lines.append("  %y9 = matmul(%c3, %d3) {rounding=tflite} : i8[5,19] q(0.8, 3)")
    lines.append("  %y10 = matmul(%c4, %d4) {rounding=tflite} : u8[9,3] q(0.5, 128)")
    lines.append("  %y11 = matmul(%c5, %d5) {rounding=onnx} : i8[2,6,70] q(0.6, -2)")
    lines += ["  output %y{}".format(i) for i in range(1, 12)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def dw_weights(r, name, wdt, c, kh, kw, zps):
    """A depthwise layer's weights %wNAME (C x KH x KW x 1, random from R):
    per-channel scales with zero points ZPS, or per-tensor when ZPS is None."""
    if zps is not None:
        wqs = "q(axis=0, scales=[{}], zero_points=[{}])".format(
            ", ".join("{:.4g}".format(v) for v in r.uniform(0.004, 0.02, c)), ", ".join(str(z) for z in zps))
    else:
        wqs = "q(0.01, {})".format(0 if wdt == "i8" else 128)
    lo, hi = (-128, 128) if wdt == "i8" else (0, 256)
    return "  const %w{} : {}[{},{},{},1] {} = {}".format(name, wdt, c, kh, kw, wqs,
                                                         arr(r.integers(lo, hi, (c, kh, kw, 1))))


def dw_rows_graph():
    """Depthwise shapes for kern_dw_rows (codegen/kernel_depthwise.c): channel
    counts that fill no whole vector of 4, 8 or 16 lanes (5, 20, 37), widths
    the 4-pixel block does not divide, stride 1 and 2, padding on every side
    (uneven), dilation, 1x7 / 5x5 kernels, u8 and i8, both roundings,
    per-channel and per-tensor stages, batch 2."""
    r = np.random.default_rng(13)

    def out(h, k, s, d, pb, pe):
        return (h + pb + pe - ((k - 1) * d + 1)) // s + 1

    def conv(name, x, xt, n, h, w, c, k, s, d, pads, yq, extra, wdt="i8", per_channel=True, bias=True, wzp0=False):
        kh, kw = k
        oh, ow = out(h, kh, s[0], d[0], pads[0], pads[2]), out(w, kw, s[1], d[1], pads[1], pads[3])
        zps = None
        if per_channel:
            zps = [0] * c if wzp0 else r.integers(-3, 4, c) if wdt == "i8" else [128] * c
        lines.append(dw_weights(r, name, wdt, c, kh, kw, zps))
        args = "%{}, %w{}".format(x, name)
        if bias:
            lines.append("  const %b{} : i32[{}] = {}".format(name, c, arr(r.integers(-3000, 3000, c))))
            args += ", %b" + name
        lines.append("  %y{} = conv2d({}) {{group={}, pads=[{}], strides=[{}, {}], dilations=[{}, {}]{}}} : {}[{},{},{},{}] {}"
                     .format(name, args, c, ", ".join(map(str, pads)), s[0], s[1], d[0], d[1], extra,
                             yq[0], n, oh, ow, c, yq[1]))
        outs.append("y" + name)

    lines = ["graph @kdwrows {",
             "  input %a : i8[1,9,11,20] q(0.05, -7)",
             "  input %b : u8[2,8,9,37] q(0.04, 131)",
             "  input %c : i8[1,7,7,5] q(0.06, 3)",
             "  input %d : i8[2,6,10,48] q(0.03, -128)",
             "  input %e : i8[1,5,13,24] q(0.05, 0)",
             "  input %f : i8[1,6,9,16] q(0.0625, 3)"]
    outs = []
    # Stride 2, uneven padding on all four sides, 20 channels (8 + 8 + 4; 16 + 4).
    conv("1", "a", "i8", 1, 9, 11, 20, (3, 3), (2, 2), (1, 1), [1, 2, 2, 1], ("i8", "q(0.9, 2)"), ", rounding=tflite")
    # Stride 1 with dilation 2, u8, 37 channels, onnx rounding, batch 2.
    conv("2", "b", "u8", 2, 8, 9, 37, (3, 3), (1, 1), (2, 2), [2, 2, 2, 2], ("u8", "q(0.5, 128)"),
         ", rounding=onnx", wdt="u8")
    # 5 channels (one vector of 4 and an overlapping tail), 5x5, stride 2, act_min.
    conv("3", "c", "i8", 1, 7, 7, 5, (5, 5), (2, 2), (1, 1), [2, 2, 2, 2], ("i8", "q(0.7, -5)"),
         ", rounding=tflite, act_min=-20")
    # No padding (every tap valid), per-tensor stage, batch 2, stride [1, 2].
    conv("4", "d", "i8", 2, 6, 10, 48, (3, 3), (1, 2), (1, 1), [0, 0, 0, 0], ("i8", "q(0.6, -1)"),
         ", rounding=tflite", per_channel=False, bias=False)
    # 1x7 and 7x1, padding only along the long side; per-tensor, onnx rounding.
    conv("5", "e", "i8", 1, 5, 13, 24, (1, 7), (1, 1), (1, 1), [0, 3, 0, 3], ("i8", "q(0.8, 4)"),
         ", rounding=onnx", per_channel=False)
    conv("6", "e", "i8", 1, 5, 13, 24, (7, 1), (1, 1), (1, 1), [3, 0, 3, 0], ("i8", "q(0.8, 4)"),
         ", rounding=tflite")
    # Stride 2 and dilation 2 together, 3x3.
    conv("7", "a", "i8", 1, 9, 11, 20, (3, 3), (2, 2), (2, 2), [2, 2, 1, 1], ("i8", "q(0.9, 2)"),
         ", rounding=onnx")
    lines += ["  // Power-of-two scales: multipliers of exactly 2^30 with right shifts of",
              "  // 2 and 1..3, so the output stage's roundings hit exact ties often."]
    p2 = np.random.default_rng(23)
    lines.append("  const %w8 : i8[16,3,3,1] q(0.015625, 0) = {}".format(arr(p2.integers(-3, 4, (16, 3, 3, 1)))))
    lines.append("  const %b8 : i32[16] = {}".format(arr(p2.integers(-40, 40, 16))))
    lines.append("  %y8 = conv2d(%f, %w8, %b8) {group=16, pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1], "
                 "rounding=tflite} : i8[1,6,9,16] q(0.0078125, -2)")
    scales = ", ".join(str(v) for v in p2.choice([0.0078125, 0.015625, 0.03125], 16))
    lines.append("  const %w9 : i8[16,3,3,1] q(axis=0, scales=[{}], zero_points=[{}]) = {}".format(
        scales, ", ".join(["0"] * 16), arr(p2.integers(-4, 5, (16, 3, 3, 1)))))
    lines.append("  const %b9 : i32[16] = {}".format(arr(p2.integers(-64, 64, 16))))
    lines.append("  %y9 = conv2d(%f, %w9, %b9) {group=16, pads=[1, 0, 1, 1], strides=[2, 2], dilations=[1, 1], "
                 "rounding=tflite} : i8[1,3,4,16] q(0.015625, 1)")
    outs += ["y8", "y9"]
    lines += ["  // Two output rows a pass (dw_channels4's slide: byte weights, 16 zmm",
              "  // lanes, 3 kernel rows, SH = DH): u8 with an odd row count, a channel",
              "  // tail and two single pixels (y10; y4, y7 and y8 take it too, y7 at",
              "  // SH = DH = 2); one row a pass at stride 2, i8 with a block of 8 and one",
              "  // pixel (y12).",
              "  input %h : u8[1,5,10,20] q(0.04, 131)",
              "  input %g : i8[1,7,17,16] q(0.05, 5)"]
    conv("10", "h", "u8", 1, 5, 10, 20, (3, 3), (1, 1), (1, 1), [1, 1, 1, 1], ("u8", "q(0.6, 120)"),
         ", rounding=tflite", per_channel=False)
    conv("12", "g", "i8", 1, 7, 17, 16, (3, 3), (2, 2), (1, 1), [1, 1, 1, 1], ("i8", "q(0.7, -3)"),
         ", rounding=tflite", wzp0=True)
    lines += ["  output %" + o for o in outs]
    lines.append("}")
    return "\n".join(lines) + "\n"


def layer_lines(r, cases):
    """The lines of CASES, each (name, op, input, weight dims, attrs,
    result): weights with per-channel scales, weights and biases drawn
    from R."""
    out = []
    for name, op, x, wd, attrs, res in cases:
        scales = ", ".join("{:.4g}".format(s) for s in r.uniform(0.004, 0.02, wd[0]))
        wqs = "q(axis=0, scales=[{}], zero_points=[{}])".format(scales, ", ".join(["0"] * wd[0]))
        out.append("  const %w{} : i8[{}] {} = {}".format(name, ",".join(map(str, wd)), wqs, arr(r.integers(-128, 128, wd))))
        out.append("  const %b{} : i32[{}] = {}".format(name, wd[0], arr(r.integers(-3000, 3000, wd[0]))))
        out.append("  %y{} = {}(%{}, %w{}, %b{}) {{{}}} : {}".format(name, op, x, name, name, attrs, res))
    return out


def gemm_graph():
    """conv_gemm's remainders (kernel_gemm.c): pixel tiles that do not
    divide the image, output vectors past a whole register block and a
    partial last vector, input channels not a multiple of 4 (and only 3),
    padding, strides, dilation, u8, batch 2, dense and matmul."""
    r = np.random.default_rng(17)

    def wq2(o, per_channel):
        if not per_channel:
            return "q(0.01, 0)"
        return "q(axis=0, scales=[{}], zero_points=[{}])".format(
            ", ".join("{:.4g}".format(s) for s in r.uniform(0.004, 0.02, o)), ", ".join(["0"] * o))

    def w(shape):
        return arr(r.integers(-128, 128, shape))

    lines = ["graph @kgemm {",
             "  input %xa : i8[1,7,9,5] q(0.05, -4)",
             "  input %xb : u8[2,5,5,64] q(0.04, 128)",
             "  input %xd : i8[13,48] q(0.05, 2)",
             "  input %xm : i8[2,7,20] q(0.05, -1)",
             "  input %xs : i8[1,8,8,3] q(0.03, 5)"]
    # 3x3 pad 1 on 5 channels (one whole group of 4 and 1 byte), 80
    # outputs (4 vectors of a block and 1 more), 63 pixels, a clamp.
    lines.append("  const %w1 : i8[80,3,3,5] {} = {}".format(wq2(80, True), w((80, 3, 3, 5))))
    lines.append("  const %b1 : i32[80] = {}".format(arr(r.integers(-3000, 3000, 80))))
    lines.append("  %y1 = conv2d(%xa, %w1, %b1) {pads=[1, 1, 1, 1], rounding=tflite, act_min=0} : i8[1,7,9,80] q(0.5, -20)")
    # Uneven padding, stride 2, dilation 2 down; 130 outputs (a partial
    # last vector after two blocks), per-tensor weights, onnx rounding.
    lines.append("  const %w2 : i8[130,3,3,5] {} = {}".format(wq2(130, False), w((130, 3, 3, 5))))
    lines.append("  %y2 = conv2d(%xa, %w2) {pads=[0, 1, 1, 0], strides=[2, 2], dilations=[2, 1], rounding=onnx} : i8[1,2,4,130] q(0.6, -7)")
    # 1x1 on u8, batch 2, 36 outputs (3 vectors, the last partial).
    lines.append("  const %w3 : i8[36,1,1,64] {} = {}".format(wq2(36, True), w((36, 1, 1, 64))))
    lines.append("  const %b3 : i32[36] = {}".format(arr(r.integers(-9000, 9000, 36))))
    lines.append("  %y3 = conv2d(%xb, %w3, %b3) {rounding=tflite} : u8[2,5,5,36] q(0.8, 100)")
    # Dense 13 rows x 48 -> 33, matmul [2,7,20] x [20,17].
    lines.append("  const %w4 : i8[33,48] {} = {}".format(wq2(33, True), w((33, 48))))
    lines.append("  %y4 = dense(%xd, %w4) {rounding=tflite} : i8[13,33] q(0.7, 0)")
    lines.append("  const %w5 : i8[20,17] q(0.01, 0) = {}".format(w((20, 17))))
    lines.append("  %y5 = matmul(%xm, %w5) {rounding=onnx} : i8[2,7,17] q(0.4, 3)")
    # A 3-channel stem: 3x3 stride 2 pad 1, 24 outputs.
    lines.append("  const %w6 : i8[24,3,3,3] {} = {}".format(wq2(24, True), w((24, 3, 3, 3))))
    lines.append("  %y6 = conv2d(%xs, %w6) {pads=[1, 1, 1, 1], strides=[2, 2], rounding=tflite} : i8[1,4,4,24] q(0.3, 0)")
    # Narrow outputs (a narrower vector, or fewer channels than the
    # narrowest one): 8, 3, 12 and 1 output channels on 8 input channels.
    lines.insert(6, "  input %xe : i8[1,6,7,8] q(0.05, 3)")
    def odim(n, k, p0, p1, st, dl):
        return (n + p0 + p1 - ((k - 1) * dl + 1)) // st + 1

    for i, (o, k, pads, st, dl) in enumerate([(8, 3, [1, 1, 1, 1], [1, 1], [1, 1]), (3, 3, [1, 0, 0, 1], [2, 1], [1, 1]),
                                              (12, 3, [1, 1, 1, 1], [1, 1], [2, 1]), (1, 1, [0, 0, 0, 0], [1, 1], [1, 1])]):
        name = 7 + i
        oh, ow = odim(6, k, pads[0], pads[2], st[0], dl[0]), odim(7, k, pads[1], pads[3], st[1], dl[1])
        lines.append("  const %w{} : i8[{},{},{},8] {} = {}".format(name, o, k, k, wq2(o, o != 3), w((o, k, k, 8))))
        lines.append("  %y{} = conv2d(%xe, %w{}) {{pads={}, strides={}, dilations={}, rounding=tflite}} : "
                     "i8[1,{},{},{}] q(0.4, -9)".format(name, name, pads, st, dl, oh, ow, o))
    # Stems (kernel rows packed into the reduction): 1 to 4 input
    # channels, strides, uneven padding, dilation both ways, u8, batch 2.
    stems = [  # (input, conv attrs, kernel, output dims)
        ("i8[2,9,11,1] q(0.03, -7)", "pads=[1, 1, 1, 1]", 3, 8, "2,9,11"),
        ("i8[1,9,11,1] q(0.03, 11)", "pads=[2, 1, 2, 2], strides=[2, 2]", 5, 16, "1,5,5"),
        ("i8[1,8,9,2] q(0.02, 0)", "pads=[1, 2, 1, 2], dilations=[1, 2]", 3, 4, "1,8,9"),
        ("u8[1,8,9,2] q(0.02, 120)", "pads=[2, 1, 2, 1], dilations=[2, 1], strides=[1, 2]", 3, 12, "1,8,5"),
        ("i8[1,12,12,3] q(0.04, 6)", "pads=[3, 3, 3, 3], strides=[2, 2]", 7, 8, "1,6,6"),
        ("i8[1,7,7,4] q(0.04, -2)", "pads=[1, 1, 1, 1]", 3, 3, "1,7,7"),
    ]
    for i, (xt, attrs, k, o, od) in enumerate(stems):
        name = 11 + i
        c = int(xt.split("]")[0].split(",")[-1])
        lines.insert(7 + i, "  input %xs{} : {}".format(i, xt))
        lines.append("  const %w{} : i8[{},{},{},{}] {} = {}".format(name, o, k, k, c, wq2(o, i % 2 == 0),
                                                                     w((o, k, k, c))))
        lines.append("  const %b{} : i32[{}] = {}".format(name, o, arr(r.integers(-3000, 3000, o))))
        yq = "u8" if xt.startswith("u8") else "i8"
        lines.append("  %y{} = conv2d(%xs{}, %w{}, %b{}) {{{}, rounding=onnx}} : {}[{},{}] q(0.3, 4)".format(
            name, i, name, name, attrs, yq, od, o))
    # The row form (KGemm.rows, x86 zmm): tiles whose every tap falls
    # inside the image, C a multiple of 4, one pixel a vector: a 3x3 pad 1
    # on 8 channels (17 outputs: a partial second vector) and M-LSD tiny's
    # stem, 4 channels, stride 2, pads [0, 0, 1, 1] (TensorFlow's SAME).
    lines.insert(7 + len(stems), "  input %xr : i8[1,8,14,8] q(0.05, -3)")
    lines.insert(8 + len(stems), "  input %xr2 : i8[1,16,28,4] q(0.0078, 0)")
    lines.append("  const %w17 : i8[17,3,3,8] {} = {}".format(wq2(17, True), w((17, 3, 3, 8))))
    lines.append("  const %b17 : i32[17] = {}".format(arr(r.integers(-3000, 3000, 17))))
    lines.append("  %y17 = conv2d(%xr, %w17, %b17) {pads=[1, 1, 1, 1], rounding=tflite} : i8[1,8,14,17] q(0.4, -9)")
    lines.append("  const %w18 : i8[32,3,3,4] {} = {}".format(wq2(32, True), w((32, 3, 3, 4))))
    lines.append("  const %b18 : i32[32] = {}".format(arr(r.integers(-3000, 3000, 32))))
    lines.append("  %y18 = conv2d(%xr2, %w18, %b18) {strides=[2, 2], pads=[0, 0, 1, 1], rounding=tflite, act_min=0, "
                 "act_max=6} : i8[1,8,14,32] q(0.03, -128)")
    # Short reductions (session 11: packed stores of 2 or 4 whole vectors,
    # 1x1 addressing at p*C, 4-channel stems from a flipped row copy):
    # 1x1 convs with 96, 56 and 40 outputs (packs of 4 and 2, a partial
    # vector of 8 lanes), u8 in and out, C = 10, 1x1 at stride 2 and with
    # padding, a dense 7x20 -> 64 on u8; 4-channel stems 3x3 pad 1 (20
    # outputs) and 5x5 stride 2 on u8, and one dilated along W (per tap).
    short_inputs = ["  input %xc1 : i8[1,5,7,16] q(0.05, -3)", "  input %xc2 : u8[1,3,5,24] q(0.04, 120)",
                    "  input %xc3 : i8[1,4,6,10] q(0.05, 5)", "  input %xd2 : i8[7,20] q(0.05, 2)",
                    "  input %xf1 : i8[1,9,10,4] q(0.04, -6)", "  input %xf2 : u8[1,7,11,4] q(0.03, 130)"]
    for i, line in enumerate(short_inputs):
        lines.insert(9 + len(stems) + i, line)
    short = [  # (name, op, input, weight dims, attrs, result)
        (19, "conv2d", "xc1", (96, 1, 1, 16), "rounding=tflite", "i8[1,5,7,96] q(0.14, 2)"),
        (20, "conv2d", "xc2", (56, 1, 1, 24), "rounding=onnx", "u8[1,3,5,56] q(0.1372, 128)"),
        (21, "conv2d", "xc3", (40, 1, 1, 10), "rounding=tflite", "i8[1,4,6,40] q(0.1107, -5)"),
        (22, "conv2d", "xc1", (64, 1, 1, 16), "strides=[2, 2], rounding=onnx", "i8[1,3,4,64] q(0.14, 0)"),
        (23, "conv2d", "xc3", (48, 1, 1, 10), "pads=[1, 1, 1, 1], rounding=tflite", "i8[1,6,8,48] q(0.1107, 1)"),
        (24, "dense", "xd2", (64, 20), "rounding=tflite", "u8[7,64] q(0.1565, 100)"),
        (25, "conv2d", "xf1", (20, 3, 3, 4), "pads=[1, 1, 1, 1], rounding=tflite", "i8[1,9,10,20] q(0.168, 3)"),
        (26, "conv2d", "xf2", (16, 5, 5, 4), "pads=[2, 2, 2, 2], strides=[2, 2], rounding=onnx",
         "u8[1,4,6,16] q(0.21, 110)"),
        (27, "conv2d", "xf1", (32, 3, 3, 4), "pads=[1, 2, 1, 2], dilations=[1, 2], rounding=tflite",
         "i8[1,9,10,32] q(0.168, -1)"),
        # The stage ending in the packs (session 12, KNarrow): a ReLU6 on
        # the full i8 range with zero point -128 (no clamp, the u8 pack and
        # an xor, one bias for both signs: M-LSD's expand convs; 96
        # outputs, packs of 4 and 2); u8 with zero point 128 (the i8 pack
        # and an xor), no ReLU (two biases); a clamp inside the i8 range
        # (byte max and min) with a zero point added in 16 bits and a
        # partial vector; u8 with a clamp inside [0, 255] (unsigned byte
        # max and min), a pack of 4 and a whole vector alone; a dense
        # layer clamped at the top only, zero point -128.
        (28, "conv2d", "xc1", (96, 1, 1, 16), "rounding=tflite, act_min=0, act_max=6", "i8[1,5,7,96] q(0.02353, -128)"),
        (29, "conv2d", "xc2", (64, 1, 1, 24), "rounding=tflite", "u8[1,3,5,64] q(0.1372, 128)"),
        (30, "conv2d", "xc1", (40, 1, 1, 16), "rounding=tflite, act_min=0, act_max=2", "i8[1,5,7,40] q(0.02353, -20)"),
        (31, "conv2d", "xc3", (80, 1, 1, 10), "rounding=tflite, act_min=0, act_max=3", "u8[1,4,6,80] q(0.03, 10)"),
        (32, "dense", "xd2", (64, 20), "rounding=tflite, act_min=0, act_max=1", "i8[7,64] q(0.02353, -128)"),
    ]
    lines += layer_lines(r, short)
    # One pixel (session 12: KGemm.ks sets of accumulators, each taking
    # every ks-th group of 4 bytes): dense 200 -> 100 (a loop of steps, 2
    # groups left, a block and a partial tile), 70 -> 40 on u8 in and out
    # (17 groups and 2 bytes), 6 -> 40 (fewer groups than a step: one
    # set); squeeze-excite 1x1s on 1x1 images, batch 2 on u8; a 3x1 conv
    # down to one pixel (taps as kernel rows) and a 3x3 pad 1 on a 1x1
    # image (taps in the padding, 3 groups: 3 sets).
    one_inputs = ["  input %xo1 : i8[1,200] q(0.05, -3)", "  input %xo2 : u8[1,70] q(0.04, 125)",
                  "  input %xo3 : i8[1,6] q(0.05, 7)", "  input %xo4 : i8[1,1,1,96] q(0.05, -128)",
                  "  input %xo5 : u8[2,1,1,64] q(0.03, 128)", "  input %xo6 : i8[1,3,1,36] q(0.05, 2)",
                  "  input %xo7 : i8[1,1,1,12] q(0.05, -9)"]
    at = max(i for i, line in enumerate(lines) if line.startswith("  input ")) + 1
    lines[at:at] = one_inputs
    one = [  # (name, op, input, weight dims, attrs, result)
        (33, "dense", "xo1", (100, 200), "rounding=tflite, act_min=0", "i8[1,100] q(0.8, -128)"),
        (34, "dense", "xo2", (40, 70), "rounding=onnx", "u8[1,40] q(0.35, 128)"),
        (35, "dense", "xo3", (40, 6), "rounding=tflite", "i8[1,40] q(0.13, -2)"),
        (36, "conv2d", "xo4", (24, 1, 1, 96), "rounding=tflite", "i8[1,1,1,24] q(0.5, 5)"),
        (37, "conv2d", "xo5", (40, 1, 1, 64), "rounding=onnx", "u8[2,1,1,40] q(0.25, 120)"),
        (38, "conv2d", "xo6", (48, 3, 1, 36), "rounding=tflite", "i8[1,1,1,48] q(0.55, 0)"),
        (39, "conv2d", "xo7", (32, 3, 3, 12), "pads=[1, 1, 1, 1], rounding=tflite", "i8[1,1,1,32] q(0.18, 3)"),
    ]
    lines += layer_lines(r, one)
    lines += ["  output %y{}".format(i) for i in range(1, 40)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def patch_graph():
    """Cortex-M55's conv_patch (codegen/arm/conv_mve.c) edges: direct
    patches (1x1 strided, 1x3, dense) with a masked last step, im2col with
    padding, u8 activations and results, pixel counts and output channels
    that leave partial tiles, and TFLite stages with left shifts, with no
    shift and with right shifts mixed across channels."""
    lines = ["graph @kpatch {",
             "  input %xa : i8[1,5,7,20] q(0.05, 3)",
             "  input %xb : u8[1,4,5,8] q(0.04, 120)",
             "  input %xd : u8[3,17] q(0.04, 128)",
             "  input %xe : u8[1,3,3,68] q(0.03, 131)",
             "  input %xf : i8[2,12] q(0.05, -4)",
             "  input %xg : i8[1,32,32,16] q(0.04, 2)",
             "  input %xh : i8[1,2,2,256] q(0.03, -5)"]
    # Weights in -1..1 keep most outputs of multipliers near 0.5 off the clamp.
    lines.append("  const %w1 : i8[7,1,1,20] {} = {}".format(wq(7, True), arr(rng.integers(-1, 2, (7, 1, 1, 20)))))
    lines.append("  const %b1 : i32[7] = {}".format(arr(rng.integers(-100, 100, 7))))
    # m = 0.05 * scale / 0.0013 (scales 0.011 .. 0.019 here): right shifts and none.
    lines.append("  %y1 = conv2d(%xa, %w1, %b1) {strides=[2, 2], rounding=tflite} : i8[1,3,4,7] q(0.0013, -2)")
    lines.append("  const %w2 : i8[6,1,3,20] {} = {}".format(wq(6, False), arr(i8((6, 1, 3, 20)))))
    # m = 0.05 * 0.01 / 0.0003: a left shift.
    lines.append("  %y2 = conv2d(%xa, %w2) {rounding=tflite} : i8[1,5,5,6] q(0.0003, 5)")
    lines.append("  const %w3 : i8[5,3,3,8] {} = {}".format(wq(5, True), arr(i8((5, 3, 3, 8)))))
    lines.append("  %y3 = conv2d(%xb, %w3) {pads=[1, 1, 1, 1], rounding=tflite} : u8[1,4,5,5] q(0.05, 100)")
    lines.append("  const %w4 : i8[9,17] {} = {}".format(wq(9, True), arr(i8((9, 17)))))
    lines.append("  const %b4 : i32[9] = {}".format(arr(rng.integers(-900, 900, 9))))
    lines.append("  %y4 = dense(%xd, %w4, %b4) {rounding=tflite, act_min=0} : i8[3,9] q(0.01, -10)")
    # conv_patch_1x4_dsp's last 4-byte step: a strided direct 1x1 on u8, C = 68.
    lines.append("  const %w5 : i8[5,1,1,68] {} = {}".format(wq(5, True), arr(i8((5, 1, 1, 68)))))
    lines.append("  const %b5 : i32[5] = {}".format(arr(rng.integers(-3000, 3000, 5))))
    lines.append("  %y5 = conv2d(%xe, %w5, %b5) {strides=[2, 2], rounding=tflite} : i8[1,2,2,5] q(0.02, -7)")
    # A dense on 12 inputs (direct patches from 8 bytes).
    lines.append("  const %w6 : i8[16,12] {} = {}".format(wq(16, True), arr(i8((16, 12)))))
    lines.append("  const %b6 : i32[16] = {}".format(arr(rng.integers(-3000, 3000, 16))))
    lines.append("  %y6 = dense(%xf, %w6, %b6) {rounding=tflite} : i8[2,16] q(0.06, 3)")
    # A padded 3x3 on 32x32x16 (2x4 asm tiles: the loop's flags clobber) and
    # a 1x1 on 256 channels (2x3 tiles).
    lines.append("  const %w7 : i8[8,3,3,16] {} = {}".format(wq(8, True, lo=0.002, hi=0.01), arr(i8((8, 3, 3, 16)))))
    lines.append("  %y7 = conv2d(%xg, %w7) {pads=[1, 1, 1, 1], rounding=tflite} : i8[1,32,32,8] q(0.05, 1)")
    lines.append("  const %w8 : i8[6,1,1,256] {} = {}".format(wq(6, True, lo=0.002, hi=0.01), arr(i8((6, 1, 1, 256)))))
    lines.append("  %y8 = conv2d(%xh, %w8) {rounding=tflite} : i8[1,2,2,6] q(0.06, -2)")
    lines += ["  output %y" + str(i) for i in range(1, 9)] + ["}"]
    return "\n".join(lines) + "\n"


def stem_graph():
    """conv_gemm's stem paths (kernel_gemm.c, session 12): rows copied
    into the band in vectors (rows of 70 bytes: a whole zmm vector and an
    overlapping last one; 13, 18 and 28 bytes: pieces of 2^i bytes; 130:
    a loop of vectors), flipped (i8 on x86, u8 on RV32) or not; a small
    image's band filled once (padding on each side, bottom rows no tap
    reads, a vertical dilation, batch 2) and a large one's (over 16 KiB)
    per output row; 2 and 4 pixels a vector gathered from one 16-byte
    load (C = 1, 2, 3, strides 1 and 2, tiles that leave a short last
    row), and beside them 4 pixels a vector too far apart for it; 24 and
    40 outputs (an odd number of half zmm vectors: 2 pixels a vector, 3
    vectors, and 5 past a block of 4)."""
    r = np.random.default_rng(23)

    def odim(n, k, p0, p1, st, dl):
        return (n + p0 + p1 - ((k - 1) * dl + 1)) // st + 1

    cases = [  # (input dims, dtype, zero point, outputs, k, pads [t, l, b, r], strides, dilations)
        ((1, 5, 70, 1), "i8", -7, 16, 3, [1, 1, 1, 1], [1, 1], [1, 1]),
        ((1, 6, 13, 1), "u8", 130, 8, 3, [1, 0, 2, 1], [1, 1], [1, 1]),
        ((1, 6, 13, 1), "i8", 9, 8, 3, [0, 2, 1, 0], [1, 1], [1, 1]),
        ((1, 7, 9, 2), "i8", -3, 4, 3, [1, 1, 1, 1], [1, 1], [1, 1]),
        ((1, 9, 11, 3), "i8", 4, 6, 3, [1, 1, 1, 1], [2, 2], [1, 1]),
        ((1, 12, 15, 1), "u8", 120, 4, 5, [2, 2, 0, 1], [2, 2], [1, 1]),
        ((2, 9, 130, 1), "i8", 0, 20, 3, [1, 1, 1, 1], [1, 1], [2, 1]),
        ((1, 130, 129, 1), "i8", -12, 8, 3, [1, 1, 1, 1], [1, 1], [1, 1]),
        ((1, 8, 7, 4), "u8", 128, 12, 3, [1, 1, 1, 1], [1, 1], [1, 1]),
        ((1, 70, 66, 4), "u8", 110, 16, 3, [0, 0, 1, 1], [2, 2], [1, 1]),
        ((1, 8, 9, 3), "i8", -5, 4, 3, [1, 1, 1, 1], [1, 2], [1, 1]),
        ((1, 10, 32, 1), "i8", -128, 24, 3, [0, 1, 0, 1], [1, 1], [1, 1]),
        ((1, 9, 17, 2), "u8", 100, 40, 3, [1, 1, 1, 1], [2, 2], [1, 1]),
        # Whole rows packed 4 or 2 a store (session 13): 16 outputs, 23
        # pixels a row (rows of 4 and 2, a last tile of 4 and 1), a ReLU
        # on i8 with zero point -128 (the packs' xor); 16 on u8, stride 2,
        # a clamp inside [0, 255], zero point 10; 24 outputs (one row of 3
        # vectors, 2 pixels: the dword permute) on 11 pixels a row (the
        # last row half full), onnx, batch 2; 24 on 2 channels of u8 with
        # a ReLU; 8 outputs (2 pixels a vector) with a ReLU, 9 pixels a
        # row; beside them two convs that are no stems (8 and 12 input
        # channels) with 16 and 8 outputs, which pack rows alike.
        ((1, 6, 23, 1), "i8", -128, 16, 3, [1, 1, 1, 1], [1, 1], [1, 1], ("tflite", ", act_min=0", "i8", 0.05, -128)),
        ((1, 5, 19, 1), "u8", 128, 16, 3, [1, 1, 1, 1], [2, 2], [1, 1],
         ("tflite", ", act_min=0, act_max=3", "u8", 0.03, 10)),
        ((2, 7, 11, 1), "i8", 3, 24, 3, [1, 0, 1, 2], [1, 1], [1, 1], ("onnx", "", "i8", 0.1, -4)),
        ((1, 5, 14, 2), "u8", 100, 24, 3, [1, 1, 1, 1], [1, 1], [1, 1], ("tflite", ", act_min=0", "i8", 0.05, -128)),
        ((1, 4, 9, 1), "i8", -20, 8, 3, [1, 1, 1, 1], [1, 1], [1, 1], ("tflite", ", act_min=0", "i8", 0.05, -128)),
        ((1, 5, 9, 8), "i8", 2, 16, 3, [1, 1, 1, 1], [1, 1], [1, 1], ("tflite", ", act_min=0", "i8", 0.1, -128)),
        ((1, 5, 7, 12), "i8", -1, 8, 1, [0, 0, 0, 0], [1, 1], [1, 1], ("tflite", "", "i8", 0.1, 3)),
    ]
    lines = ["graph @kstem {"]
    for i, (xd, dt, zx) in enumerate(cs[:3] for cs in cases):
        lines.append("  input %x{} : {}[{}] q(0.03, {})".format(i, dt, ",".join(map(str, xd)), zx))
    for i, (xd, dt, zx, o, k, pads, st, dl, *more) in enumerate(cases):
        n, h, w, c = xd
        oh, ow = odim(h, k, pads[0], pads[2], st[0], dl[0]), odim(w, k, pads[1], pads[3], st[1], dl[1])
        scales = ", ".join("{:.4g}".format(v) for v in r.uniform(0.004, 0.02, o))
        lines.append("  const %w{} : i8[{},{},{},{}] q(axis=0, scales=[{}], zero_points=[{}]) = {}".format(
            i, o, k, k, c, scales, ", ".join(["0"] * o), arr(r.integers(-128, 128, (o, k, k, c)))))
        lines.append("  const %b{} : i32[{}] = {}".format(i, o, arr(r.integers(-3000, 3000, o))))
        rnd, act, yt, ys, yz = more[0] if more else ("tflite" if i % 2 else "onnx", "", dt, 0.1,
                                                     -4 if dt == "i8" else 125)
        lines.append("  %y{} = conv2d(%x{}, %w{}, %b{}) {{pads={}, strides={}, dilations={}, rounding={}{}}} : "
                     "{}[{},{},{},{}] q({}, {})".format(i, i, i, i, pads, st, dl, rnd, act, yt, n, oh, ow, o, ys, yz))
    lines += ["  output %y{}".format(i) for i in range(len(cases))] + ["}"]
    return "\n".join(lines) + "\n"


def one_pixel_graph():
    """conv_gemm's layers of one pixel with their weights in tile order
    (kernel_gemm.c, session 13: [OV/NV][T][C4][NV][L], one stream): whole
    tiles in a loop and a smaller last one, a partial last vector in it,
    exactly whole tiles, one tile and a few vectors over, batch 2, u8 in
    and out, taps of a 3x1 conv and of a 3x3 one whose taps but the
    centre lie in the padding."""
    r = np.random.default_rng(31)
    cases = [  # (name, op, input, weight dims, attrs, result)
        ("1", "dense", "i8[1,40] q(0.05, -3)", (300, 40), "rounding=tflite, act_min=0", "i8[1,300] q(0.4, -128)"),
        ("2", "dense", "u8[1,200] q(0.04, 125)", (256, 200), "rounding=onnx", "u8[1,256] q(0.9, 120)"),
        ("3", "dense", "i8[1,100] q(0.05, 4)", (200, 100), "rounding=tflite", "i8[1,200] q(0.6, 2)"),
        ("4", "conv2d", "i8[1,3,1,20] q(0.05, -1)", (160, 3, 1, 20), "rounding=tflite", "i8[1,1,1,160] q(0.5, -7)"),
        ("5", "conv2d", "u8[2,1,1,48] q(0.03, 128)", (136, 1, 1, 48), "rounding=onnx", "u8[2,1,1,136] q(0.25, 128)"),
        ("6", "conv2d", "i8[1,1,1,12] q(0.05, 9)", (130, 3, 3, 12), "pads=[1, 1, 1, 1], rounding=tflite, act_min=0",
         "i8[1,1,1,130] q(0.2, -128)"),
    ]
    lines = ["graph @konepix {"]
    for name, _op, xt, _wd, _a, _res in cases:
        lines.append("  input %x{} : {}".format(name, xt))
    for name, op, _xt, wd, attrs, res in cases:
        scales = ", ".join("{:.4g}".format(v) for v in r.uniform(0.004, 0.02, wd[0]))
        lines.append("  const %w{} : i8[{}] q(axis=0, scales=[{}], zero_points=[{}]) = {}".format(
            name, ",".join(map(str, wd)), scales, ", ".join(["0"] * wd[0]), arr(r.integers(-128, 128, wd))))
        lines.append("  const %b{} : i32[{}] = {}".format(name, wd[0], arr(r.integers(-3000, 3000, wd[0]))))
        lines.append("  %y{} = {}(%x{}, %w{}, %b{}) {{{}}} : {}".format(name, op, name, name, name, attrs, res))
    lines += ["  output %y{}".format(c[0]) for c in cases] + ["}"]
    return "\n".join(lines) + "\n"


def dw_inside_graph():
    """kern_dw_rows's inside blocks (codegen/kernel_depthwise.c: the
    row passes and blocks whose taps all lie in the image take constant
    column offsets, the others the checked pointers): images wide and tall
    enough for inside blocks between checked ones on both sides and edge
    passes at the top and bottom; padding on every side (uneven), none,
    stride 2 on odd heights and widths, dilation 2, an odd row count (the
    last row alone after passes of two), batch 2, u8 and i8, 3x3 and 5x5,
    channel counts with remainders for 4, 8, 16 and 32 lanes."""
    r = np.random.default_rng(29)
    lines = ["graph @kdwinside {",
             "  input %a : i8[2,13,37,48] q(0.05, -6)",
             "  input %b : u8[1,12,29,40] q(0.04, 125)",
             "  input %c : i8[1,11,21,20] q(0.06, 2)",
             "  input %d : i8[1,10,30,24] q(0.05, 0)",
             "  input %e : i8[1,9,40,64] q(0.05, 9)",
             "  input %f : i8[1,15,19,33] q(0.05, -1)"]
    outs = []

    def conv(name, x, n, h, w, c, k, s, d, pads, yq, extra, wdt="i8", per_channel=True):
        oh = (h + pads[0] + pads[2] - ((k - 1) * d + 1)) // s + 1
        ow = (w + pads[1] + pads[3] - ((k - 1) * d + 1)) // s + 1
        lines.append(dw_weights(r, name, wdt, c, k, k, ([0] if wdt == "i8" else [128]) * c if per_channel else None))
        lines.append("  const %b{} : i32[{}] = {}".format(name, c, arr(r.integers(-3000, 3000, c))))
        lines.append("  %y{} = conv2d(%{}, %w{}, %b{}) {{group={}, pads=[{}], strides=[{}, {}], dilations=[{}, {}]{}}} "
                     ": {}[{},{},{},{}] {}".format(name, x, name, name, c, ", ".join(map(str, pads)), s, s, d, d,
                                                   extra, yq[0], n, oh, ow, c, yq[1]))
        outs.append("y" + name)

    # Stride 2 on 13x37, pads top 1, left 2, bottom 2, right 1; 48 channels; batch 2.
    conv("1", "a", 2, 13, 37, 48, 3, 2, 1, [1, 2, 2, 1], ("i8", "q(0.8, 3)"), ", rounding=tflite")
    # Stride 1 on 12x29: 13 output rows (passes of two and a last one), u8 in and out, 40 channels.
    conv("2", "b", 1, 12, 29, 40, 3, 1, 1, [2, 0, 1, 2], ("u8", "q(0.5, 126)"), ", rounding=onnx", wdt="u8")
    # 5x5 stride 2 on 11x21, 20 channels, act_min.
    conv("3", "c", 1, 11, 21, 20, 5, 2, 1, [2, 2, 2, 2], ("i8", "q(0.9, -4)"), ", rounding=tflite, act_min=-30")
    # Dilation 2, padding on the left and bottom only, 24 channels, per-tensor.
    conv("4", "d", 1, 10, 30, 24, 3, 1, 2, [0, 1, 1, 0], ("i8", "q(0.7, 2)"), ", rounding=tflite",
         per_channel=False)
    # No padding (every block inside), stride 2 on 9x40, 64 channels.
    conv("5", "e", 1, 9, 40, 64, 3, 2, 1, [0, 0, 0, 0], ("i8", "q(0.8, -1)"), ", rounding=onnx")
    # 33 channels (a 32 step and a 1-channel tail), 15x19, pads 1.
    conv("6", "f", 1, 15, 19, 33, 3, 1, 1, [1, 1, 1, 1], ("i8", "q(0.6, 0)"), ", rounding=tflite")
    lines += ["  output %" + o for o in outs]
    lines.append("}")
    return "\n".join(lines) + "\n"


def gemm_tiles_graph():
    """conv_gemm's tile shapes for few output vectors (kernel_gemm.c
    gemm_shape, session 13; x86 zmm, and ymm where it applies): 16
    outputs on 16 pixels a tile, 24 and 32 on 12, 48 on 8, 80 and 96 on 4
    (one tile across all outputs), 144 and 112 in two tiles; the packs
    across pixels where a tile holds all of a pixel's channels; the 1x1
    convs' tile copied and flipped once (one output vector, i8 input),
    or each word flipped by a vector xor (wider tiles on zmm).
    Pixel counts leave every remainder (35 = 2*16 + 3 = 2*12 + 11 =
    4*8 + 3 = 8*4 + 3), C not a multiple of 4 or 64, padding, stride,
    batch 2, u8 in and out, dense rows."""
    r = np.random.default_rng(13)
    lines = ["graph @kgemmt {",
             "  input %xa : i8[1,5,7,32] q(0.05, -3)",
             "  input %xb : i8[1,5,7,10] q(0.05, 4)",
             "  input %xc : u8[1,5,7,24] q(0.04, 120)",
             "  input %xd : i8[2,3,5,16] q(0.05, -128)",
             "  input %xe : i8[1,6,6,20] q(0.05, 2)",
             "  input %xf : i8[37,40] q(0.05, -1)",
             "  input %xg : i8[1,5,7,96] q(0.05, -128)",
             "  input %xh : i8[1,3,7,16] q(0.05, -128)",
             "  input %xi : i8[2,2,5,24] q(0.05, -128)"]
    cases = [
        # 16 outputs (one vector: 16 pixels a tile, the flipped copy):
        # 1x1 on 32 and on 10 channels (a 2-byte step), u8 in (no flip), a
        # 3x3 pad 1 (per-tap pointers, the row form inside), batch 2 with
        # ReLU6 (the stage in the packs), a dense of 37 rows, u8 out.
        (1, "conv2d", "xa", (16, 1, 1, 32), "rounding=tflite", "i8[1,5,7,16] q(0.27, -4)"),
        (2, "conv2d", "xb", (16, 1, 1, 10), "rounding=onnx", "i8[1,5,7,16] q(0.2, 3)"),
        (3, "conv2d", "xc", (16, 1, 1, 24), "rounding=tflite", "u8[1,5,7,16] q(0.15, 128)"),
        (4, "conv2d", "xe", (16, 3, 3, 20), "pads=[1, 1, 1, 1], rounding=tflite", "i8[1,6,6,16] q(0.4, -2)"),
        (5, "conv2d", "xd", (16, 1, 1, 16), "rounding=tflite, act_min=0, act_max=6", "i8[2,3,5,16] q(0.02353, -128)"),
        (6, "dense", "xf", (16, 40), "rounding=tflite", "u8[37,16] q(0.3, 100)"),
        # 24 outputs (a partial second vector) and 32 on 12 pixels: 1x1
        # projections from 96, u8 in, a 3x3 stride 2.
        (7, "conv2d", "xg", (24, 1, 1, 96), "rounding=tflite", "i8[1,5,7,24] q(0.3, 5)"),
        (8, "conv2d", "xc", (24, 1, 1, 24), "rounding=onnx", "u8[1,5,7,24] q(0.14, 128)"),
        (9, "conv2d", "xa", (32, 1, 1, 32), "rounding=tflite, act_min=0, act_max=6", "i8[1,5,7,32] q(0.02353, -128)"),
        (10, "conv2d", "xe", (32, 3, 3, 20), "pads=[1, 1, 1, 1], strides=[2, 2], rounding=tflite",
         "i8[1,3,3,32] q(0.4, 1)"),
        # 48 on 8 pixels, 80 and 96 on 4 (every vector in one tile), 96
        # with padding, 144 and 112 in two tiles (the second narrower).
        (11, "conv2d", "xb", (48, 1, 1, 10), "rounding=tflite", "i8[1,5,7,48] q(0.2, -1)"),
        (12, "conv2d", "xd", (80, 1, 1, 16), "rounding=tflite, act_min=0, act_max=6", "i8[2,3,5,80] q(0.02353, -128)"),
        (13, "conv2d", "xa", (96, 1, 1, 32), "rounding=tflite, act_min=0, act_max=6", "i8[1,5,7,96] q(0.02353, -128)"),
        (14, "conv2d", "xe", (96, 3, 3, 20), "pads=[0, 1, 1, 0], rounding=onnx", "u8[1,5,5,96] q(0.5, 120)"),
        (15, "conv2d", "xc", (144, 1, 1, 24), "rounding=tflite", "i8[1,5,7,144] q(0.15, -7)"),
        (16, "conv2d", "xa", (112, 1, 1, 32), "rounding=onnx", "i8[1,5,7,112] q(0.3, 0)"),
        # 8 outputs: one ymm vector (AVX-VNNI: 8 pixels a tile, the
        # flipped copy; zmm packs 2 pixels a vector instead).
        (17, "conv2d", "xa", (8, 1, 1, 32), "rounding=tflite", "i8[1,5,7,8] q(0.27, 6)"),
        # Per-tap pointers (session 14): at most 8 pixels a tile, so 24
        # (a partial second vector) and 48 outputs on 8 with padding (35 =
        # 4*8 + 3, 36 = 4*8 + 4, 6 = 0*8 + 6 with strides 3 and 2); 72 (a partial
        # fifth vector, the embedding model's: was 6x64 and 6x16) on 4x80
        # with per-tap pointers and padding on one side, and 1x1 (CONTIG).
        (18, "conv2d", "xa", (24, 3, 3, 32), "pads=[1, 1, 1, 1], rounding=tflite", "u8[1,5,7,24] q(0.6, 131)"),
        (19, "conv2d", "xe", (48, 3, 3, 20), "pads=[1, 1, 1, 1], rounding=onnx, act_min=0",
         "i8[1,6,6,48] q(0.4, -128)"),
        (20, "conv2d", "xe", (48, 3, 3, 20), "pads=[0, 0, 1, 1], strides=[3, 2], rounding=tflite",
         "i8[1,2,3,48] q(0.4, 3)"),
        (21, "conv2d", "xg", (72, 1, 3, 96), "pads=[0, 1, 0, 1], rounding=tflite", "i8[1,5,7,72] q(0.5, -3)"),
        (22, "conv2d", "xa", (72, 1, 1, 32), "rounding=onnx, act_min=0, act_max=6", "i8[1,5,7,72] q(0.02353, -128)"),
        # M-LSD tiny's expand convs (session 15: the flip as one vector
        # xor on zmm, KGemm.xmask): 16 -> 96 on 4x96 (21 = 5*4 + 1) and
        # 24 -> 144 on 4x80 and 4x64 (20 = 5*4, batch 2) with ReLU6 on
        # i8 input of zero point -128; 24 -> 80 without an activation.
        (23, "conv2d", "xh", (96, 1, 1, 16), "rounding=tflite, act_min=0, act_max=6", "i8[1,3,7,96] q(0.02353, -128)"),
        (24, "conv2d", "xi", (144, 1, 1, 24), "rounding=tflite, act_min=0, act_max=6", "i8[2,2,5,144] q(0.02353, -128)"),
        (25, "conv2d", "xi", (80, 1, 1, 24), "rounding=onnx", "i8[2,2,5,80] q(0.3, 7)"),
    ]
    lines += layer_lines(r, cases)
    lines += ["  output %y{}".format(c[0]) for c in cases]
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    out = sys.argv[1]
    for name, text in [("kernels-conv.qir", conv_graph()), ("kernels-dw.qir", dw_graph()),
                       ("kernels-dense.qir", dense_graph()), ("kernels-few.qir", few_graph()),
                       ("kernels-matmul.qir", matmul_graph()),
                       ("kernels-dw-rows.qir", dw_rows_graph()), ("kernels-gemm.qir", gemm_graph()),
                       ("kernels-patch.qir", patch_graph()), ("kernels-stem.qir", stem_graph()),
                       ("kernels-dw-inside.qir", dw_inside_graph()), ("kernels-onepix.qir", one_pixel_graph()),
                       ("kernels-gemm-tiles.qir", gemm_tiles_graph())]:
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
