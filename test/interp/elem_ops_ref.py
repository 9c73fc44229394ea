"""The issue-12 elementwise ops through qnnc-run against NumPy, for
elem-ops.test.

  elem_ops_ref.py QNNC_RUN TMPDIR

Writes a graph with every op (float and quantized), random inputs as .npy,
runs `qnnc-run`, and compares each output with a NumPy model written from
the ONNX operator specs and docs/ir-semantics.md, not from qnnc's code:

  - float functions that go through libm (exp, log, erf, gelu, elu, pow)
    within 4 float32 ulp of a float64 evaluation (or 1e-6 absolute, where
    gelu and elu cancel); sqrt, reciprocal, abs,
    neg, max, min, prelu, comparisons, where and not exactly;
  - quantized unary ops: dequantize in float32, the function, quantize
    half to even (the LUT rule); exact for abs, neg, sqrt and reciprocal,
    within one step for the libm functions (a float32 ulp may cross a
    rounding boundary);
  - quantized max/min/prelu: the real values (exact in float64), the
    function, round half to even; comparisons on real values: exactly.

Prints one line per output and "elem_ops_ref: N outputs checked, M
mismatches".
"""
import math
import os
import subprocess
import sys

import warnings

import numpy as np

warnings.simplefilter("ignore")  # sqrt of negatives, 1/0: intended

SX, ZX = 0.0625, -3      # quantized input x: i8 q(0.0625, -3)
SB, ZB = 0.05, 7         # quantized input b: i8[4] q(0.05, 7)

GRAPH = """graph @elem_ops {
  input %x : f32[3,4]
  input %g : f32[4]
  input %p : f32[3,4]
  input %qx : i8[3,4] q(0.0625, -3)
  input %qb : i8[4] q(0.05, 7)
  %exp = exp(%x) : f32[3,4]
  %log = log(%p) : f32[3,4]
  %sqrt = sqrt(%p) : f32[3,4]
  %rcp = reciprocal(%x) : f32[3,4]
  %erf = erf(%x) : f32[3,4]
  %gelu = gelu(%x) : f32[3,4]
  %gelut = gelu(%x) {approximate=tanh} : f32[3,4]
  %abs = abs(%x) : f32[3,4]
  %neg = neg(%x) : f32[3,4]
  %elu = elu(%x) : f32[3,4]
  %elu2 = elu(%x) {alpha=0.5} : f32[3,4]
  %pow = pow(%p, %g) : f32[3,4]
  %max = max(%x, %g) : f32[3,4]
  %min = min(%x, %g) : f32[3,4]
  %prelu = prelu(%x, %g) : f32[3,4]
  %eq = equal(%x, %g) : u8[3,4]
  %gt = greater(%x, %g) : u8[3,4]
  %ge = greater_equal(%x, %g) : u8[3,4]
  %lt = less(%x, %g) : u8[3,4]
  %le = less_equal(%x, %g) : u8[3,4]
  %not = not(%gt) : u8[3,4]
  %where = where(%gt, %x, %g) : f32[3,4]
  %qexp = exp(%qx) : i8[3,4] q(0.25, -128)
  %qsqrt = sqrt(%qx) : i8[3,4] q(0.015625, -128)
  %qabs = abs(%qx) : i8[3,4] q(0.03125, -128)
  %qneg = neg(%qx) : i8[3,4] q(0.0625, 0)
  %qgelu = gelu(%qx) : i8[3,4] q(0.03, -100)
  %qgelut = gelu(%qx) {approximate=tanh} : i8[3,4] q(0.03, -100)
  %qelu = elu(%qx) : i8[3,4] q(0.04, 10)
  %qmax = max(%qx, %qb) : i8[3,4] q(0.07, -5)
  %qmin = min(%qx, %qb) : i8[3,4] q(0.07, 5)
  %qprelu = prelu(%qx, %qb) : i8[3,4] q(0.1, 2)
  %qgt = greater(%qx, %qb) : u8[3,4]
  %qeq = equal(%qx, %qb) : u8[3,4]
  %qwhere = where(%qgt, %qx, %qx) : i8[3,4] q(0.0625, -3)
  output %exp, %log, %sqrt, %rcp, %erf, %gelu, %gelut, %abs, %neg, %elu, %elu2, %pow, %max, %min, %prelu
  output %eq, %gt, %ge, %lt, %le, %not, %where
  output %qexp, %qsqrt, %qabs, %qneg, %qgelu, %qgelut, %qelu, %qmax, %qmin, %qprelu, %qgt, %qeq, %qwhere
}
"""

OUTS = ("exp log sqrt rcp erf gelu gelut abs neg elu elu2 pow max min prelu eq gt ge lt le not where "
        "qexp qsqrt qabs qneg qgelu qgelut qelu qmax qmin qprelu qgt qeq qwhere").split()


def quant(f, s, z):
    """ONNX QuantizeLinear to int8: f / s in float32, half to even; NaN
    (sqrt of a negative) becomes the zero point (docs/ir-semantics.md)."""
    v = (np.float32(f) / np.float32(s)).astype(np.float64)
    v = np.where(np.isnan(v), 0.0, v)
    return np.clip(np.rint(v) + z, -128, 127).astype(np.int8)


def deq(q, s, z):
    return (q.astype(np.int64) - z).astype(np.float32) * np.float32(s)


def gelu_tanh(d):
    """ONNX Gelu-20, approximate="tanh", in float64."""
    return 0.5 * d * (1 + np.tanh(math.sqrt(2 / math.pi) * (d + 0.044715 * d ** 3)))


