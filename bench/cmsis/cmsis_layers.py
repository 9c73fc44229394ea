"""qnnc's generated Cortex-M4 or Cortex-M55 code against Arm's CMSIS-NN,
layer by layer.

  cmsis_layers.py --cmsis DIR --build BUILD --tmp TMP [--target T]
                  (--small | --model M.qir ...)

--target is thumbv7em-none-eabi (Cortex-M4, the default: CMSIS-NN's DSP
paths) or thumbv8.1m.main-none-eabi (Cortex-M55: CMSIS-NN built with
-mcpu=cortex-m55, which defines __ARM_FEATURE_MVE and so selects its
Helium paths, ARM_MATH_MVEI; run on QEMU's mps3-an547).

Each case is one quantized layer (conv2d, depthwise conv2d, dense, add,
max_pool, avg_pool, global_avg_pool, softmax) written as a one-layer .qir
with i8 input(s) and output, rounding=tflite.  --small gives a few small
shapes with random weights (the lit test); --model takes the layers of a
quantized model (`qnnc --emit=qir` after quantization: real weights,
scales and shapes), one case per distinct shape.

For every case the script compiles the .qir with qnnc for
thumbv7em-none-eabi (`--name=Lk`), and writes one C file (cases.c) that
calls the CMSIS-NN kernel TensorFlow Lite Micro would call on the same
int8 tensors, with TFLite's Prepare computed here, in Python, from the
float scales (quantize_multiplier, the softmax and add parameters: the
models of test/interp/random_ref.py), never from qnnc's folded
multipliers.  driver.c runs both on QEMU's mps2-an386 under -icount
shift=0 (scripts/run-target), compares the outputs byte for byte and
counts instructions (REPS back-to-back runs each, so the 40-instruction
SysTick step divides by REPS).

Code bytes: qnnc's are the .text of the layer's object; CMSIS-NN's the
.text of the object files (one function per file, as CMSIS-NN is laid
out) reachable from the kernel TFLite Micro's wrapper dispatches to.
Scratch: qnnc's scratch_size against the kernel's *_get_buffer_size.
Prints one line per case and "N cases, M bit-exact".
"""
import argparse
import collections
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "test", "interp"))
from random_ref import f32, fmt, quantize_multiplier, tflite_softmax_row  # noqa: E402

# ----------------------------------------------------------- the .qir side

TYPE_RE = re.compile(r"(\w+)\[([0-9,]*)\](?:\s*q\((.*?)\))?")


class Ty:
    def __init__(self, text):
        m = TYPE_RE.match(text.strip())
        if not m:
            raise ValueError("bad type: " + text)
        self.text = text.strip()
        self.dtype = m.group(1)
        self.dims = [int(d) for d in m.group(2).split(",")] if m.group(2) else []
        q = m.group(3)
        self.scales, self.zps = None, None
        if q and q.startswith("axis"):
            self.scales = [float(v) for v in re.search(r"scales=\[(.*?)\]", q).group(1).split(",")]
            self.zps = [int(v) for v in re.search(r"zero_points=\[(.*?)\]", q).group(1).split(",")]
        elif q:
            s, z = q.split(",")
            self.scales, self.zps = [float(s)], [int(z)]

    @property
    def scale(self):
        return f32(self.scales[0])

    @property
    def zp(self):
        return self.zps[0]


def parse_qir(path):
    """Values (name -> (Ty, data or None, line)) and nodes (op, result,
    operands, attrs text, Ty) of a canonical .qir."""
    values, nodes = {}, []
    base = os.path.dirname(os.path.abspath(path))
    for line in open(path):
        line = line.strip()
        m = re.match(r"input %(\S+) : (.*)$", line)
        if m:
            values[m.group(1)] = (Ty(m.group(2)), None, line)
            continue
        m = re.match(r"const %(\S+) : (.*?) = (.*)$", line)
        if m:
            ty = Ty(m.group(2))
            dt = {"i8": np.int8, "u8": np.uint8, "i32": np.int32, "f32": np.float32, "i16": np.int16}[ty.dtype]
            d = m.group(3)
            if d.startswith("file("):
                fm = re.match(r'file\("(.*)", offset=(\d+)\)', d)
                raw = np.fromfile(os.path.join(base, fm.group(1)), dtype=np.uint8)
                n = int(np.prod(ty.dims)) * np.dtype(dt).itemsize
                data = raw[int(fm.group(2)):int(fm.group(2)) + n].view(dt)
            else:
                data = np.array([float(v) for v in d.strip("[]").split(",")] if d != "[]" else [], dtype=dt)
            values[m.group(1)] = (ty, data.reshape(ty.dims), line)
            continue
        m = re.match(r"%(\S+) = (\w+)\((.*?)\)\s*(\{.*\})?\s*: (.*)$", line)
        if m:
            ty = Ty(m.group(5))
            ops = [o.strip()[1:] for o in m.group(3).split(",") if o.strip()]
            nodes.append((m.group(2), m.group(1), ops, m.group(4) or "", ty))
            values[m.group(1)] = (ty, None, None)
    return values, nodes


