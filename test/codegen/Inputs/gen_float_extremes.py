"""Writes float-extremes.qir and its inputs (one .npy a graph input) into
OUTDIR, for the float output stage's proof (codegen/requant_float.c),
which holds only on each output channel's accumulator range as the
kernels compute it (kernel_gemm.c, kernel_depthwise.c: the weights'
positive and negative sums times the input's bytes, beside the bias).

Where the float form is wrong it is wrong at single accumulators: an
output step (the least accumulator that requantizes to a value) placed
one accumulator off, more often towards the ends of the range, where
the accumulators are largest and the float form's error too.  Random
inputs reach neither the ends (a sum of C random products stays near its
middle) nor a given accumulator, so a range computed a third too narrow
passed every bit-exact test.  Here every output channel's accumulator
takes, over the pixels, both ends of its range and both sides of every
step of its output stage (t - 1 and t): the steps come from TFLite's
integer requantization of the multiplier the compiler derives from the
scales (ir/quant.c, ir/fixedpoint.c), done here exactly, and the input
bytes for each accumulator from the weights (a weight of +-1 in each
channel makes every value within the range reachable; the channels of a
single tap or none take only the ends).  Should this requantization
ever differ from the compiler's, the steps would be missed and the test
would weaken without failing: at its writing, layer 0's reference
outputs (qnnc-run) step at every targeted pair in every channel with a
weight of +-1.

The weights differ per channel in sign and size (all positive, all
negative, mixed, small, mostly one sign, every tap at +-127, a single
tap, none), the depthwise layers' weights have a zero point per channel,
the input and output zero points differ per layer, and each channel's
scale and bias put its whole range onto about 248 output values, short
of the clamp (which would hide a wrong value).  1x1 convs (conv_gemm):
each pixel serves one output channel.  Depthwise: strides equal to the
kernel, so windows share no byte and each serves every channel.

Deterministic (numpy's generator, seed 29); float-stage-extremes*.test
run it at test time, so nothing generated is committed.

usage: gen_float_extremes.py OUTDIR
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(29)
KINDS = ["pos", "neg", "mixed", "small", "mostly_pos", "full", "mostly_neg", "single", "zero"]
RANGE = {"i8": (-128, 127), "u8": (0, 255)}
INT32_MIN = -(1 << 31)


def arr(a):
    return "[" + ", ".join(str(int(v)) for v in np.asarray(a).reshape(-1)) + "]"


def f32(v):
    """V as the float32 the compiler reads, and its exact decimal text."""
    v = np.float32(v)
    return float(v), "{:.9g}".format(v)


def eff_weights(kind, n, lo, hi):
    """N effective weights (w - zw) of KIND within [LO, HI], with one of
    +-1 (any accumulator value reachable) unless single or zero."""
    top, bot = min(hi, 127), max(lo, -127)
    if kind in ("pos", "neg", "mostly_pos", "mostly_neg") and (top < 1 or bot > -1):
        kind = "mixed"  # a zero point at an end of the weights' range
    if kind == "pos":
        v = rng.integers(1, top + 1, n)
    elif kind == "neg":
        v = rng.integers(bot, 0, n)
    elif kind == "mixed":
        v = rng.integers(lo, hi + 1, n)
    elif kind == "small":
        v = rng.integers(-3, 4, n)
    elif kind in ("mostly_pos", "mostly_neg"):
        pos, neg, major = rng.integers(1, top + 1, n), rng.integers(bot, 0, n), rng.random(n) < 0.9
        v = np.where(major, pos, neg) if kind == "mostly_pos" else np.where(major, neg, pos)
    elif kind == "full":
        v = np.where(rng.random(n) < 0.5, top, bot)
    elif kind == "single":
        v = np.zeros(n, np.int64)
        v[rng.integers(n)] = top if rng.random() < 0.5 else bot
        return v
    else:
        return np.zeros(n, np.int64)
    v = np.clip(v, lo, hi).astype(np.int64)
    if not (np.abs(v) == 1).any():
        i = rng.integers(n)
        v[i] = 1 if (v[i] >= 0 and hi >= 1) or lo > -1 else -1
    return v


def span(w, xr, zx):
    """The accumulator range (less the bias) of effective weights W over
    input bytes within XR: what the kernels compute."""
    sp, sn = int(w[w > 0].sum()), int(w[w < 0].sum())
    return sp * (xr[0] - zx) + sn * (xr[1] - zx), sp * (xr[1] - zx) + sn * (xr[0] - zx)


def stage(w, xr, zx, sx, sy, zy):
    """The weight scale and bias of one channel (effective weights W): its
    accumulator range spans about 248 output values centred on the
    output's middle."""
    amin, amax = span(w, xr, zx)
    m = 248.0 / (amax - amin) if amax > amin else 0.01
    bias = int(round(-zy / m - (amax + amin) / 2))
    return f32(m * sy / sx), bias