def ulps(a, b):
    a = a.astype(np.float32).view(np.int32).astype(np.int64)
    b = b.astype(np.float32).view(np.int32).astype(np.int64)
    a = np.where(a < 0, -(a & 0x7fffffff), a)
    b = np.where(b < 0, -(b & 0x7fffffff), b)
    return np.abs(a - b)


def main():
    qnnc_run, tmp = sys.argv[1], sys.argv[2]
    os.makedirs(tmp, exist_ok=True)
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((3, 4)) * 2).astype(np.float32)
    x[0, 0] = 0.0
    g = np.array([0.5, -1.0, 2.0, x[1, 3]], np.float32)  # one exact tie for equal
    p = rng.uniform(0.1, 5.0, (3, 4)).astype(np.float32)
    qx = rng.integers(-128, 128, (3, 4)).astype(np.int8)
    qx[2, :] = [-128, -3, 127, 0]
    qb = np.array([-128, 7, 127, 10], np.int8)
    vec = np.vectorize
    erf = vec(math.erf)
    d = x.astype(np.float64)

    exp_f = {
        "exp": (np.exp(d), 4), "log": (np.log(p.astype(np.float64)), 4),
        "sqrt": (np.sqrt(p), 0), "rcp": (np.float32(1) / x, 0),
        "erf": (erf(d), 4), "gelu": (0.5 * d * (1 + erf(d / math.sqrt(2))), 4),
        "gelut": (gelu_tanh(d), 4),
        "abs": (np.abs(x), 0), "neg": (-x, 0),
        "elu": (np.where(d < 0, np.expm1(d), d), 4),
        "elu2": (np.where(d < 0, 0.5 * np.expm1(d), d), 4),
        "pow": (np.power(p.astype(np.float64), g.astype(np.float64)), 4),
        "max": (np.maximum(x, g), 0), "min": (np.minimum(x, g), 0),
        "prelu": (np.where(x < 0, g * x, x), 0),
        "eq": (x == g, 0), "gt": (x > g, 0), "ge": (x >= g, 0), "lt": (x < g, 0),
        "le": (x <= g, 0), "not": (~(x > g), 0), "where": (np.where(x > g, x, g), 0),
    }
    xf = deq(qx, SX, ZX)
    xd = xf.astype(np.float64)
    ra = (qx.astype(np.float64) - ZX) * np.float64(np.float32(SX))
    rb = (qb.astype(np.float64) - ZB) * np.float64(np.float32(SB))

    def qreal(r, s, z):  # real (float64, exact) -> int8, half to even
        return np.clip(np.rint(r / np.float64(np.float32(s))) + z, -128, 127).astype(np.int8)

    exp_q = {
        "qexp": (quant(np.exp(xd), 0.25, -128), 1),
        "qsqrt": (quant(np.sqrt(xf), 0.015625, -128), 0),
        "qabs": (quant(np.abs(xf), 0.03125, -128), 0),
        "qneg": (quant(-xf, 0.0625, 0), 0),
        "qgelu": (quant(0.5 * xd * (1 + erf(xd / math.sqrt(2))), 0.03, -100), 1),
        "qgelut": (quant(gelu_tanh(xd), 0.03, -100), 1),
        "qelu": (quant(np.where(xd < 0, np.expm1(xd), xd), 0.04, 10), 1),
        "qmax": (qreal(np.maximum(ra, rb), 0.07, -5), 0),
        "qmin": (qreal(np.minimum(ra, rb), 0.07, 5), 0),
        "qprelu": (qreal(np.where(ra < 0, rb * ra, ra), 0.1, 2), 0),
        "qgt": (ra > rb, 0), "qeq": (ra == rb, 0), "qwhere": (qx, 0),
    }
    names = ["x", "g", "p", "qx", "qb"]
    for n, a in zip(names, [x, g, p, qx, qb]):
        np.save(os.path.join(tmp, n + ".npy"), a)
    with open(os.path.join(tmp, "g.qir"), "w") as f:
        f.write(GRAPH)
    cmd = [qnnc_run, os.path.join(tmp, "g.qir")]
    for n in names:
        cmd += ["--input", os.path.join(tmp, n + ".npy")]
    for o in OUTS:
        cmd += ["--output", os.path.join(tmp, o + ".npy")]
    subprocess.run(cmd, check=True)
    bad = 0
    for o in OUTS:
        want, tol = {**exp_f, **exp_q}[o]
        got = np.load(os.path.join(tmp, o + ".npy"))
        if want.dtype == np.bool_:
            ok = got.dtype == np.uint8 and np.array_equal(got, want.astype(np.uint8))
        elif o.startswith("q"):
            ok = got.dtype == np.int8 and np.all(np.abs(got.astype(int) - want.astype(int)) <= tol)
            if tol:  # a step off only where the real value sits at a rounding boundary
                ok = ok and int(np.sum(got != want)) <= 1
        else:
            # libm results: within TOL ulp, or 1e-6 absolute where the
            # formula cancels (gelu and elu near 0 subtract from 1).
            w32 = want.astype(np.float32)
            close = (ulps(got, w32) <= tol) | (np.abs(got.astype(np.float64) - want) <= 1e-6 * (tol > 0))
            ok = got.dtype == np.float32 and np.all(close)
        print("%s: %s" % (o, "ok" if ok else "MISMATCH got %r want %r" % (got.ravel(), want.ravel())))
        bad += not ok
    print("elem_ops_ref: %d outputs checked, %d mismatches" % (len(OUTS), bad))


if __name__ == "__main__":
    main()
