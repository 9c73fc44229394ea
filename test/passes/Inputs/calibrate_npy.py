"""Writes .npy calibration samples for test/passes/calibrate-*.qir.

calibrate_npy.py minmax DIR: five f32[1,4] samples (s0.npy .. s4.npy) whose
  elements lie in [-1.25, 3.5], each extreme reached in a different file:
  the minimum -1.25 only in s3.npy, the maximum 3.5 only in s1.npy; the
  first two files alone span [-0.5, 3.5].
calibrate_npy.py outliers DIR: ten f32[1,100] samples holding 998 values
  evenly spread over [-1, 1] (both ends included) plus one -100 (in s0.npy)
  and one 100 (in s1.npy).
calibrate_npy.py gauss DIR: the same layout with the 998 values at the
  quantiles (k + 0.5) / 998 of a normal distribution with sigma 0.25
  (|x| < 0.8), and the outliers -100 and 100.
"""
import os
import statistics
import sys

import numpy as np

kind, d = sys.argv[1], sys.argv[2]
os.makedirs(d, exist_ok=True)
if kind == "minmax":
    rows = [
        [0.5, -0.5, 1.0, 2.0],
        [3.5, 0.25, 0.0, 1.5],   # the maximum
        [1.0, 1.0, -0.75, 2.5],
        [-1.25, 0.5, 0.5, 0.5],  # the minimum
        [2.0, -1.0, 3.0, 0.125],
    ]
    for i, r in enumerate(rows):
        np.save(os.path.join(d, "s%d.npy" % i), np.array([r], dtype=np.float32))
elif kind in ("outliers", "gauss"):
    if kind == "outliers":
        v = np.linspace(-1, 1, 998).astype(np.float32)
    else:
        nd = statistics.NormalDist(0, 0.25)
        v = np.array([nd.inv_cdf((k + 0.5) / 998) for k in range(998)], dtype=np.float32)
    v = np.concatenate([[-100.0], v[:499], [100.0], v[499:]]).astype(np.float32)
    assert v.min() == -100 and v.max() == 100 and len(v) == 1000
    for i in range(10):
        np.save(os.path.join(d, "s%d.npy" % i), v[i * 100:(i + 1) * 100].reshape(1, 100))
else:
    sys.exit("unknown kind " + kind)
