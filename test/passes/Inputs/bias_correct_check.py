"""The bias-correct pass on a conv whose int8 weights all round the same
way (test/passes/bias-correct.test).

bias_correct_check.py DIR [qnnc.toml]: writes DIR/model.qir, a float
  x[1,6,6,4] -> conv 3x3 (pads 1, 4 channels, no activation) -> output
whose weights are (k + 0.45) s_c for integers k, except one 127 s_c per
output channel: per-channel int8 weights have scale s_c and every other
weight rounds down by 0.45 s_c.  Inputs are uniform in [0, 1], so every
output channel's int8 result is low by about 0.45 s_c times the sum of the
inputs under the filter: a systematic, per-channel bias error.
Calibration data (16 samples) goes to DIR/calib, 6 held-back inputs to
DIR/eval.

Then the model is quantized with qnnc twice (bias_correct false / true),
both int8 graphs run in the reference interpreter (qnnc-run) on the
held-back inputs, and NumPy computes the float conv itself (float64, the
oracle) and each output channel's mean error (int8 - float).  It checks:
  - plain: the mean error matches NumPy's prediction from the rounded
    weights, sum((round(w/s) s - w) x), within 25% (the planted bias);
  - corrected: every channel's |mean error| is below a fifth of plain's;
  - the pass's new float bias minus the old one equals minus plain's mean
    error on the calibration samples (what the pass measures) to 10% of it.
Prints one line per channel and PASS / FAIL.
"""
import os
import re
import subprocess
import sys

import numpy as np
from qir_check import fmt, quantize, run, save_samples

work = sys.argv[1]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(42)
C, K, H = 4, 4, 6
s = np.array([0.01, 0.02, 0.005, 0.015])
k = rng.integers(-100, 100, size=(C, 3, 3, K)).astype(np.float64)
w = (k + 0.45) * s[:, None, None, None]
w[:, 0, 0, 0] = 127 * s  # the channel's max |w|: scale exactly s_c
b = np.array([0.1, -0.2, 0.05, 0.0])


w32 = w.astype(np.float32)
model = os.path.join(work, "model.qir")
with open(model, "w") as f:
    f.write(f"""graph @rounds_down {{
  input %x : f32[1,{H},{H},{K}]
  const %w : f32[{C},3,3,{K}] = {fmt(w32)}
  const %b : f32[{C}] = {fmt(b)}
  %y = conv2d(%x, %w, %b) {{pads=[1, 1, 1, 1]}} : f32[1,{H},{H},{C}]
  output %y
}}
""")
calib = save_samples(work, "calib", "c%02d.npy", 16, lambda: rng.uniform(0, 1, (1, H, H, K)))
evals = save_samples(work, "eval", "e%d.npy", 6, lambda: rng.uniform(0, 1, (1, H, H, K)))


def conv(x, wt, bias):
    """NHWC conv 3x3, pads 1, float64."""
    xp = np.pad(x[0].astype(np.float64), ((1, 1), (1, 1), (0, 0)))
    out = np.zeros((H, H, C))
    for i in range(3):
        for j in range(3):
            out += np.einsum("hwk,ck->hwc", xp[i:i + H, j:j + H], wt[:, i, j, :])
    return out + bias


w64 = w32.astype(np.float64)
wq = np.round(w64 / s[:, None, None, None]) * s[:, None, None, None]
mean_err = {}
for tag, on in (("plain", "false"), ("corrected", "true")):
    qir = quantize(work, model, tag, f"bias_correct = {on}")
    for which, xs in (("eval", evals), ("calib", calib)):
        err = np.zeros(C)
        for x in xs:
            xv = np.load(x)
            err += (run(work, qir, x, tag)[0] - conv(xv, w64, b)).mean(axis=(0, 1))
        mean_err[tag, which] = err / len(xs)
pred = np.zeros(C)
for x in evals:
    pred += (conv(np.load(x), wq, 0) - conv(np.load(x), w64, 0)).mean(axis=(0, 1))
pred /= len(evals)

# The pass alone (qnnc-opt), on the calibrated model: its new bias.
cal = os.path.join(work, "calibrated.qir")
bc = os.path.join(work, "bc.qir")
subprocess.run(["qnnc-opt", model, "--config=" + os.path.join(work, "plain.toml"), "--passes=calibrate", "-o", cal],
               check=True)
subprocess.run(["qnnc-opt", cal, "--config=" + os.path.join(work, "plain.toml"), "--passes=bias-correct", "-o", bc],
               check=True)
m = re.search(r"const %b\.bc : f32\[4\] = \[([^\]]*)\]", open(bc).read())
nb = np.array([float(v) for v in m.group(1).split(",")])
shift = nb - b.astype(np.float32).astype(np.float64)

ok = True
for c in range(C):
    p, q, r = mean_err["plain", "eval"][c], mean_err["corrected", "eval"][c], mean_err["plain", "calib"][c]
    good = abs(p - pred[c]) <= 0.25 * abs(pred[c]) and abs(q) < 0.2 * abs(p) and abs(shift[c] + r) <= 0.1 * abs(r)
    ok &= good
    print(f"channel {c}: predicted {pred[c]:+.5f} plain {p:+.5f} corrected {q:+.5f} "
          f"bias shift {shift[c]:+.5f} (calib error {r:+.5f}) {'ok' if good else 'BAD'}")
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
