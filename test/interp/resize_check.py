"""resize_check.py OUTDIR: runs every case resize_ref.py wrote through
qnnc-run and compares bit for bit; prints MISMATCH lines and a count."""
import os
import subprocess
import sys

import numpy as np

d = sys.argv[1]
names = open(os.path.join(d, "names")).read().split()
bad = 0
for n in names:
    p = lambda s: os.path.join(d, n + s)
    r = subprocess.run(["qnnc-run", p(".qir"), "--input", p(".x.npy"), "--output", p(".got.npy")],
                       capture_output=True, text=True)
    if r.returncode:
        print("MISMATCH %s: qnnc-run: %s" % (n, r.stderr.strip()))
        bad += 1
        continue
    a, e = np.load(p(".got.npy")), np.load(p(".y.npy"))
    if a.shape != e.shape or a.tobytes() != e.tobytes():
        print("MISMATCH %s: %s" % (n, open(p(".qir")).read().splitlines()[2].strip()))
        bad += 1
print("resize_ref: %d cases, %d mismatches" % (len(names), bad))
