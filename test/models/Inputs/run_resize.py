"""run_resize.py DIR [NAME...]: runs each DIR/NAME.onnx (default: every
name listed in DIR/names, one a line) on DIR/NAME.x.npy in
qnnc-run and in ONNX Runtime (ort_run.js) and compares: same shape, and
|qnnc - ort| <= 1e-5 + 1e-5 * |ort| (ORT computes coordinates and blends
in float32, qnnc's coordinates are in double: the last bits may differ; a
wrong nearest index or weight is far outside this).  Prints one FAIL line
per mismatch and "N of M match"."""
import os
import subprocess
import sys

import numpy as np

d, names = sys.argv[1], sys.argv[2:]
if not names:
    names = open(os.path.join(d, "names")).read().split()
ort = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_run.js")
ok = 0
for n in names:
    m, x = os.path.join(d, n + ".onnx"), os.path.join(d, n + ".x.npy")
    q, o = os.path.join(d, n + ".qnnc.npy"), os.path.join(d, n + ".ort.npy")
    r = subprocess.run(["qnnc-run", m, "--input", x, "--output", q], capture_output=True, text=True)
    if r.returncode:
        print("FAIL %s: qnnc-run: %s" % (n, r.stderr.strip()))
        continue
    r = subprocess.run(["node", ort, m, "--input", x, "--output", o], capture_output=True, text=True)
    if r.returncode:
        print("FAIL %s: ort: %s" % (n, r.stderr.strip()))
        continue
    a, e = np.load(q), np.load(o)
    if a.shape != e.shape:
        print("FAIL %s: shape %s, ORT %s" % (n, a.shape, e.shape))
        continue
    bad = np.abs(a - e) > 1e-5 + 1e-5 * np.abs(e)
    if bad.any():
        i = np.flatnonzero(bad)[0]
        print("FAIL %s: %d differ, first at %d: %r vs ORT %r" % (n, bad.sum(), i, a.flat[i], e.flat[i]))
        continue
    ok += 1
print("%d of %d match" % (ok, len(names)))