def attr(attrs, name, default=None):
    m = re.search(r"\b%s=(\[[^\]]*\]|[^,}]+)" % name, attrs)
    if not m:
        return default
    v = m.group(1).strip()
    if v.startswith("["):
        return [float(x) if "." in x or "e" in x else int(x) for x in v.strip("[]").split(",") if x.strip()]
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


# Attributes qnnc's passes fold in (a cache the verifier checks); the
# one-layer graph leaves them out and lets qnnc compute them again.
FOLDED = ("multiplier", "shift", "qmin", "qmax", "tile")


def strip_folded(attrs):
    if not attrs:
        return ""
    parts = re.findall(r"(\w+)=(\[[^\]]*\]|[^,}]+)", attrs)
    kept = ["%s=%s" % (k, v.strip()) for k, v in parts if k not in FOLDED]
    return "{%s}" % ", ".join(kept) if kept else ""


def kind_of(op, ops, values, attrs, ty):
    """The layer kind of the comparison, or None for a node it skips."""
    if ty.dtype != "i8" or ty.scales is None or len(ty.scales) != 1:
        return None
    ins = [values[o][0] for o in ops]
    if any(t.dtype not in ("i8", "i32") for t in ins):
        return None
    if op == "conv2d":
        x, w = ins[0], ins[1]
        g = attr(attrs, "group", 1)
        if attr(attrs, "dilations", [1, 1]) != [1, 1] or len(ops) < 3 or x.dtype != "i8":
            return None
        kh, kw = w.dims[1], w.dims[2]
        if g == 1:
            if kh == kw == 1:
                return "conv 1x1"
            return "stem %dx%d" % (kh, kw) if x.dims[3] <= 3 else "conv %dx%d" % (kh, kw)
        if g == x.dims[3] == ty.dims[3]:
            return "depthwise %dx%d" % (kh, kw)
        return None
    if op == "dense" and len(ops) == 3 and ins[0].dtype == "i8":
        return "dense"
    if op == "add" and attr(attrs, "rounding") == "tflite" and ins[0].dims == ins[1].dims == ty.dims:
        return "add"
    if op == "max_pool" and attr(attrs, "dilations", [1, 1]) == [1, 1]:
        return "max pool"
    if op in ("avg_pool", "global_avg_pool") and attr(attrs, "count_include_pad", 0) == 0:
        return "avg pool" if op == "avg_pool" else "global avg pool"
    if op == "softmax" and attr(attrs, "rounding") == "tflite":
        return "softmax"
    return None


# ----------------------------------------------------------- small cases


