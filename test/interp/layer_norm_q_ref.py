"""A NumPy reference for quantized layer_norm, written from
docs/ir-semantics.md ("layer_norm"), not from qnnc's C code:

    v = x - zx;  S1 = sum v;  S2 = sum v*v                  exact integers
    var  = (float32)(sx*sx * (len*S2 - S1*S1) / (len*len))  in double
    gain = sx / sqrtf(var + eps)                            float32
    mean = (float32)(S1 / len)                              in double
    qs   = scale / sy;  qb = bias / sy                      float32, per column
    t    = ((float32)v - mean) * gain * qs + qb             float32, in order
    y    = sat(round(t) + zy)            ties to even (onnx) or away
                                         from zero (tflite)

Every step is one IEEE operation (no library function), so qnnc must match
exactly.  The script also measures how far the result is from ONNX's
LayerNormalization in float64 on the dequantized input (the definition
the integer statistics replace): at most one step, on few elements.

  layer_norm_q_ref.py WORKDIR
"""
import os
import random
import subprocess
import sys

import numpy as np

F32, F64 = np.float32, np.float64
DT = {"i8": (np.int8, -128, 127), "u8": (np.uint8, 0, 255), "i16": (np.int16, -32768, 32767)}


def rnd(x, mode):
    if mode == "onnx":
        return np.rint(x)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quant(t, zy, mode, lo, hi):
    q = rnd(t.astype(F64), mode) + zy
    return np.clip(q, lo, hi).astype(np.int64)


def reference(x, sx, zx, sy, zy, g, b, eps, mode, lo, hi):
    rows, n = x.shape
    out = np.empty_like(x, dtype=np.int64)
    qs = (g / F32(sy)).astype(F32)
    qb = None if b is None else (b / F32(sy)).astype(F32)
    for r in range(rows):
        v = x[r].astype(np.int64) - zx
        s1, s2 = int(v.sum()), int((v * v).sum())
        var = F32(F64(sx) * F64(sx) * F64(n * s2 - s1 * s1) / (F64(n) * F64(n)))
        gain = F32(F32(sx) / np.sqrt(F32(var + F32(eps))))
        mean = F32(F64(s1) / F64(n))
        t = ((v.astype(F32) - mean).astype(F32) * gain).astype(F32)
        t = (t * qs).astype(F32)
        if qb is not None:
            t = (t + qb).astype(F32)
        out[r] = quant(t, zy, mode, lo, hi)
    return out


def float64_ln(x, sx, zx, sy, zy, g, b, eps, mode, lo, hi):
    xf = (x.astype(F64) - zx) * sx
    m = xf.mean(axis=1, keepdims=True)
    d = xf - m
    y = d / np.sqrt((d * d).mean(axis=1, keepdims=True) + eps) * g + (0 if b is None else b)
    return np.clip(rnd(y / sy, mode) + zy, lo, hi).astype(np.int64)


def fmt(a):
    return ", ".join(repr(float(F32(v))) for v in a)


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)
    random.seed(7)
    # (dtype, rows, len, rounding, with bias): ViT's [49, 64], a row of one,
    # odd lengths, every dtype; the last, 16,384 i16 outputs (float32
    # values up to 2^15, whose last bit decides many roundings), tells
    # qscale = scale / sy from dividing each element by sy.
    cases = [("i8", 49, 64, "tflite", True), ("i8", 49, 64, "onnx", True), ("i8", 13, 9, "tflite", False),
             ("u8", 7, 33, "onnx", True), ("i16", 5, 40, "tflite", True), ("i8", 4, 1, "onnx", True),
             ("i8", 3, 200, "tflite", True), ("i16", 64, 256, "onnx", True)]
    failures = 0
    for ci, (dt, rows, n, mode, bias) in enumerate(cases):
        npt, lo, hi = DT[dt]
        sx = float(F32(rng.uniform(0.002, 0.1)))
        sy = float(F32(rng.uniform(0.005, 0.05)))
        zx = 0 if dt == "i16" else int(rng.integers(lo + 20, hi - 20))
        zy = 0 if dt == "i16" else int(rng.integers(lo + 20, hi - 20))
        if dt == "i16":
            sx, sy = float(F32(sx / 200)), float(F32(sy / 200))  # float32, as qnnc reads them
        x = rng.integers(lo, hi + 1, size=(rows, n)).astype(npt)
        # A row whose values are all equal (variance 0).
        x[0, :] = x[0, 0]
        g = rng.uniform(-1.5, 1.5, n).astype(F32)
        b = rng.uniform(-0.5, 0.5, n).astype(F32) if bias else None
        eps = 1e-5
        qir = os.path.join(work, f"ln{ci}.qir")
        with open(qir, "w") as f:
            f.write("graph @ln {\n")
            f.write(f"  input %x : {dt}[{rows},{n}] q({sx!r}, {zx})\n")
            f.write(f"  const %g : f32[{n}] = [{fmt(g)}]\n")
            if bias:
                f.write(f"  const %b : f32[{n}] = [{fmt(b)}]\n")
            ops = "%x, %g, %b" if bias else "%x, %g"
            f.write(f"  %y = layer_norm({ops}) {{rounding={mode}}} : {dt}[{rows},{n}] q({sy!r}, {zy})\n")
            f.write("  output %y\n}\n")
        xin, yout = os.path.join(work, f"x{ci}.npy"), os.path.join(work, f"y{ci}.npy")
        np.save(xin, x)
        subprocess.run(["qnnc-run", qir, "--input", xin, "--output", yout], check=True)
        got = np.load(yout).astype(np.int64)
        want = reference(x, sx, zx, sy, zy, g, b, eps, mode, lo, hi)
        f64 = float64_ln(x, sx, zx, sy, zy, g, b, eps, mode, lo, hi)
        differ = int((got != want).sum())
        d64 = np.abs(got - f64)
        failures += differ > 0 or d64.max() > 1
        print(f"case {ci} {dt} [{rows},{n}] {mode}{' bias' if bias else ''}: {got.size} elements, "
              f"{differ} differ from the reference, float64 LayerNormalization: max {int(d64.max())} step(s), "
              f"{int((d64 > 0).sum())} off, {len(np.unique(got))} distinct")
    print(f"cases {len(cases)} failures {failures}")


main()
