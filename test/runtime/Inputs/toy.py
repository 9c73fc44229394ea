"""Inputs and the oracle for the toy model (toy_model.c).

  toy.py make DIR    writes a.npy, b.npy (int8 [2,8]) and variants for the
                     harness's error paths
  toy.py check-affine DIR   checks DIR/yf.npy from affine_model.c exactly
  toy.py check DIR   checks DIR/y.npy against two references computed here
                     from the scales alone: TFLite's int8 Add in exact
                     integer arithmetic (bit-exact), and the real-valued sum
                     rounded to the output scale (within 1 LSB)

Neither reference uses a number the C code produced."""
import math
import sys

import numpy as np

SA, ZA = float(np.float32(0.05)), -3
SB, ZB = float(np.float32(0.02)), 5
SY, ZY = float(np.float32(0.06)), -10
LEFT_SHIFT = 20


def quantize_multiplier(m):
    """TFLite QuantizeMultiplier: m ~= q * 2^(shift - 31), q in [2^30, 2^31)."""
    if m == 0:
        return 0, 0
    f, e = math.frexp(m)
    q = math.floor(f * (1 << 31) + 0.5)  # TfLiteRound: half away from zero (f > 0)
    if q == 1 << 31:
        q //= 2
        e += 1
    return q, e


def srdhm(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul, step by step."""
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    n = ab + nudge
    q = abs(n) >> 31  # division truncating towards zero
    return q if n >= 0 else -q


def rdbpot(x, e):
    """gemmlowp RoundingDivideByPOT, in its mask-and-threshold form."""
    mask = (1 << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if remainder > threshold else 0)


def wrap32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def mbqm(x, m, shift):
    """TFLite MultiplyByQuantizedMultiplier."""
    left, right = max(shift, 0), max(-shift, 0)
    return rdbpot(srdhm(wrap32(x << left), m), right)


def tflite_add(a, b):
    twice_max = 2 * max(SA, SB)
    ma, sha = quantize_multiplier(SA / twice_max)
    mb, shb = quantize_multiplier(SB / twice_max)
    my, shy = quantize_multiplier(twice_max / ((1 << LEFT_SHIFT) * SY))
    out = []
    for qa, qb in zip(a.ravel().tolist(), b.ravel().tolist()):
        s = mbqm((qa - ZA) << LEFT_SHIFT, ma, sha) + mbqm((qb - ZB) << LEFT_SHIFT, mb, shb)
        out.append(min(127, max(-128, mbqm(s, my, shy) + ZY)))
    return np.array(out, dtype=np.int64).reshape(a.shape)


def make(d):
    rng = np.random.default_rng(5)
    a = rng.integers(-128, 128, size=(2, 8)).astype(np.int8)
    b = rng.integers(-128, 128, size=(2, 8)).astype(np.int8)
    # The corners: both extremes of each input, and zero points.
    a[0, :4] = [-128, 127, ZA, 127]
    b[0, :4] = [-128, 127, ZB, -128]
    np.save(f"{d}/a.npy", a)
    np.save(f"{d}/b.npy", b)
    np.save(f"{d}/b64.npy", b.astype(np.int64))  # NumPy's default integer type
    np.save(f"{d}/b_shape.npy", b.reshape(4, 4))
    np.save(f"{d}/b_f32.npy", b.astype(np.float32))
    big = b.astype(np.int64)
    big[1, 2] = 300
    np.save(f"{d}/b_big.npy", big)
    # For affine_model.c: exact in f32, NumPy's default float64 on disk.
    x = np.array([[0.5, -1.25], [1000.0, -0.0], [3.0e-3, 1.5e20]])
    np.save(f"{d}/x.npy", x.astype(np.float32))
    np.save(f"{d}/x64.npy", x)


def check(d):
    a, b, y = (np.load(f"{d}/{n}.npy") for n in ("a", "b", "y"))
    assert y.dtype == np.int8 and y.shape == (2, 8), (y.dtype, y.shape)
    want = tflite_add(a, b)
    bad = np.argwhere(y != want)
    if len(bad):
        sys.exit(f"toy: {len(bad)} outputs differ from the integer reference, first at {bad[0]}: "
                 f"{y[tuple(bad[0])]} != {want[tuple(bad[0])]}")
    real = SA * (a.astype(np.float64) - ZA) + SB * (b.astype(np.float64) - ZB)
    yf = np.clip(np.round(real / SY) + ZY, -128, 127)
    err = np.abs(y.astype(np.float64) - yf).max()
    if err > 1:
        sys.exit(f"toy: output is {err} LSB from the float reference (tolerance 1)")
    print(f"toy: {y.size} outputs bit-exact with the integer reference, within {err:.0f} LSB of the float one")


def check_affine(d):
    x, y = np.load(f"{d}/x.npy"), np.load(f"{d}/yf.npy")
    assert y.dtype == np.float32 and y.shape == (3, 2), (y.dtype, y.shape)
    want = np.float32(2) * x + np.float32(1)
    if not np.array_equal(y, want):
        sys.exit(f"affine: {y} != {want}")
    print(f"affine: {y.size} outputs exact")


if __name__ == "__main__":
    {"make": make, "check": check, "check-affine": check_affine}[sys.argv[1]](sys.argv[2])
