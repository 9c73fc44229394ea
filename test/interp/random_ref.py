"""An independent Python model of qnnc's integer arithmetic, for
random-ref.test.

  random_ref.py gen OUT.qir OUT.expected   writes a graph of random cases
                                           and the values it must produce
  random_ref.py compare EXPECTED ACTUAL    compares qnnc-run --print output

The model is written from the rules, not from the C code: exact rational
arithmetic (fractions.Fraction, whose round() is half to even) for the
onnx mode, and gemmlowp / TFLite fixed point as those projects define it
for the tflite mode (SaturatingRoundingDoublingHighMul rounds a*b/2^31 to
nearest with ties up; RoundingDivideByPOT rounds half away from zero;
QuantizeMultiplier rounds the 31-bit significand half away from zero).
"""
import math
import random
import struct
import sys
from fractions import Fraction

INT32_MIN, INT32_MAX = -2**31, 2**31 - 1


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def srdhm(a, b):
    if a == b == INT32_MIN:
        return INT32_MAX
    return math.floor(Fraction(a * b, 2**31) + Fraction(1, 2))


def rdbpot(x, e):
    v = Fraction(x, 2**e)
    f = math.floor(v)
    if v - f == Fraction(1, 2):
        return f + 1 if x >= 0 else f
    return round(v)


def quantize_multiplier(m):
    if m == 0:
        return 0, 0
    q, e = math.frexp(m)
    qf = math.floor(q * 2**31 + 0.5)  # q > 0: half away from zero
    if qf == 2**31:
        qf //= 2
        e += 1
    if e < -31:
        return 0, 0
    assert e <= 30
    return qf, e


def wrap32(v):
    v &= 0xFFFFFFFF
    return v - 2**32 if v >= 2**31 else v


def mbqm(x, mult, shift):
    left, right = max(shift, 0), max(-shift, 0)
    return rdbpot(srdhm(wrap32(x * 2**left), mult), right)


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


def rne_exact(x, m):
    """Half-even rounding of the exact product of integer x and double m."""
    return round(Fraction(x) * Fraction(m))


# ---- TFLite int8 softmax (reference_ops::Softmax, SoftmaxPrepare with
# beta 1), from gemmlowp's fixed-point definitions: a FixedPoint with I
# integer bits holds raw / 2^(31 - I); products of raw values are SRDHM,
# Rescale to fewer integer bits is a saturating left shift, to more a
# RoundingDivideByPOT; int32 additions do not saturate.

def sat_mul_pot(x, e):
    """SaturatingRoundingMultiplyByPOT<e>."""
    if e <= 0:
        return rdbpot(x, -e)
    return clamp(x * 2**e, INT32_MIN, INT32_MAX)


def gl_exp_quarter(a):
    """exp(a), a in [-1/4, 0) in Q0.31: Taylor series around -1/8."""
    c = 1895147668  # exp(-1/8) in Q0.31
    x = a + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    t = sat_mul_pot(srdhm(sat_mul_pot(x4, -2) + x3, 715827883) + x2, -1)
    return c + srdhm(c, x + t)


def gl_exp_neg(a):
    """exp_on_negative_values for Q5.26 a <= 0, Q0.31 result."""
    quarter = 1 << 24
    amq = (a & (quarter - 1)) - quarter
    r = gl_exp_quarter(sat_mul_pot(amq, 5))
    rem = amq - a
    for k, m in zip(range(-2, 5), (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)):
        if rem & (1 << (26 + k)):
            r = srdhm(r, m)
    return INT32_MAX if a == 0 else r


def gl_one_over_one_plus_x(a):
    """1/(1+x) for Q0.31 x in [0, 1): Newton-Raphson in Q2.29."""
    s = a + INT32_MAX
    half = (s + (1 if s >= 0 else -1)) // 2 if s >= 0 else -((-s + 1) // 2)
    x = 1515870810 + srdhm(half, -1010580540)
    for _ in range(3):
        x = x + sat_mul_pot(srdhm(x, (1 << 29) - srdhm(half, x)), 2)
    return sat_mul_pot(x, 1)


