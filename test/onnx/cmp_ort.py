#!/usr/bin/python3
"""cmp_ort.py ACTUAL.npy ORT.npy [--max-diff D] [--max-count N]

Compares qnnc-run's integer (or float) output with ONNX Runtime's.  Prints
"NAME: N of M differ, max |diff| D" and fails when more than N elements
differ or any differs by more than D (defaults 0: bit-exact).
"""
import argparse
import sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("actual")
ap.add_argument("expected")
ap.add_argument("--max-diff", type=float, default=0)
ap.add_argument("--max-count", type=int, default=0)
a = ap.parse_args()
got, exp = np.load(a.actual), np.load(a.expected)
if got.shape != exp.shape or got.dtype != exp.dtype:
    print(f"mismatch: {got.dtype}{list(got.shape)} vs {exp.dtype}{list(exp.shape)}")
    sys.exit(1)
d = np.abs(got.astype(np.float64) - exp.astype(np.float64))
n = int((d > 0).sum())
mx = float(d.max()) if d.size else 0.0
print(f"{a.expected.rsplit('/', 1)[-1]}: {n} of {d.size} differ, max |diff| {mx:g}")
if n > a.max_count or mx > a.max_diff:
    print("FAIL")
    sys.exit(1)
print("ok")