def multiplier(m):
    """ir/fixedpoint.c's fp_quantize_multiplier (TFLite QuantizeMultiplier)."""
    q, e = np.frexp(m)
    qf = int(np.floor(q * 2147483648.0 + 0.5))
    if qf == 1 << 31:
        qf, e = qf // 2, e + 1
    return qf, int(e)


def requant(acc, mult, shift):
    """MultiplyByQuantizedMultiplier (ir/fixedpoint.c), |acc| << left < 2^31."""
    left, right = max(shift, 0), max(-shift, 0)
    x = acc << left
    ab = x * mult
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    t = abs(ab + nudge) >> 31
    x = t if ab + nudge >= 0 else -t
    mask = (1 << right) - 1
    rem, thr = x & mask, (mask >> 1) + (1 if x < 0 else 0)
    return ((x - rem) >> right) + (1 if rem > thr else 0)


def steps(lo, hi, mult, shift, zy):
    """Every least accumulator T in (LO, HI] at which the clamped output
    goes up (F(T) > F(T - 1)); F is non-decreasing (mult >= 0)."""
    def F(a):
        return min(max(requant(a, mult, shift) + zy, -128), 127)
    m = mult * 2.0 ** (shift - 31)
    out = []
    for v in range(F(lo) + 1, F(hi) + 1):
        # from an estimate, by single steps (F is monotone)
        t = min(max(int(np.ceil((v - zy - 0.5) / m)), lo + 1), hi)
        while t > lo + 1 and F(t - 1) >= v:
            t -= 1
        while F(t) < v:
            t += 1
        out.append(t)
    return out


def targets(w, bias, xr, zx, scale, sx, sy, zy):
    """The accumulators (less the bias) one channel must take: both ends
    and both sides of every output step."""
    lo, hi = span(w, xr, zx)
    want = {lo, hi}
    if (np.abs(w) == 1).any():
        mult, shift = multiplier(sx * scale / sy)
        for t in steps(lo + bias, hi + bias, mult, shift, zy):
            want |= {t - 1 - bias, t - bias}
    return sorted(want)


