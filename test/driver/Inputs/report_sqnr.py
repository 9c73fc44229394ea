"""The report's calibrated ranges and SQNR recomputed with NumPy, for
report.test: report_sqnr.py DIR (DIR holds calib/*.npy, q.qir and r.json).

Independent of qnnc's code: the float MLP (report_model.qir) runs in
float64; the quantized graph is rebuilt from q.qir's integer weights,
scales and zero points and run with the docs/ir-semantics.md rules, except
that TFLite's fixed-point requantization is replaced by rounding the
double product half away from zero (they differ only next to a tie).
SQNR is 10 log10(sum f^2 / sum (f - dequantize(q))^2) over all samples
(docs/passes.md).  Prints both numbers for each layer."""
import glob
import json
import os
import re
import sys

import numpy as np

d = sys.argv[1]
src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "report_model.qir")).read()
q = open(os.path.join(d, "q.qir")).read()
rep = json.load(open(os.path.join(d, "r.json")))


def consts(text):
    out = {}
    for m in re.finditer(r"const %(\w+) : \w+\[([\d,]+)\].*? = \[([^\]]*)\]", text):
        out[m.group(1)] = np.array([float(v) for v in m.group(3).split(",")]).reshape([int(v) for v in m.group(2).split(",")])
    return out


def qparams(name):
    m = re.search(r"%" + re.escape(name) + r" = .* : i8\[[\d,]+\] q\(([^,]+), (-?\d+)\)", q)
    return np.float32(m.group(1)), int(m.group(2))


fw, qw = consts(src), consts(q)
xs = np.concatenate([np.load(p) for p in sorted(glob.glob(os.path.join(d, "calib", "*.npy")))]).astype(np.float64)
f = {"x.q": xs}
f["r"] = np.maximum(xs @ fw["w1"].T + fw["b1"], 0)
f["y.q"] = f["r"] @ fw["w2"].T
ranges = {"x.q": f["x.q"], "r": f["r"], "y.q": f["y.q"]}


def rna(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


sx, zx = qparams("x.q")
xq = np.clip(rna((xs.astype(np.float32) / sx).astype(np.float64)) + zx, -128, 127)
sr, zr = qparams("r")
w1s = np.float32(re.search(r"const %w1 : .*scales=\[([^,\]]+)", q).group(1))
acc = (xq - zx) @ qw["w1"].T + qw["b1"]
rq = np.clip(rna(acc * (float(sx) * float(w1s) / float(sr))) + zr, zr, 127)  # act_min = 0: qmin = zr
sy, zy = qparams("y.q")
w2s = np.float32(re.search(r"const %w2 : .*scales=\[([^,\]]+)", q).group(1))
acc = (rq - zr) @ qw["w2"].T
yq = np.clip(rna(acc * (float(sr) * float(w2s) / float(sy))) + zy, -128, 127)
deq = {"x.q": (xq - zx) * float(sx), "r": (rq - zr) * float(sr), "y.q": (yq - zy) * float(sy)}

# SQNR within 0.01 dB; ranges within 1e-5 of the range's width (the float
# graph runs in float32 in qnnc, float64 here).
bad = 0
for layer in rep["layers"]:
    n = layer["name"]
    sqnr = 10 * np.log10(np.sum(f[n] ** 2) / np.sum((f[n] - deq[n]) ** 2))
    lo, hi = ranges[n].min(), ranges[n].max()
    if n == "r":
        lo = 0.0
    rdiff = max(abs(layer["range"][0] - lo), abs(layer["range"][1] - hi)) / (hi - lo)
    ok = abs(layer["sqnr_db"] - sqnr) <= 0.01 and rdiff <= 1e-5
    bad += not ok
    print("%s %s: sqnr report %.4f numpy %.4f; range report [%.6g, %.6g] numpy [%.6g, %.6g] (rel diff %.1e)"
          % ("agree" if ok else "DISAGREE", n, layer["sqnr_db"], sqnr, layer["range"][0], layer["range"][1], lo, hi, rdiff))
print("layers %d disagreeing %d" % (len(rep["layers"]), bad))