def tflite_softmax_row(row, scale):
    real = min(1.0 * scale * (1 << 26), 2.0**31 - 1)
    mult, shift = quantize_multiplier(real)
    diff_min = -math.floor(31 * 2.0**26 / 2.0**shift)
    mx = max(row)
    exps = []
    for v in row:
        d = v - mx
        exps.append(gl_exp_neg(srdhm(d * 2**shift, mult)) if d >= diff_min else None)
    total = sum(sat_mul_pot(e, -12) for e in exps if e is not None)
    clz = 32 - total.bit_length()
    bits = 12 - clz
    recip = gl_one_over_one_plus_x(wrap32((total << clz) - 2**31))
    out = []
    for e in exps:
        if e is None:
            out.append(-128)
        else:
            ex = bits + 31 - 8
            u = rdbpot(srdhm(recip, e), ex) if ex <= 31 else 0
            out.append(clamp(u - 128, -128, 127))
    return out, (mult, shift, diff_min)


I8 = (-128, 127)
I32 = (INT32_MIN, INT32_MAX)


def fmt(v):
    return "%.9g" % v


def gen(qir_path, exp_path):
    rnd = random.Random(20261122)
    lines, outs, expected = [], [], []

    def out(name, values):
        outs.append(name)
        expected.append("%%%s %s" % (name, values))

    # requantize i32 -> i32 over multipliers from 2^-35 to 2^29.
    specials = [INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX, 3, -3, 5, -5, 2**30, -2**30]
    xs = specials + [rnd.randint(INT32_MIN, INT32_MAX) for _ in range(40)] + \
        [rnd.randint(-1000, 1000) for _ in range(20)] + list(range(-12, 13))
    for k in range(17):
        sx = f32(rnd.uniform(0.5, 1.0) * 2.0 ** rnd.randint(-20, 0))
        if k < 3:
            sx = 1.0
        ratio = 2.0 ** rnd.randint(-35, 28) * (1 if k % 3 == 0 else rnd.uniform(1, 2))
        if k >= 14:
            ratio = 2.0 ** (13 - k)  # 1/2, 1/4, 1/8: many exact ties
        sy = f32(sx / ratio)
        zy = rnd.randint(-100, 100)
        m = sx / sy  # double, as the interpreter computes it
        for mode in ("onnx", "tflite"):
            name = "rq%d_%s" % (k, mode)
            lines.append("  const %%xs%d_%s : i32[%d] q(%s, 0) = [%s]" % (k, mode, len(xs), fmt(sx), ", ".join(map(str, xs))))
            lines.append("  %%%s = requantize(%%xs%d_%s) {rounding=%s} : i32[%d] q(%s, %d)"
                         % (name, k, mode, mode, len(xs), fmt(sy), zy))
            if mode == "onnx":
                ys = [clamp(rne_exact(x, m) + zy, *I32) for x in xs]
            else:
                mult, shift = quantize_multiplier(m)
                ys = [clamp(mbqm(x, mult, shift) + zy, *I32) for x in xs]
            out(name, ys)

    # add / mul on i8 with random scales and zero points.
    n = 48
    for k in range(10):
        sa, sb, sy = (f32(rnd.uniform(0.005, 0.2)) for _ in range(3))
        za, zb, zy = (rnd.randint(-20, 20) for _ in range(3))
        if k >= 8:
            sa, sb, sy = (0.5, 0.25, 2.0) if k == 8 else (0.25, 0.25, 0.5)  # ties
        a = [rnd.randint(-128, 127) for _ in range(n)]
        b = [rnd.randint(-128, 127) for _ in range(n)]
        lines.append("  const %%a%d : i8[%d] q(%s, %d) = [%s]" % (k, n, fmt(sa), za, ", ".join(map(str, a))))
        lines.append("  const %%b%d : i8[%d] q(%s, %d) = [%s]" % (k, n, fmt(sb), zb, ", ".join(map(str, b))))
        for op in ("add", "sub", "mul"):
            for mode in ("onnx", "tflite"):
                name = "%s%d_%s" % (op, k, mode)
                lines.append("  %%%s = %s(%%a%d, %%b%d) {rounding=%s} : i8[%d] q(%s, %d)"
                             % (name, op, k, k, mode, n, fmt(sy), zy))
                ys = []
                for x, z in zip(a, b):
                    if mode == "onnx":
                        ra, rb = sa * (x - za), sb * (z - zb)  # doubles
                        r = ra + rb if op == "add" else ra - rb if op == "sub" else ra * rb
                        ys.append(clamp(round(r / sy) + zy, *I8))  # round(): half even
                    elif op in ("add", "sub"):
                        # TFLite ADD / SUB: both inputs rescaled to
                        # twice the larger scale with 20 bits of headroom.
                        tm = 2 * max(sa, sb)
                        ma, sha = quantize_multiplier(sa / tm)
                        mb, shb = quantize_multiplier(sb / tm)
                        mo, sho = quantize_multiplier(tm / ((1 << 20) * sy))
                        A = mbqm((x - za) * 2**20, ma, sha)
                        B = mbqm((z - zb) * 2**20, mb, shb)
                        s = A + B if op == "add" else A - B
                        ys.append(clamp(mbqm(s, mo, sho) + zy, *I8))
                    else:
                        mm, sh = quantize_multiplier(sa * sb / sy)
                        ys.append(clamp(mbqm((x - za) * (z - zb), mm, sh) + zy, *I8))
                out(name, ys)

    # dense with per-channel weights and a bias, both modes.
    N, K, M = 4, 24, 8
    sx, sy = f32(0.02), f32(0.05)
    zx, zy = -7, 3
    ws = [f32(rnd.uniform(0.001, 0.01)) for _ in range(M)]
    x = [rnd.randint(-128, 127) for _ in range(N * K)]
    w = [rnd.randint(-127, 127) for _ in range(M * K)]
    bias = [rnd.randint(-3000, 3000) for _ in range(M)]
    lines.append("  const %%dx : i8[%d,%d] q(%s, %d) = [%s]" % (N, K, fmt(sx), zx, ", ".join(map(str, x))))
    lines.append("  const %%dw : i8[%d,%d] q(axis=0, scales=[%s], zero_points=[%s]) = [%s]"
                 % (M, K, ", ".join(map(fmt, ws)), ", ".join(["0"] * M), ", ".join(map(str, w))))
    lines.append("  const %%db : i32[%d] = [%s]" % (M, ", ".join(map(str, bias))))
    for mode in ("onnx", "tflite"):
        name = "dense_" + mode
        lines.append("  %%%s = dense(%%dx, %%dw, %%db) {rounding=%s} : i8[%d,%d] q(%s, %d)"
                     % (name, mode, N, M, fmt(sy), zy))
        ys = []
        for i in range(N):
            for o in range(M):
                acc = bias[o] + sum((x[i * K + k] - zx) * w[o * K + k] for k in range(K))
                m = sx * ws[o] / sy
                if mode == "onnx":
                    ys.append(clamp(rne_exact(acc, m) + zy, *I8))
                else:
                    mult, shift = quantize_multiplier(m)
                    ys.append(clamp(mbqm(acc, mult, shift) + zy, *I8))
        out(name, ys)

    # global_avg_pool, same and different output quantization.
    for k, (h, w, same) in enumerate([(2, 2, True), (2, 2, False), (3, 3, True), (3, 3, False), (2, 3, False)]):
        C = 6
        sx, zx = f32(rnd.uniform(0.01, 0.1)), rnd.randint(-30, 30)
        sy, zy = (sx, zx) if same else (f32(rnd.uniform(0.01, 0.1)), rnd.randint(-30, 30))
        if k == 1:
            sy = f32(sx * 2)  # multiplier 0.5: ties
        x = [rnd.randint(-128, 127) for _ in range(h * w * C)]
        lines.append("  const %%gx%d : i8[1,%d,%d,%d] q(%s, %d) = [%s]" % (k, h, w, C, fmt(sx), zx, ", ".join(map(str, x))))
        cnt = h * w
        for mode in ("onnx", "tflite"):
            name = "gap%d_%s" % (k, mode)
            lines.append("  %%%s = global_avg_pool(%%gx%d) {rounding=%s} : i8[1,1,1,%d] q(%s, %d)"
                         % (name, k, mode, C, fmt(sy), zy))
            ys = []
            for c in range(C):
                vals = x[c::C]
                if mode == "onnx":
                    S = sum(v - zx for v in vals)
                    ys.append(clamp(rne_exact(S, sx / (sy * cnt)) + zy, *I8))
                else:
                    T = sum(vals)
                    avg = (T + cnt // 2) // cnt if T >= 0 else -((-T + cnt // 2) // cnt)
                    if same:
                        ys.append(clamp(avg, *I8))
                    else:
                        mm, sh = quantize_multiplier(sx / sy)
                        ys.append(clamp(mbqm(avg - zx, mm, sh) + zy, *I8))
            out(name, ys)

    # reduce_sum / reduce_mean (exact rational sums vs the rules) and
    # reduce_max / reduce_min over random axes of an i8[3,4,5] tensor.
    dims = (3, 4, 5)
    for k, axes in enumerate([(0,), (1,), (2,), (0, 2), (1, 2), (0, 1, 2)]):
        sx, zx = f32(rnd.uniform(0.01, 0.1)), rnd.randint(-30, 30)
        x = [rnd.randint(-128, 127) for _ in range(60)]
        lines.append("  const %%rx%d : i8[3,4,5] q(%s, %d) = [%s]" % (k, fmt(sx), zx, ", ".join(map(str, x))))
        kept = [d for d in range(3) if d not in axes]
        oshape = [1 if d in axes else dims[d] for d in range(3)]
        groups = {}
        for i in range(3):
            for j in range(4):
                for l in range(5):
                    idx = (i, j, l)
                    groups.setdefault(tuple(idx[d] for d in kept), []).append(x[(i * 4 + j) * 5 + l])
        keys = sorted(groups)
        cnt = len(groups[keys[0]])
        ax = "[%s]" % ", ".join(map(str, axes))
        shp = ",".join(map(str, oshape))
        for op in ("max", "min"):
            name = "red%s%d" % (op, k)
            lines.append("  %%%s = reduce_%s(%%rx%d) {axes=%s} : i8[%s] q(%s, %d)" % (name, op, k, ax, shp, fmt(sx), zx))
            out(name, [(max if op == "max" else min)(groups[g]) for g in keys])
        for same in (True, False):
            sy, zy = (sx, zx) if same else (f32(rnd.uniform(0.01, 0.2)), rnd.randint(-30, 30))
            if k == 1 and not same:
                sy = f32(sx * 2)  # ties
            for op in ("sum", "mean"):
                if op == "sum" and same:
                    continue
                for mode in ("onnx", "tflite"):
                    name = "red%s%d%s_%s" % (op, k, "s" if same else "d", mode)
                    lines.append("  %%%s = reduce_%s(%%rx%d) {axes=%s, rounding=%s} : i8[%s] q(%s, %d)"
                                 % (name, op, k, ax, mode, shp, fmt(sy), zy))
                    ys = []
                    for g in keys:
                        vals = groups[g]
                        S = sum(v - zx for v in vals)
                        if mode == "onnx":
                            m = sx / (sy * cnt) if op == "mean" else sx / sy
                            ys.append(clamp(rne_exact(S, m) + zy, *I8))
                        elif op == "sum":
                            mm, sh = quantize_multiplier(sx / sy)
                            ys.append(clamp(mbqm(S, mm, sh) + zy, *I8))
                        else:
                            T = sum(vals)
                            avg = (T + cnt // 2) // cnt if T >= 0 else -((-T + cnt // 2) // cnt)
                            if same:
                                ys.append(clamp(avg, *I8))
                            else:
                                mm, sh = quantize_multiplier(sx / sy)
                                ys.append(clamp(mbqm(avg - zx, mm, sh) + zy, *I8))
                    out(name, ys)

    # TFLite int8 softmax over rows of random lengths and input scales,
    # including scales where diff_min cuts rows off and rows of equal values.
    for k, (rows, depth, scale) in enumerate([(4, 10, 0.0625), (3, 7, 0.5), (2, 33, 0.01), (5, 3, 2.0),
                                             (2, 128, 0.1), (2, 600, 0.004), (3, 16, 1.0 / 32)]):
        scale = f32(scale)
        x = [rnd.randint(-128, 127) for _ in range(rows * depth)]
        if k == 0:
            x[:depth] = [5] * depth
        lines.append("  const %%smx%d : i8[%d,%d] q(%s, %d) = [%s]"
                     % (k, rows, depth, fmt(scale), rnd.randint(-10, 10), ", ".join(map(str, x))))
        name = "smt%d" % k
        lines.append("  %%%s = softmax(%%smx%d) {rounding=tflite} : i8[%d,%d] q(0.00390625, -128)"
                     % (name, k, rows, depth))
        ys = []
        for r in range(rows):
            ys += tflite_softmax_row(x[r * depth:(r + 1) * depth], scale)[0]
        out(name, ys)

    # avg_pool 3x3, stride 2, padded by 1 on a 5x5 image, into a different
    # output quantization, with and without count_include_pad.
    H = W = 5
    C = 4
    for k in range(4):
        sx, zx = f32(rnd.uniform(0.01, 0.1)), rnd.randint(-30, 30)
        sy, zy = f32(rnd.uniform(0.01, 0.1)), rnd.randint(-30, 30)
        if k == 3:
            sx, sy = 0.25, 1.0  # multiplier 1/4: ties
        x = [rnd.randint(-128, 127) for _ in range(H * W * C)]
        lines.append("  const %%px%d : i8[1,%d,%d,%d] q(%s, %d) = [%s]" % (k, H, W, C, fmt(sx), zx, ", ".join(map(str, x))))
        for incl in (0, 1):
            for mode in ("onnx", "tflite"):
                name = "ap%d_%d_%s" % (k, incl, mode)
                lines.append("  %%%s = avg_pool(%%px%d) {kernel=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], "
                             "count_include_pad=%d, rounding=%s} : i8[1,3,3,%d] q(%s, %d)"
                             % (name, k, incl, mode, C, fmt(sy), zy))
                ys = []
                for oy in range(3):
                    for ox in range(3):
                        for c in range(C):
                            taps = [(oy * 2 - 1 + ky, ox * 2 - 1 + kx) for ky in range(3) for kx in range(3)]
                            inside = [x[(iy * W + ix) * C + c] for iy, ix in taps if 0 <= iy < H and 0 <= ix < W]
                            cnt = 9 if incl else len(inside)
                            if mode == "onnx":
                                # Padded taps hold real 0: they add nothing to S.
                                S = sum(v - zx for v in inside)
                                ys.append(clamp(rne_exact(S, sx / (sy * cnt)) + zy, *I8))
                            else:
                                # A padded tap counted holds the zero point.
                                T = sum(inside) + zx * (cnt - len(inside))
                                avg = (T + cnt // 2) // cnt if T >= 0 else -((-T + cnt // 2) // cnt)
                                mm, sh = quantize_multiplier(sx / sy)
                                ys.append(clamp(mbqm(avg - zx, mm, sh) + zy, *I8))
                out(name, ys)

    # concat requantizing two operands into a third quantization.
    for k in range(4):
        qs = [(f32(rnd.uniform(0.02, 0.2)), rnd.randint(-20, 20)) for _ in range(3)]
        if k == 3:
            qs = [(0.5, 3), (0.25, -2), (1.0, 0)]  # ties
        parts = [[rnd.randint(-128, 127) for _ in range(24)] for _ in range(2)]
        for j in range(2):
            lines.append("  const %%cc%d_%d : i8[24] q(%s, %d) = [%s]"
                         % (k, j, fmt(qs[j][0]), qs[j][1], ", ".join(map(str, parts[j]))))
        so, zo = qs[2]
        for mode in ("onnx", "tflite"):
            name = "cat%d_%s" % (k, mode)
            lines.append("  %%%s = concat(%%cc%d_0, %%cc%d_1) {axis=0, rounding=%s} : i8[48] q(%s, %d)"
                         % (name, k, k, mode, fmt(so), zo))
            ys = []
            for j in range(2):
                si, zi = qs[j]
                for v in parts[j]:
                    if mode == "onnx":
                        ys.append(clamp(rne_exact(v - zi, si / so) + zo, *I8))
                    else:
                        # TFLite ConcatenationWithScaling, float32 throughout;
                        # every step below is one float32 operation.
                        scale = f32(si * f32(1.0 / so))
                        bias = f32(-zi * scale)
                        t = f32(f32(v * scale) + bias)
                        r = math.floor(abs(t) + 0.5) * (1 if t >= 0 else -1)
                        ys.append(clamp(int(r) + zo, *I8))
            out(name, ys)

    with open(qir_path, "w") as f:
        f.write("graph @random_ref {\n%s\n  output %s\n}\n" % ("\n".join(lines), ", ".join("%" + o for o in outs)))
    with open(exp_path, "w") as f:
        for e in expected:
            f.write(e + "\n")


def parse_values(text):
    return [int(v) for v in text.strip().strip("[]").split(",")]


def compare(exp_path, act_path):
    exp = {}
    for line in open(exp_path):
        name, vals = line.split(" ", 1)
        exp[name] = eval(vals)
    checked = bad = 0
    for line in open(act_path):
        name = line.split(" ", 1)[0]
        if name not in exp:
            continue
        got = parse_values(line[line.rindex(" ["):])
        want = exp.pop(name)
        for i, (g, w) in enumerate(zip(got, want)):
            checked += 1
            if g != w:
                bad += 1
                if bad <= 20:
                    print("MISMATCH %s[%d]: interpreter %d, model %d" % (name, i, g, w))
        if len(got) != len(want):
            bad += 1
            print("MISMATCH %s: %d values, model has %d" % (name, len(got), len(want)))
    for name in exp:
        bad += 1
        print("MISSING %s" % name)
    print("random_ref: %d values checked, %d mismatches" % (checked, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3])
    else:
        sys.exit(compare(sys.argv[2], sys.argv[3]))