def small_qir(path):
    """A few small layers, one of each kind, random weights (seed fixed)."""
    rng = np.random.default_rng(15)
    lines = []

    def arr(a):
        return "[" + ", ".join(str(int(v)) for v in a.reshape(-1)) + "]"

    def scales(n):
        return ", ".join(fmt(f32(v)) for v in rng.uniform(0.002, 0.02, n))

    def conv(name, x, xq, h, w, c, o, k, s, p, g, yq, act=True):
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        wc = c // g
        lines.append("  input %%%s_x : i8[1,%d,%d,%d] q(%s)" % (name, h, w, c, xq))
        lines.append("  const %%%s_w : i8[%d,%d,%d,%d] q(axis=0, scales=[%s], zero_points=[%s]) = %s" % (
            name, o, k, k, wc, scales(o), ", ".join("0" * o), arr(rng.integers(-127, 128, (o, k, k, wc)))))
        lines.append("  const %%%s_b : i32[%d] = %s" % (name, o, arr(rng.integers(-3000, 3000, o))))
        lines.append("  %%%s = conv2d(%%%s_x, %%%s_w, %%%s_b) {strides=[%d, %d], pads=[%d, %d, %d, %d], group=%d, "
                     "rounding=tflite%s} : i8[1,%d,%d,%d] q(%s)" % (
                         name, name, name, name, s, s, p, p, p, p, g, ", act_min=0" if act else "", oh, ow, o, yq))

    conv("conv1x1", "", "0.05, -3", 6, 5, 16, 12, 1, 1, 0, 1, "0.08, -128")
    conv("conv3x3", "", "0.05, 7", 7, 6, 8, 12, 3, 1, 1, 1, "0.1, -128")
    conv("stem", "", "0.0078125, -1", 9, 9, 1, 8, 3, 2, 1, 1, "0.03, -128")
    conv("dw3x3", "", "0.04, -128", 8, 7, 12, 12, 3, 1, 1, 12, "0.05, -20", act=False)
    lines.append("  input %dense_x : i8[1,40] q(0.06, 3)")
    lines.append("  const %%dense_w : i8[10,40] q(axis=0, scales=[%s], zero_points=[%s]) = %s" % (
        scales(10), ", ".join("0" * 10), arr(rng.integers(-127, 128, (10, 40)))))
    lines.append("  const %%dense_b : i32[10] = %s" % arr(rng.integers(-2000, 2000, 10)))
    lines.append("  %dense = dense(%dense_x, %dense_w, %dense_b) {rounding=tflite} : i8[1,10] q(0.2, 5)")
    lines.append("  input %add_a : i8[1,5,5,8] q(0.07, -128)")
    lines.append("  input %add_b : i8[1,5,5,8] q(0.03, 10)")
    lines.append("  %add = add(%add_a, %add_b) {rounding=tflite, act_min=0} : i8[1,5,5,8] q(0.09, -128)")
    lines.append("  input %mp_x : i8[1,8,8,6] q(0.05, -4)")
    lines.append("  %mp = max_pool(%mp_x) {kernel=[2, 2], strides=[2, 2]} : i8[1,4,4,6] q(0.05, -4)")
    lines.append("  input %ap_x : i8[1,7,7,5] q(0.05, -4)")
    lines.append("  %ap = avg_pool(%ap_x) {kernel=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], rounding=tflite} : "
                 "i8[1,4,4,5] q(0.05, -4)")
    lines.append("  input %gap_x : i8[1,4,4,16] q(0.05, -4)")
    lines.append("  %gap = global_avg_pool(%gap_x) {rounding=tflite} : i8[1,1,1,16] q(0.05, -4)")
    lines.append("  input %sm_x : i8[2,10] q(0.125, 3)")
    lines.append("  %sm = softmax(%sm_x) {rounding=tflite} : i8[2,10] q(0.00390625, -128)")
    with open(path, "w") as f:
        f.write("graph @small {\n%s\n  output %%conv1x1\n}\n" % "\n".join(lines))


# ----------------------------------------------------------- cases


def collect(qir_paths, per_shape):
    """Cases from the graphs: (kind, label, one-layer qir text, info)."""
    cases, seen = [], set()
    for path in qir_paths:
        values, nodes = parse_qir(path)
        model = os.path.splitext(os.path.basename(path))[0]
        for op, res, ops, attrs, ty in nodes:
            kind = kind_of(op, ops, values, attrs, ty)
            if not kind:
                continue
            ins = [values[o][0] for o in ops]
            key = (kind, tuple(tuple(t.dims) for t in ins), tuple(ty.dims), strip_folded(attrs))
            if per_shape and key in seen:
                continue
            seen.add(key)
            k = len(cases)
            body = []
            names = {}
            for i, o in enumerate(ops):
                t, data, line = values[o]
                names[o] = "v%d" % i
                if data is None:
                    body.append("  input %%v%d : %s" % (i, t.text))
                else:
                    body.append("  const %%v%d : %s = [%s]" % (i, t.text, ", ".join(str(int(v)) for v in data.reshape(-1))))
            a = strip_folded(attrs)
            if kind.endswith("avg pool") and (ins[0].scales, ins[0].zps) != (ty.scales, ty.zps):
                # TFLite's AVERAGE_POOL_2D keeps its input's quantization
                # (CMSIS-NN's arm_avgpool_s8 cannot requantize): the case
                # takes the input's, as TFLite's converter would.
                ty = Ty(re.sub(r"q\(.*\)", "q(%s, %d)" % (fmt(ins[0].scale), ins[0].zp), ty.text))
            body.append("  %%y = %s(%s) %s : %s" % (op, ", ".join("%" + names[o] for o in ops), a, ty.text))
            text = "graph @L%d {\n%s\n  output %%y\n}\n" % (k, "\n".join(body))
            cases.append({"k": k, "kind": kind, "model": model, "node": res, "op": op, "attrs": attrs, "ty": ty,
                          "ins": [values[o] for o in ops], "qir": text})
    return cases


