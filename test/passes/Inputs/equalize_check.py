"""The equalize pass on a conv chain with badly balanced channel ranges
(test/passes/equalize-numeric.test).

equalize_check.py DIR: writes DIR/model.qir, a float chain
  x[1,8,8,3] -> conv 3x3 (8 channels, relu) -> depthwise 3x3 (identity)
             -> conv 1x1 (8 -> 4, relu) -> output
with seeded weights in which channel c of the first conv's output is
multiplied by k_c (k from 1/32 to 32) and the depthwise filter reading it
divided by k_c, and likewise between the depthwise and the 1x1 conv: the
float function is an ordinary one, but one per-tensor activation scale
must cover channels whose ranges differ 1000-fold.  Calibration data
(32 samples) goes to DIR/calib, 8 held-back inputs to DIR/eval.

Then the model is quantized to int8 twice with qnnc (qnnc.toml: calibrate
on DIR/calib, with and without [quantization] equalize = true), both
int8 graphs and the float model run in the reference interpreter
(qnnc-run) on the held-back inputs, and the SQNR of each int8 output
against the float model's output (the oracle) is computed in NumPy:
  sqnr plain D dB
  sqnr equalized D dB
  PASS / FAIL (equalized must gain at least MIN_GAIN dB)
"""
import os
import sys

import numpy as np
from qir_check import fmt, quantize, run, save_samples

MIN_GAIN = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
work = sys.argv[1]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(2019)

k1 = 2.0 ** rng.uniform(-5, 5, 8)
k2 = 2.0 ** rng.uniform(-5, 5, 8)
w1 = rng.standard_normal((8, 3, 3, 3)) * 0.3 * k1[:, None, None, None]
b1 = rng.standard_normal(8) * 0.1 * k1
w2 = rng.standard_normal((8, 3, 3, 1)) * 0.4 / k1[:, None, None, None] * k2[:, None, None, None]
b2 = rng.standard_normal(8) * 0.1 * k2
w3 = rng.standard_normal((4, 1, 1, 8)) * 0.4 / k2[None, None, None, :]
b3 = rng.standard_normal(4) * 0.1
model = os.path.join(work, "model.qir")
with open(model, "w") as f:
    f.write(f"""graph @unbalanced {{
  input %x : f32[1,8,8,3]
  const %w1 : f32[8,3,3,3] = {fmt(w1)}
  const %b1 : f32[8] = {fmt(b1)}
  const %w2 : f32[8,3,3,1] = {fmt(w2)}
  const %b2 : f32[8] = {fmt(b2)}
  const %w3 : f32[4,1,1,8] = {fmt(w3)}
  const %b3 : f32[4] = {fmt(b3)}
  %a = conv2d(%x, %w1, %b1) {{pads=[1, 1, 1, 1]}} : f32[1,8,8,8]
  %ar = relu(%a) : f32[1,8,8,8]
  %d = conv2d(%ar, %w2, %b2) {{pads=[1, 1, 1, 1], group=8}} : f32[1,8,8,8]
  %p = conv2d(%d, %w3, %b3) : f32[1,8,8,4]
  %y = relu(%p) : f32[1,8,8,4]
  output %y
}}
""")
save_samples(work, "calib", "c%02d.npy", 32, lambda: rng.standard_normal((1, 8, 8, 3)))
evals = save_samples(work, "eval", "e%d.npy", 8, lambda: rng.standard_normal((1, 8, 8, 3)))

res = {}
for tag, eq in (("plain", "false"), ("equalized", "true")):
    qir = quantize(work, model, tag, f"equalize = {eq}")
    sig = err = 0.0
    for x in evals:
        f = run(work, model, x, "float")
        q = run(work, qir, x, tag)
        sig += np.sum(f * f)
        err += np.sum((f - q) ** 2)
    res[tag] = 10 * np.log10(sig / err)
    print(f"sqnr {tag} {res[tag]:.1f} dB")
gain = res["equalized"] - res["plain"]
print(("PASS" if gain >= MIN_GAIN else "FAIL") + f" gain {gain:.1f} dB (at least {MIN_GAIN})")
sys.exit(0 if gain >= MIN_GAIN else 1)
