"""Writes 16 calibration samples f32[1,4] (fixed seed) into DIR/calib."""
import os
import sys

import numpy as np

d = os.path.join(sys.argv[1], "calib")
os.makedirs(d, exist_ok=True)
r = np.random.default_rng(7)
for i in range(16):
    np.save(os.path.join(d, "x%02d.npy" % i), r.uniform(-2, 2, (1, 4)).astype(np.float32))