def realize(w, xr, zx, accs):
    """Input bytes (one row an accumulator) for effective weights W whose
    accumulators (less the bias) are ACCS: from the largest, bytes move
    towards their other end, largest weights first, and a weight of +-1
    takes the rest."""
    n = len(accs)
    x = np.tile(np.where(w > 0, xr[1], xr[0]).astype(np.int64), (n, 1))
    x[:, w == 0] = rng.integers(xr[0], xr[1] + 1, (n, int((w == 0).sum())))
    d = span(w, xr, zx)[1] - np.asarray(accs, np.int64)
    units = np.flatnonzero(np.abs(w) == 1)
    unit = units[0] if len(units) else -1
    for i in sorted(np.flatnonzero(w != 0), key=lambda i: -abs(int(w[i]))):
        if i != unit:
            k = np.minimum(xr[1] - xr[0], d // abs(int(w[i])))
            x[:, i] += -k if w[i] > 0 else k
            d -= k * abs(int(w[i]))
    if d.any():
        assert unit >= 0 and d.max() <= xr[1] - xr[0]
        x[:, unit] += -d if w[unit] > 0 else d
    assert (((x - zx) * w).sum(axis=1) == accs).all()
    return x


class Graph:
    def __init__(self):
        self.lines, self.outs, self.inputs = [], [], {}

    def input(self, name, dt, shape, sx, zx):
        self.lines.append("  input %{} : {}[{}] q({}, {})".format(name, dt, ",".join(map(str, shape)), f32(sx)[1], zx))
        return rng.integers(RANGE[dt][0], RANGE[dt][1] + 1, shape)

    def channels(self, wt, xr, zx, sx, sy, zy):
        """Each channel's scale, bias and target accumulators."""
        st = [stage(w, xr, zx, sx, sy, zy) for w in wt]
        tg = [targets(w, b, xr, zx, s[0], sx, sy, zy) for w, (s, b) in zip(wt, st)]
        return [s[1] for s, _ in st], [b for _, b in st], tg

    def gemm(self, name, dt, zx, c, o, w_, zy, sx=0.02, sy=0.5, kinds=KINDS):
        """A 1x1 conv of C channels to O, rows of W_ pixels, input zero
        point ZX, output zero point ZY; each pixel one channel's target."""
        sx, sy = f32(sx)[0], f32(sy)[0]
        xr = RANGE[dt]
        wt = np.stack([eff_weights(kinds[k % len(kinds)], c, -128, 127) for k in range(o)])
        if name == "0":
            wt[2, 0] = -128  # the one weight beyond -127
        scales, bias, tg = self.channels(wt, xr, zx, sx, sy, zy)
        h = (sum(len(t) for t in tg) + w_ - 1) // w_
        x = self.input("x" + name, dt, [1, h, w_, c], sx, zx).reshape(h * w_, c)
        p = 0
        for k in range(o):
            x[p:p + len(tg[k])] = realize(wt[k], xr, zx, tg[k])
            p += len(tg[k])
        self.inputs["x" + name] = x.reshape(1, h, w_, c).astype(np.int8 if dt == "i8" else np.uint8)
        self.lines.append("  const %w{} : i8[{},1,1,{}] q(axis=0, scales=[{}], zero_points=[{}]) = {}".format(
            name, o, c, ", ".join(scales), ", ".join(["0"] * o), arr(wt)))
        self.lines.append("  const %b{} : i32[{}] = {}".format(name, o, arr(bias)))
        self.lines.append("  %y{} = conv2d(%x{}, %w{}, %b{}) {{rounding=tflite}} : i8[1,{},{},{}] q({}, {})".format(
            name, name, name, name, h, w_, o, f32(sy)[1], zy))
        self.outs.append("y" + name)

    def depthwise(self, name, dt, zx, c, k, ow, wdt, zy, zw_max=20, sx=0.03, sy=0.6):
        """A KH x KW depthwise conv of C channels with strides KH and KW
        (windows apart), rows of OW output pixels, weights of WDT with a
        zero point per channel (0 for a quarter; i8: within +-ZW_MAX, and
        the weights less it within i8 when ZW_MAX is small: the kernel's
        four rows a lane), output zero point ZY."""
        sx, sy = f32(sx)[0], f32(sy)[0]
        kh, kw = k
        xr, wr = RANGE[dt], RANGE[wdt]
        zw = rng.integers(wr[0], wr[1] + 1, c) if wdt == "u8" else rng.integers(-zw_max, zw_max + 1, c)
        zw[: c // 4] = 0 if wdt == "i8" else 128
        lo = wr[0] - zw if zw_max > 3 else np.full(c, -128 + zw_max)
        hi = wr[1] - zw if zw_max > 3 else np.full(c, 127 - zw_max)
        wt = np.stack([eff_weights(KINDS[j % len(KINDS)], kh * kw, lo[j], hi[j]) for j in range(c)])  # w - zw
        scales, bias, tg = self.channels(wt, xr, zx, sx, sy, zy)
        n = max(len(t) for t in tg)
        oh = (n + ow - 1) // ow
        x = self.input("x" + name, dt, [1, oh * kh, ow * kw, c], sx, zx)[0]
        for j in range(c):
            for p, xs in enumerate(realize(wt[j], xr, zx, tg[j])):
                oy, ox = divmod(p, ow)
                x[oy * kh:(oy + 1) * kh, ox * kw:(ox + 1) * kw, j] = xs.reshape(kh, kw)
        self.inputs["x" + name] = x[None].astype(np.int8 if dt == "i8" else np.uint8)
        raw = (wt + zw[:, None]).reshape(c, kh, kw, 1)
        self.lines.append("  const %w{} : {}[{},{},{},1] q(axis=0, scales=[{}], zero_points=[{}]) = {}".format(
            name, wdt, c, kh, kw, ", ".join(scales), ", ".join(map(str, zw)), arr(raw)))
        self.lines.append("  const %b{} : i32[{}] = {}".format(name, c, arr(bias)))
        self.lines.append("  %y{0} = conv2d(%x{0}, %w{0}, %b{0}) {{group={1}, strides=[{2}, {3}], rounding=tflite}} "
                          ": i8[1,{4},{5},{1}] q({6}, {7})".format(name, c, kh, kw, oh, ow, f32(sy)[1], zy))
        self.outs.append("y" + name)


def main():
    out = sys.argv[1]
    g = Graph()
    g.gemm("0", "u8", 7, 16, 32, 64, -100)
    g.gemm("1", "i8", -128, 48, 24, 64, 0)
    g.gemm("2", "u8", 250, 256, 16, 64, 37)
    g.gemm("3", "i8", 100, 64, 24, 64, 120)
    # One-sided weights: wide ranges of one sign (corrections on AVX-512).
    g.gemm("4", "u8", 0, 24, 32, 64, -100, kinds=["pos", "mostly_pos"])
    g.depthwise("5", "i8", -7, 32, (3, 3), 24, "i8", 5)
    g.depthwise("6", "u8", 131, 24, (5, 5), 24, "u8", -60)
    g.depthwise("7", "i8", 100, 20, (7, 7), 24, "i8", 90)
    # Weights less their zero points within i8: the kernel's four rows a
    # lane on x86 (kernel_depthwise.c's quads) whatever the stride.
    g.depthwise("8", "i8", 3, 40, (7, 1), 24, "i8", -30, zw_max=3)
    g.depthwise("9", "u8", 60, 16, (3, 3), 24, "i8", 0, zw_max=3)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "float-extremes.qir"), "w") as f:
        f.write("// Generated by gen_float_extremes.py: each channel's accumulator at both\n"
                "// ends of its range and on both sides of every output step.\n")
        f.write("graph @fextremes {\n" + "\n".join(g.lines) + "\n")
        f.write("".join("  output %{}\n".format(o) for o in g.outs) + "}\n")
    for name, v in g.inputs.items():
        np.save(os.path.join(out, name + ".npy"), v)


if __name__ == "__main__":
    main()
