"""A NumPy reference for the quantized OPF_NONLINEAR ops (sigmoid, tanh,
hard_swish, leaky_relu), written from docs/ir-semantics.md, not from
qnnc's C code:

    xf = (float)(x - zx) * sx                 float32
    f  = op(xf)                               float32
    y  = sat(rne(f / sy) + zy)                f / sy in float32, ties to even

The float32 functions: sigmoid = 1 / (1 + exp(-x)), tanh, hard_swish =
(x * relu6(x + 3)) / 6 left to right, leaky_relu = x < 0 ? alpha * x : x,
every step one float32 operation.  exp and tanh are computed in double by
NumPy and rounded to float32 once (the correctly rounded float32 value in
all but vanishingly rare cases); glibc's expf/tanhf, which qnnc uses, may
differ from that in the last bit (6e-8 at most for values up to 1).  A
last-bit difference can only change the result when f lies next to a
rounding tie, so for sigmoid and tanh an entry whose f is within 1e-6 of a
tie (k + 1/2) * sy, and whose two neighbouring results do not saturate to
the same bound, is a "tie": it is listed and allowed to differ by one.
Everything else, and every hard_swish and leaky_relu entry (only + - * /
in float32, no library function), must match exactly.

  nonlinear_ref.py WORKDIR    the quantized ops through qnnc-run on all 256
                              int8 and uint8 inputs against this reference
"""
import os
import random
import subprocess
import sys

import math

import numpy as np

F32 = np.float32
DTYPES = {"i8": (np.int8, -128, 127), "u8": (np.uint8, 0, 255)}
TRANSCENDENTAL = {"sigmoid", "tanh", "exp", "log", "erf", "gelu", "gelu_tanh", "elu"}
TIE_EPS = 1e-6


def act_f32(op, xf, alpha=0.01):
    """The float32 function of docs/ir-semantics.md on a float32 array."""
    xf = np.asarray(xf, dtype=F32)
    if op == "sigmoid":
        e = np.exp(-xf.astype(np.float64)).astype(F32)
        return (F32(1) / (F32(1) + e)).astype(F32)
    if op == "tanh":
        return np.tanh(xf.astype(np.float64)).astype(F32)
    if op == "hard_swish":
        r = np.minimum(np.maximum(xf + F32(3), F32(0)), F32(6)).astype(F32)
        return ((xf * r).astype(F32) / F32(6)).astype(F32)
    if op == "leaky_relu":
        return np.where(xf < 0, (F32(alpha) * xf).astype(F32), xf).astype(F32)
    xd = xf.astype(np.float64)
    with np.errstate(all="ignore"):
        if op == "exp":
            return np.exp(xd).astype(F32)
        if op == "log":
            return np.log(xd).astype(F32)
        if op == "sqrt":
            return np.sqrt(xf).astype(F32)
        if op == "reciprocal":
            return (F32(1) / xf).astype(F32)
        if op == "abs":
            return np.abs(xf)
        if op == "neg":
            return -xf
        if op == "erf":
            return np.vectorize(math.erf)(xd).astype(F32)
        if op == "gelu":
            # 0.5 * x * (1 + erf(x * 0.70710677)), every step in float32.
            e = np.vectorize(math.erf)((xf * F32(0.70710677)).astype(F32).astype(np.float64)).astype(F32)
            return ((F32(0.5) * xf).astype(F32) * (F32(1) + e).astype(F32)).astype(F32)
        if op == "gelu_tanh":
            # gelu {approximate=tanh}: c = (x * x) * x; u = 0.7978846 * (x +
            # 0.044715 * c); 0.5 * x * (1 + tanh(u)), every step in float32.
            c = ((xf * xf).astype(F32) * xf).astype(F32)
            u = (F32(0.7978846) * (xf + (F32(0.044715) * c).astype(F32)).astype(F32)).astype(F32)
            t = np.tanh(u.astype(np.float64)).astype(F32)
            return ((F32(0.5) * xf).astype(F32) * (F32(1) + t).astype(F32)).astype(F32)
        if op == "elu":
            em1 = (np.exp(xd).astype(F32) - F32(1)).astype(F32)
            return np.where(xf < 0, (F32(alpha) * em1).astype(F32), xf).astype(F32)
    raise ValueError(op)