def c_array(ctype, name, a):
    flat = ", ".join(str(int(v)) for v in np.asarray(a).reshape(-1))
    return "static const %s %s[] __attribute__((aligned(16))) = {%s};\n" % (ctype, name, flat or "0")


def act_range(attrs, yq):
    """TFLite CalculateActivationRangeQuantized: zp + round(a / s), s f32."""
    lo, hi = -128, 127
    amin, amax = attr(attrs, "act_min"), attr(attrs, "act_max")
    if amin is not None:
        lo = max(lo, yq.zp + int(np.round(np.float32(amin) / np.float32(yq.scale))))
    if amax is not None:
        hi = min(hi, yq.zp + int(np.round(np.float32(amax) / np.float32(yq.scale))))
    return lo, hi


def dims(n, h, w, c):
    return "{%d, %d, %d, %d}" % (n, h, w, c)


def cmsis_case(c, rng):
    """C code for case C: data, CMSIS-NN call, buffer size; and the name of
    the kernel TFLite Micro's wrapper dispatches to."""
    k, kind, attrs, ty = c["k"], c["kind"], c["attrs"], c["ty"]
    ins = c["ins"]
    out = []
    inputs = []
    for i, (t, data, _) in enumerate(ins):
        if data is None:
            x = rng.integers(-128, 128, t.dims).astype(np.int8)
            out.append(c_array("int8_t", "c%d_in%d" % (k, i), x))
            inputs.append("c%d_in%d" % (k, i))
    xq = ins[0][0]
    lo, hi = act_range(attrs, ty)
    n_out = int(np.prod(ty.dims))
    call, bufsize, fn = "", "0", ""
    if kind.startswith(("conv", "stem", "depthwise")):
        w, wdata = ins[1][0], ins[1][1]
        bdata = ins[2][1]
        o, kh, kw, wc = w.dims
        _, h, wd, cin = xq.dims
        _, oh, ow, _ = ty.dims
        s = attr(attrs, "strides", [1, 1])
        p = attr(attrs, "pads", [0, 0, 0, 0])
        mult, shift = zip(*[quantize_multiplier(float(xq.scale) * float(f32(ws)) / float(ty.scale))
                            for ws in (w.scales if len(w.scales) > 1 else w.scales * o)])
        out.append(c_array("int32_t", "c%d_mult" % k, mult))
        out.append(c_array("int32_t", "c%d_shift" % k, shift))
        out.append(c_array("int32_t", "c%d_b" % k, bdata))
        if kind.startswith("depthwise"):
            out.append(c_array("int8_t", "c%d_w" % k, np.transpose(wdata, (3, 1, 2, 0))))  # [1,KH,KW,O]
            out.append("static const cmsis_nn_dw_conv_params c%d_p = {%d, %d, 1, {%d, %d}, {%d, %d}, {1, 1}, {%d, %d}};\n" % (
                k, -xq.zp, ty.zp, s[1], s[0], p[1], p[0], lo, hi))
            fd = dims(1, kh, kw, o)
            if kh == kw == 3 and p[0] <= 1 and p[1] <= 1:
                fn = "arm_depthwise_conv_3x3_s8"
            else:
                fn = "arm_depthwise_conv_s8_opt"
            call = "arm_depthwise_conv_wrapper_s8(&ctx, &c%d_p, &q, &id, c%d_in0, &fd, c%d_w, &bd, c%d_b, &od, out)" % (
                k, k, k, k)
            bufsize = "arm_depthwise_conv_wrapper_s8_get_buffer_size(&c%d_p, &id, &fd, &od)" % k
        else:
            out.append(c_array("int8_t", "c%d_w" % k, wdata))
            out.append("static const cmsis_nn_conv_params c%d_p = {%d, %d, {%d, %d}, {%d, %d}, {1, 1}, {%d, %d}};\n" % (
                k, -xq.zp, ty.zp, s[1], s[0], p[1], p[0], lo, hi))
            fd = dims(o, kh, kw, wc)
            if kh == kw == 1 and p[0] == p[1] == 0:
                fn = "arm_convolve_1x1_s8_fast" if s == [1, 1] else "arm_convolve_1x1_s8"
            elif h == 1 and kh == 1 and (s[1] * cin) % 4 == 0:
                fn = "arm_convolve_1_x_n_s8"
            else:
                fn = "arm_convolve_s8"
            call = "arm_convolve_wrapper_s8(&ctx, &c%d_p, &q, &id, c%d_in0, &fd, c%d_w, &bd, c%d_b, &od, out)" % (
                k, k, k, k)
            bufsize = "arm_convolve_wrapper_s8_get_buffer_size(&c%d_p, &id, &fd, &od)" % k
        decl = ("const cmsis_nn_dims id = %s, fd = %s, bd = {1, 1, 1, %d}, od = %s;\n"
                "    const cmsis_nn_per_channel_quant_params q = {(int32_t *)c%d_mult, (int32_t *)c%d_shift};\n" % (
                    dims(1, h, wd, cin), fd, o, dims(1, oh, ow, o), k, k))
    elif kind == "dense":
        w, wdata, bdata = ins[1][0], ins[1][1], ins[2][1]
        m, kk = w.dims
        mult, shift = zip(*[quantize_multiplier(float(xq.scale) * float(f32(ws)) / float(ty.scale))
                            for ws in (w.scales if len(w.scales) > 1 else w.scales * m)])
        out.append(c_array("int8_t", "c%d_w" % k, wdata))
        out.append(c_array("int32_t", "c%d_b" % k, bdata))
        out.append(c_array("int32_t", "c%d_mult" % k, mult))
        out.append(c_array("int32_t", "c%d_shift" % k, shift))
        # TFLite Micro's Prepare fills the context buffer with the kernel
        # sums (arm_vector_sum_s8): bias + input_offset * sum of each row of
        # weights.  The Helium path reads them (the DSP one ignores them).
        wrows = np.asarray(wdata, dtype=np.int64).reshape(m, kk)
        ksum = (np.asarray(bdata, dtype=np.int64) + (-int(xq.zp)) * wrows.sum(axis=1)).astype(np.int32)
        out.append(c_array("int32_t", "c%d_ksum" % k, ksum))
        out.append("static const cmsis_nn_fc_params c%d_p = {%d, 0, %d, {%d, %d}};\n" % (k, -xq.zp, ty.zp, lo, hi))
        nb = xq.dims[0]
        decl = ("const cmsis_nn_dims id = %s, fd = {%d, 1, 1, %d}, bd = {1, 1, 1, %d}, od = {%d, 1, 1, %d};\n" % (
            dims(nb, 1, 1, kk), kk, m, m, nb, m))
        if len(set(zip(mult, shift))) == 1:
            fn = "arm_fully_connected_s8"
            decl += "    const cmsis_nn_per_tensor_quant_params q = {%d, %d};\n" % (mult[0], shift[0])
        else:
            fn = "arm_fully_connected_per_channel_s8"
            decl += "    const cmsis_nn_per_channel_quant_params q = {(int32_t *)c%d_mult, (int32_t *)c%d_shift};\n" % (k, k)
        decl += "    const cmsis_nn_context kctx = {(void *)c%d_ksum, (int32_t)sizeof c%d_ksum};\n" % (k, k)
        call = "%s(&kctx, &c%d_p, &q, &id, c%d_in0, &fd, c%d_w, &bd, c%d_b, &od, out)" % (fn, k, k, k, k)
        bufsize = "arm_fully_connected_s8_get_buffer_size(&fd)"
    elif kind == "add":
        a, b = ins[0][0], ins[1][0]
        sa, sb, sy = float(a.scale), float(b.scale), float(ty.scale)
        twice = 2 * max(sa, sb)
        ma, sha = quantize_multiplier(sa / twice)
        mb, shb = quantize_multiplier(sb / twice)
        mo, sho = quantize_multiplier(twice / ((1 << 20) * sy))
        fn = "arm_elementwise_add_s8"
        decl = ""
        call = "arm_elementwise_add_s8(c%d_in0, c%d_in1, %d, %d, %d, %d, %d, %d, 20, out, %d, %d, %d, %d, %d, %d)" % (
            k, k, -a.zp, ma, sha, -b.zp, mb, shb, ty.zp, mo, sho, lo, hi, n_out)
    elif kind in ("max pool", "avg pool", "global avg pool"):
        _, h, wd, ch = xq.dims
        _, oh, ow, _ = ty.dims
        if kind == "global avg pool":
            kern, s, p = [h, wd], [1, 1], [0, 0, 0, 0]
        else:
            kern, s, p = attr(attrs, "kernel"), attr(attrs, "strides", [1, 1]), attr(attrs, "pads", [0, 0, 0, 0])
        out.append("static const cmsis_nn_pool_params c%d_p = {{%d, %d}, {%d, %d}, {-128, 127}};\n" % (
            k, s[1], s[0], p[1], p[0]))
        fn = "arm_max_pool_s8" if kind == "max pool" else "arm_avgpool_s8"
        decl = "const cmsis_nn_dims id = %s, fd = {1, %d, %d, 1}, od = %s;\n" % (
            dims(1, h, wd, ch), kern[0], kern[1], dims(1, oh, ow, ch))
        call = "%s(&ctx, &c%d_p, &id, c%d_in0, &fd, &od, out)" % (fn, k, k)
        if kind != "max pool":
            bufsize = "arm_avgpool_s8_get_buffer_size(%d, %d)" % (ow, ch)
    elif kind == "softmax":
        depth = xq.dims[-1]
        rows = int(np.prod(xq.dims)) // depth
        _, (mult, shift, diff_min) = tflite_softmax_row([0], float(xq.scale))
        fn = "arm_softmax_s8"
        decl = ""
        call = "(arm_softmax_s8(c%d_in0, %d, %d, %d, %d, %d, out), ARM_CMSIS_NN_SUCCESS)" % (
            k, rows, depth, mult, shift, diff_min)
    out.append("static int32_t c%d_bufsize(void)\n{\n    %s    return %s;\n}\n" % (
        k, decl if bufsize != "0" else "", bufsize))
    out.append("static int c%d_run(cmsis_nn_context ctx, int8_t *out)\n{\n    %s    return %s;\n}\n" % (k, decl, call))
    ins_q = ", ".join(inputs)
    out.append("extern const qnn_model_info L%d_info;\n" % k)
    out.append("static const void *const c%d_ins[] = {%s};\n" % (k, ins_q))
    return "".join(out), fn, n_out


