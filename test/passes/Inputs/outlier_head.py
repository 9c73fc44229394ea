"""Per-tensor SQNR of each calibration method on a head with heavy-tailed
logits (test/passes/calibrate-outlier-head.test).

outlier_head.py DIR: writes DIR/model.qir, a float dense -> relu -> dense
head f32[1,32] -> f32[1,4] with seeded weights, and 48 calibration samples
in DIR/calib; one of them (s05.npy) is 150 times the others, so the logits
range over about [-400, 5] while all but 4 of the 192 logit values lie
within 5 of 0 (the [-401, 0.42] head of issue 14, in miniature).  Then, for
each method, it runs `qnnc-opt --passes=calibrate`, reads back each
tensor's range(lo, hi), and measures in NumPy (the oracle: the float values
computed here, TFLite's ChooseQuantizationParams and ONNX QuantizeLinear
written out again below) the SQNR of that tensor's calibration values
quantized to int8 and dequantized with that range:
    sqnr TENSOR METHOD DB  range(LO, HI)
and `PASS` if no method is more than 1 dB below minmax on any tensor
(issue 14: "never worse than minmax by more than 1 dB"), else `FAIL ...`.
"""
import os
import re
import subprocess
import sys

import numpy as np

work = sys.argv[1]
os.makedirs(os.path.join(work, "calib"), exist_ok=True)
rng = np.random.default_rng(1414)
w1 = (rng.standard_normal((16, 32)) * 0.25).astype(np.float32)
b1 = (rng.standard_normal(16) * 0.1).astype(np.float32)
w2 = (rng.standard_normal((4, 16)) * 0.25).astype(np.float32)
w2 = -np.abs(w2)  # every logit goes far negative on the outlier sample
b2 = (rng.standard_normal(4) * 0.1).astype(np.float32)


def fmt(a):
    return "[" + ", ".join(repr(float(v)) for v in a.ravel()) + "]"


with open(os.path.join(work, "model.qir"), "w") as f:
    f.write(f"""graph @head {{
  input %x : f32[1,32]
  const %w1 : f32[16,32] = {fmt(w1)}
  const %b1 : f32[16] = {fmt(b1)}
  const %w2 : f32[4,16] = {fmt(w2)}
  const %b2 : f32[4] = {fmt(b2)}
  %h = dense(%x, %w1, %b1) : f32[1,16]
  %r = relu(%h) : f32[1,16]
  %logits = dense(%r, %w2, %b2) : f32[1,4]
  output %logits
}}
""")

xs = []
for i in range(48):
    x = rng.standard_normal((1, 32)).astype(np.float32)
    if i == 5:
        x *= 150
    xs.append(x)
    np.save(os.path.join(work, "calib", "s%02d.npy" % i), x)

# The float values, in float64 from float32 operands (the interpreter
# computes in float32 too; the difference is far below any step here).
vals = {"x": [], "h": [], "r": [], "logits": []}
for x in xs:
    h = x.astype(np.float64) @ w1.T.astype(np.float64) + b1
    r = np.maximum(h, 0)
    lg = r @ w2.T.astype(np.float64) + b2
    for k, v in zip(vals, (x, h, r, lg)):
        vals[k].append(np.asarray(v, np.float32).ravel())
vals = {k: np.concatenate(v) for k, v in vals.items()}


def params(lo, hi):
    """TFLite ChooseQuantizationParams for int8 (qmin -128, qmax 127)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if lo == hi:
        return np.float32(1), 0
    qmin, qmax = -128.0, 127.0
    scale = np.float32((hi - lo) / (qmax - qmin))
    s = float(scale)
    zmin, zmax = qmin - lo / s, qmax - hi / s
    zp = zmin if abs(qmin) + abs(lo / s) < abs(qmax) + abs(hi / s) else zmax
    zp = int(qmin if zp < qmin else qmax if zp > qmax else np.sign(zp) * np.floor(abs(zp) + 0.5))
    return scale, zp


def sqnr(v, lo, hi):
    scale, zp = params(lo, hi)
    q = np.clip(np.rint(v / scale) + zp, -128, 127)  # np.rint: half to even
    d = float(scale) * (q - zp)
    v = v.astype(np.float64)
    noise = np.sum((v - d) ** 2)
    return 10 * np.log10(np.sum(v * v) / noise) if noise > 0 else float("inf")


rng_re = re.compile(r"%(\w+)\b.*range\(([-0-9.e+]+), ([-0-9.e+]+)\)")
table = {}
for method in ("minmax", "percentile", "entropy", "mse"):
    cfg = os.path.join(work, method + ".toml")
    with open(cfg, "w") as f:
        f.write(f'[calibration]\ndataset = "calib"\nmethod = "{method}"\n')
    ir = subprocess.run(["qnnc-opt", os.path.join(work, "model.qir"), "--config=" + cfg,
                         "--passes=calibrate"], check=True, capture_output=True, text=True).stdout
    for line in ir.splitlines():
        m = rng_re.search(line)
        if m and m.group(1) in vals:
            lo, hi = float(m.group(2)), float(m.group(3))
            table[m.group(1), method] = sqnr(vals[m.group(1)], lo, hi)
            print(f"sqnr {m.group(1)} {method} {table[m.group(1), method]:.1f} dB  range({lo:g}, {hi:g})")

bad = [f"{t} {m} {table[t, m]:.1f} < minmax {table[t, 'minmax']:.1f} - 1"
       for (t, m) in table if table[t, m] < table[t, "minmax"] - 1]
missing = [t for t in vals if (t, "minmax") not in table]
print("FAIL " + "; ".join(bad + ["no range for %" + t for t in missing]) if bad or missing else "PASS")
sys.exit(1 if bad or missing else 0)