def quantized(op, x, sx, zx, sy, zy, dtype, alpha=0.01):
    """Reference outputs for the integer inputs x (any int array) and a mask
    of the entries next to a rounding tie (only for sigmoid and tanh)."""
    _, lo, hi = DTYPES[dtype]
    xf = (np.asarray(x, dtype=np.int64) - zx).astype(F32) * F32(sx)
    f = act_f32(op, xf.astype(F32), alpha)
    with np.errstate(all="ignore"):
        v = (f / F32(sy)).astype(F32)
    # NaN (log or sqrt of a negative) quantizes to the zero point.
    nan = np.isnan(v)
    v = np.where(nan, F32(0), v)
    # Clamped in float first: 1/0 = inf saturates.
    y = np.clip(np.rint(v.astype(np.float64)) + zy, lo, hi).astype(np.int64)
    vd = np.clip(v.astype(np.float64), -2.0**40, 2.0**40)
    dist = np.abs(f.astype(np.float64) - (np.floor(vd) + 0.5) * sy)
    # A float32 libm result may be an ulp off: relative to |f| when large.
    ties = (dist <= np.maximum(TIE_EPS, np.abs(f.astype(np.float64)) * 1e-6)) & ~nan
    if op not in TRANSCENDENTAL:
        ties[:] = False
    # A tie whose both neighbours saturate to the same bound cannot matter.
    both = np.clip(np.floor(vd).astype(np.int64) + zy, lo, hi) == np.clip(np.floor(vd).astype(np.int64) + 1 + zy, lo, hi)
    ties &= ~both
    return y, ties


def ranges(xs):
    """[1, 2, 3, 7] -> '1..3 7': tie inputs listed compactly."""
    out, xs = [], [int(v) for v in xs]
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
            j += 1
        out.append(str(xs[i]) if i == j else "%d..%d" % (xs[i], xs[j]))
        i = j + 1
    return " ".join(out)


def fmt(v):
    return "%.9g" % v


def cases():
    """(op, dtype, sx, zx, sy, zy): hand-picked ranges, then random ones."""
    out = []
    for dt in ("i8", "u8"):
        zmid = 0 if dt == "i8" else 128
        zlow = -128 if dt == "i8" else 0
        out += [
            ("sigmoid", dt, 16 / 255, zmid, 1 / 256, zlow),
            ("sigmoid", dt, 0.05, zmid - 10, 1 / 256, zlow),
            ("tanh", dt, 8 / 255, zmid, 1 / 128, zmid),
            ("tanh", dt, 0.01, zmid + 7, 1 / 128, zmid),
            ("hard_swish", dt, 12 / 255, zmid, 8 / 255, zlow + 21),
            ("hard_swish", dt, 0.0234375, zmid - 3, 0.015625, zlow + 30),
        ]
    rnd = random.Random(11)
    for dt in ("i8", "u8"):
        lo, hi = DTYPES[dt][1:]
        for op in ("sigmoid", "tanh", "hard_swish"):
            for _ in range(3):
                sx = float(F32(rnd.uniform(0.005, 0.1)))
                sy = float(F32(rnd.uniform(0.002, 0.05)))
                out.append((op, dt, sx, rnd.randint(lo, hi), sy, rnd.randint(lo, hi)))
    return out


def main(work):
    os.makedirs(work, exist_ok=True)
    fails = 0
    all_cases = cases()
    for k, (op, dt, sx, zx, sy, zy) in enumerate(all_cases):
        npt, lo, hi = DTYPES[dt]
        sx, sy = float(F32(sx)), float(F32(sy))
        x = np.arange(lo, hi + 1).astype(npt)
        xin = os.path.join(work, "x_%s.npy" % dt)
        np.save(xin, x)
        g = ("graph @nl {\n  input %%x : %s[256] q(%s, %d)\n  %%y = %s(%%x) : %s[256] q(%s, %d)\n  output %%y\n}\n"
             % (dt, fmt(sx), zx, op, dt, fmt(sy), zy))
        path = os.path.join(work, "case%d.qir" % k)
        with open(path, "w") as fh:
            fh.write(g)
        outp = os.path.join(work, "case%d.npy" % k)
        subprocess.run(["qnnc-run", path, "--input", xin, "--output", outp], check=True)
        got = np.load(outp).astype(np.int64)
        want, ties = quantized(op, x, sx, zx, sy, zy, dt)
        d = np.abs(got - want)
        badmask = (d > 0) & (~ties | (d > 1))
        bad = int(np.count_nonzero(badmask))
        if ties.any():
            print("  ties (allowed to differ by one) in case %d at x = %s; qnnc differs at x = %s"
                  % (k, ranges(x[ties]), ranges(x[ties & (d > 0)]) or "none"))
        for i in np.nonzero(badmask)[0][:10]:
            print("  MISMATCH %s case %d x=%d: reference %d, qnnc %d" % (op, k, x[i], want[i], got[i]))
        distinct = len(set(want.tolist()))
        if distinct < 2:
            bad += 1
        fails += bool(bad)
        print("%s %s case %d q(%s, %d) -> q(%s, %d): 256 inputs, %d differ, %d ties, %d distinct"
              % (op, dt, k, fmt(sx), zx, fmt(sy), zy, bad, int(ties.sum()), distinct))
    print("cases %d failures %d" % (len(all_cases), fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