DRIVER_TABLE = """
const layer_case cases[] = {
%s
};
const int num_cases = %d;
"""


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.stderr.write("command failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
        sys.exit(1)
    return r.stdout


# The CMSIS-NN sources the kernels below reach (the closure of their
# symbols over all of Source/, computed once): the lit test compiles these
# 27, not all 114.
CMSIS_SOURCES = """arm_avgpool_get_buffer_sizes_s8 arm_avgpool_s8 arm_convolve_1_x_n_s8 arm_convolve_1x1_s8
arm_convolve_1x1_s8_fast arm_convolve_get_buffer_sizes_s8 arm_convolve_s8 arm_convolve_wrapper_s8
arm_depthwise_conv_3x3_s8 arm_depthwise_conv_get_buffer_sizes_s8 arm_depthwise_conv_s8 arm_depthwise_conv_s8_opt
arm_depthwise_conv_wrapper_s8 arm_elementwise_add_s8 arm_fully_connected_get_buffer_sizes_s8
arm_fully_connected_per_channel_s8 arm_fully_connected_s8 arm_max_pool_s8 arm_nn_mat_mult_kernel_row_offset_s8_s16
arm_nn_mat_mult_kernel_s8_s16 arm_nn_mat_mult_nt_t_s8 arm_nn_softmax_common_s8 arm_nn_vec_mat_mult_t_per_ch_s8
arm_nn_vec_mat_mult_t_s8 arm_q7_to_q15_with_offset arm_s8_to_s16_unordered_with_offset arm_softmax_s8""".split()
# What the Helium (MVE) paths of the same kernels reach besides.
CMSIS_SOURCES_MVE = """arm_nn_depthwise_conv_nt_t_padded_s8 arm_nn_depthwise_conv_nt_t_s8 arm_nn_mat_mul_core_1x_s8 arm_nn_mat_mul_core_4x_s8
arm_nn_mat_mult_nt_t_s8 arm_transpose_s8""".split()

# Per target: the C flags CMSIS-NN is built with (ANCHOR.md's for the M4).
CMSIS_FLAGS = {
    "thumbv7em-none-eabi": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "thumbv8.1m.main-none-eabi": ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"],
}


def cmsis_objects(cmsis, objdir, cc, target="thumbv7em-none-eabi"):
    """Compiles the CMSIS-NN sources the kernels need once, with
    ANCHOR.md's flags, into OBJDIR; returns {object: (defined symbols,
    undefined symbols, .text bytes)}."""
    os.makedirs(objdir, exist_ok=True)
    where = {}
    for d in sorted(os.listdir(os.path.join(cmsis, "Source"))):
        sd = os.path.join(cmsis, "Source", d)
        if os.path.isdir(sd):
            for f in os.listdir(sd):
                where[f[:-2]] = os.path.join(sd, f)
    names = CMSIS_SOURCES + (CMSIS_SOURCES_MVE if target.startswith("thumbv8") else [])
    names = sorted(set(names))
    missing = [n for n in names if n not in where]
    if missing:
        sys.exit("cmsis_layers: %s: no %s.c" % (cmsis, missing[0]))
    srcs = [where[n] for n in names]
    objs = [os.path.join(objdir, n + ".o") for n in names]
    todo = [s for s, o in zip(srcs, objs) if not os.path.exists(o) or os.path.getmtime(o) < os.path.getmtime(s)]
    flags = CMSIS_FLAGS[target] + ["-O3", "-w",
             "-I", os.path.join(cmsis, "Include"), "-c"]
    # Two compilers (the machine's cores), each given half the files.
    procs = [subprocess.Popen([cc] + flags + todo[i::2], cwd=objdir) for i in range(2) if todo[i::2]]
    if any(p.wait() != 0 for p in procs):
        sys.exit("cmsis_layers: compiling CMSIS-NN failed")
    info = {o: (set(), set(), 0) for o in objs}
    for line in sh(["arm-none-eabi-nm", "-A"] + objs).splitlines():
        f = line.split(":", 1)
        o, fields = f[0], f[1].split()
        if len(fields) == 2 and fields[0] == "U":
            info[o][1].add(fields[1])
        elif len(fields) == 3 and fields[1] in "TDRB":
            info[o][0].add(fields[2])
    sizes = text_sizes(objs)
    return {o: (d, u, sizes[o]) for o, (d, u, _) in info.items()}


def text_sizes(objs):
    """.text bytes of each object (arm-none-eabi-size -A, one call)."""
    sizes, cur = {}, None
    for line in sh(["arm-none-eabi-size", "-A"] + objs).splitlines():
        if line.endswith(":") and "(ex " not in line:
            cur = line.split(" ")[0].rstrip(":")
            sizes[cur] = 0
            continue
        f = line.split()
        if cur and len(f) >= 2 and f[0].startswith(".text"):
            sizes[cur] += int(f[1])
    return sizes


def closure_bytes(info, fn):
    """.text bytes of the CMSIS-NN objects reachable from FN."""
    by_sym = {s: o for o, (d, _, _) in info.items() for s in d}
    seen, todo = set(), [fn]
    while todo:
        s = todo.pop()
        o = by_sym.get(s)
        if not o or o in seen:
            continue
        seen.add(o)
        todo.extend(info[o][1])
    return sum(info[o][2] for o in seen)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmsis", required=True)
    ap.add_argument("--build", required=True, help="qnnc's build directory")
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--model", action="append", default=[], help="a quantized .qir (qnnc --emit=qir)")
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--all", action="store_true", help="every layer, not one per distinct shape")
    ap.add_argument("--target", default="thumbv7em-none-eabi", choices=sorted(CMSIS_FLAGS))
    args = ap.parse_args()
    tmp = os.path.abspath(args.tmp)
    os.makedirs(tmp, exist_ok=True)
    build = os.path.abspath(args.build)
    qnnc = os.path.join(build, "bin", "qnnc")
    qnncc = os.path.join(build, "runtime", "targets", args.target, "qnn-cc")
    paths = list(args.model)
    if args.small:
        small_qir(os.path.join(tmp, "small.qir"))
        paths.append(os.path.join(tmp, "small.qir"))
    cases = collect(paths, not args.all)
    rng = np.random.default_rng(1)
    code = ['#include "arm_nnfunctions.h"\n#include "driver.h"\n']
    table = []
    fns = {}
    objs, compiles = [], []
    for c in cases:
        k = c["k"]
        q = os.path.join(tmp, "L%d.qir" % k)
        open(q, "w").write(c["qir"])
        obj = os.path.join(tmp, "L%d.o" % k)
        objs.append(obj)
        compiles.append([qnnc, q, "--target=" + args.target, "--name=L%d" % k, "-o", obj])
        text, fn, n_out = cmsis_case(c, rng)
        fns[k] = fn
        code.append(text)
        table.append('    {"%s", %d, c%d_ins, &L%d_info, c%d_run, c%d_bufsize},' % (c["kind"], n_out, k, k, k, k))
    code.append(DRIVER_TABLE % ("\n".join(table), len(cases)))
    running = []
    for cmd in compiles + [None, None]:  # two qnnc at a time
        if len(running) == 2 or (cmd is None and running):
            p, c = running.pop(0)
            out, err = p.communicate()
            if p.returncode != 0:
                sys.exit("command failed: %s\n%s%s" % (" ".join(c), out, err))
        if cmd:
            running.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), cmd))
    open(os.path.join(tmp, "cases.c"), "w").write("".join(code))
    cpu = "m55" if args.target.startswith("thumbv8") else "m4"
    info = cmsis_objects(args.cmsis, os.path.join(build, "bench-cmsis-nn-" + cpu), "arm-none-eabi-gcc", args.target)
    exe = os.path.join(tmp, "layers.elf")
    sh([qnncc, "-O2", "-w", "-DREPS=%d" % args.reps, "-I", os.path.join(args.cmsis, "Include"), "-I", HERE,
        os.path.join(HERE, "driver.c"), os.path.join(tmp, "cases.c")] + objs + sorted(info) + ["-o", exe])
    r = subprocess.run([os.path.join(SRC, "scripts", "run-target"), args.target, exe],
                       capture_output=True, text=True)
    sys.stderr.write(r.stderr)
    if r.returncode != 0:
        sys.stdout.write(r.stdout)
        sys.exit("cmsis_layers: the driver failed (exit %d)" % r.returncode)
    rows = collections.OrderedDict()
    qsizes = text_sizes(objs)
    exact = 0
    print("%-4s %-18s %-16s %-26s %12s %12s %6s %8s %8s %8s %8s  %s" % (
        "#", "kind", "model", "shape (in -> out)", "CMSIS insns", "qnnc insns", "ratio", "CMSIS B", "qnnc B",
        "CMSIS sc", "qnnc sc", "outputs"))
    for line in r.stdout.splitlines():
        m = re.match(r"case (\d+) insns (\d+) (\d+) scratch (-?\d+) (\d+) mismatches (\d+) of (\d+)", line)
        if not m:
            if line.strip():
                print(line)
            continue
        k = int(m.group(1))
        c = cases[k]
        ci, qi = int(m.group(2)), int(m.group(3))
        bad = int(m.group(6))
        exact += bad == 0
        shape = "x".join(map(str, c["ins"][0][0].dims[1:])) + " -> " + "x".join(map(str, c["ty"].dims[1:]))
        cb, qb = closure_bytes(info, fns[k]), qsizes[objs[k]]
        print("%-4d %-18s %-16s %-26s %12d %12d %6.2f %8d %8d %8s %8s  %s" % (
            k, c["kind"], c["model"][:16], shape, ci, qi, qi / ci if ci else 0, cb, qb, m.group(4), m.group(5),
            "bit-exact" if bad == 0 else "MISMATCH %d of %s" % (bad, m.group(7))))
        rows.setdefault(c["kind"], []).append((ci, qi))
    print("%d cases, %d bit-exact" % (len(cases), exact))
    print("per kind (sum over cases): qnnc / CMSIS-NN instructions")
    for kind, v in rows.items():
        ci, qi = sum(a for a, _ in v), sum(b for _, b in v)
        print("  %-18s %3d case%s  %12d %12d  %.2fx" % (kind, len(v), "" if len(v) == 1 else "s", ci, qi,
                                                      qi / ci if ci else 0))


if __name__ == "__main__":
    main()
