"""Checks calibrated ranges of small_cnn.py's graph against NumPy, for
dataset-fashion-mnist.test:

  cnn_ranges.py CNN.qir MINMAX.qir [CLIPPED.qir...]

The float CNN (weights parsed from CNN.qir) runs in NumPy float64 on the
first 1,000 Fashion-MNIST training images, pixels / 255.  Every range that
minmax calibration wrote (MINMAX.qir) must be NumPy's [min, max] of that
tensor over all images (relu outputs and pools: [0, max]) within 1e-5 of
the range's width (qnnc runs the graph in float32).  The ranges of a
clipping method (entropy, mse: CLIPPED.qir) must lie inside NumPy's
[min, max] and keep some of it (hi > 0)."""
import gzip
import re
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as fh:
    raw = fh.read()
x = np.frombuffer(raw, np.uint8, offset=16)[:1000 * 784].reshape(1000, 28, 28, 1).astype(np.float64) / 255

src = open(sys.argv[1]).read()
w = {}
for m in re.finditer(r"const %(\w+) : f32\[([\d,]+)\] = \[([^\]]*)\]", src):
    w[m.group(1)] = np.array([float(v) for v in m.group(3).split(",")]).reshape([int(v) for v in m.group(2).split(",")])


def conv_same(a, k, b):
    """3x3 convolution, pads 1, NHWC input, OHWI weights."""
    p = np.pad(a, ((0, 0), (1, 1), (1, 1), (0, 0)))
    win = sliding_window_view(p, (3, 3), axis=(1, 2))  # N,H,W,C,3,3
    return np.einsum("nhwcij,oijc->nhwo", win, k) + b


def maxpool2(a):
    n, h, wd, c = a.shape
    return a.reshape(n, h // 2, 2, wd // 2, 2, c).max(axis=(2, 4))


t = {"x": x}
t["c1"] = conv_same(x, w["w1"], w["b1"])
t["r1"] = np.maximum(t["c1"], 0)
t["p1"] = maxpool2(t["r1"])
t["c2"] = conv_same(t["p1"], w["w2"], w["b2"])
t["r2"] = np.maximum(t["c2"], 0)
t["p2"] = maxpool2(t["r2"])
t["g"] = t["p2"].mean(axis=(1, 2), keepdims=True)
t["f"] = t["g"].reshape(1000, 16)
t["y"] = t["f"] @ w["w3"].T + w["b3"]


def ranges(path):
    out = {}
    for m in re.finditer(r"(?:input )?%(\w+)(?: = [^\n]*?)? : f32\[[\d,]+\] range\(([^,]+), ([^)]+)\)", open(path).read()):
        out[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return out


bad = 0
mm = ranges(sys.argv[2])
for name, (lo, hi) in mm.items():
    nlo, nhi = min(t[name].min(), 0.0), max(t[name].max(), 0.0)
    d = max(abs(lo - nlo), abs(hi - nhi)) / (nhi - nlo)
    ok = d <= 1e-5
    bad += not ok
    print("minmax %s %s: qnnc [%.6g, %.6g] numpy [%.6g, %.6g] (rel diff %.1e)"
          % ("agree" if ok else "DISAGREE", name, lo, hi, nlo, nhi, d))
for path in sys.argv[3:]:
    for name, (lo, hi) in ranges(path).items():
        nlo, nhi = min(t[name].min(), 0.0), max(t[name].max(), 0.0)
        tol = 1e-5 * (nhi - nlo)
        ok = nlo - tol <= lo <= hi <= nhi + tol and hi > 0
        bad += not ok
        print("clipped %s %s: qnnc [%.6g, %.6g] inside numpy [%.6g, %.6g]"
              % ("agree" if ok else "DISAGREE", name, lo, hi, nlo, nhi))
print("tensors %d disagreeing %d" % (len(mm), bad))
