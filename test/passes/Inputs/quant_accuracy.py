"""Accuracy of the quantize pass on a small float CNN.

1. Builds a float CNN in qnnc IR with random (seeded) weights: conv+relu,
   depthwise conv+relu6 (clip), 1x1 conv with a residual add, max_pool,
   conv+hard_swish (a lut), global_avg_pool, dense, and a sigmoid head.
2. Calibrates it: runs the float graph in the reference interpreter
   (qnnc-run) on calibration batches with every node result as an output,
   and writes each value's min/max as range(lo, hi).
3. Quantizes the calibrated graph with qnnc-opt --passes=quantize (and the
   config given, if any).
4. Runs the float graph (the oracle) and the quantized graph (whose outputs
   are dequantized to f32) on held-back batches and prints, per output, the
   SQNR in dB: 10 log10(sum f^2 / sum (f - q)^2), computed in NumPy.

Usage: quant_accuracy.py WORKDIR MIN_DB [CONFIG.toml]
Exits 1 when an output's SQNR is below MIN_DB.
"""
import os
import subprocess
import sys

import numpy as np

work, min_db = sys.argv[1], float(sys.argv[2])
config = sys.argv[3] if len(sys.argv) > 3 else None
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(20261122)
N, H, W, C = 4, 8, 8, 3
CALIB_BATCHES = int(os.environ.get('CALIB', '16'))


def fmt(a):
    return "[" + ", ".join(repr(float(v)) for v in np.asarray(a, np.float32).ravel()) + "]"


def he(shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


consts, nodes, values = [], [], []  # values: (name, type) of every node result


def const(name, a):
    a = np.asarray(a, np.float32)
    consts.append(f"  const %{name} : f32[{','.join(map(str, a.shape))}] = {fmt(a)}")
    return name


def node(name, text, shape):
    ty = f"f32[{','.join(map(str, shape))}]"
    nodes.append((name, f"  %{name} = {text} : {ty}"))
    values.append((name, shape))
    return name


w1 = const("w1", he((8, 3, 3, C), 9 * C))
b1 = const("b1", rng.standard_normal(8) * 0.1)
node("c1", f"conv2d(%x, %{w1}, %{b1}) {{pads=[1, 1, 1, 1]}}", (N, H, W, 8))
node("r1", "relu(%c1)", (N, H, W, 8))
w2 = const("w2", he((8, 3, 3, 1), 9))
b2 = const("b2", rng.standard_normal(8) * 0.1)
node("c2", f"conv2d(%r1, %{w2}, %{b2}) {{pads=[1, 1, 1, 1], group=8}}", (N, H, W, 8))
node("r2", "clip(%c2) {min=0, max=6}", (N, H, W, 8))
w3 = const("w3", he((8, 1, 1, 8), 8))
b3 = const("b3", rng.standard_normal(8) * 0.1)
node("c3", f"conv2d(%r2, %{w3}, %{b3})", (N, H, W, 8))
node("res", "add(%c3, %r1)", (N, H, W, 8))
node("p1", "max_pool(%res) {kernel=[2, 2], strides=[2, 2]}", (N, H // 2, W // 2, 8))
w4 = const("w4", he((16, 3, 3, 8), 72))
b4 = const("b4", rng.standard_normal(16) * 0.1)
node("c4", f"conv2d(%p1, %{w4}, %{b4}) {{pads=[1, 1, 1, 1]}}", (N, H // 2, W // 2, 16))
node("hs", "hard_swish(%c4)", (N, H // 2, W // 2, 16))
node("gap", "global_avg_pool(%hs)", (N, 1, 1, 16))
node("flat", "reshape(%gap)", (N, 16))
w5 = const("w5", he((10, 16), 16))
b5 = const("b5", rng.standard_normal(10) * 0.1)
node("logits", f"dense(%flat, %{w5}, %{b5})", (N, 10))
node("prob", "sigmoid(%logits)", (N, 10))
OUTPUTS = ["logits", "prob"]


def graph(ranges=None, outputs=OUTPUTS):
    rg = lambda n: f" range({ranges[n][0]!r}, {ranges[n][1]!r})" if ranges else ""
    lines = ["graph @cnn {", f"  input %x : f32[{N},{H},{W},{C}]{rg('x')}"] + consts
    shapes = dict(values)
    for name, text in nodes:
        lines.append(text + rg(name))
    lines.append("  output " + ", ".join("%" + o for o in outputs))
    return "\n".join(lines + ["}"]) + "\n"


def write(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as fh:
        fh.write(text)
    return path


def run(model, x, outputs):
    xin = os.path.join(work, "in.npy")
    np.save(xin, x)
    cmd = ["qnnc-run", model, "--input", xin]
    files = [os.path.join(work, f"out_{o}.npy") for o in outputs]
    for f in files:
        cmd += ["--output", f]
    subprocess.run(cmd, check=True)
    return [np.load(f) for f in files]


def batch():
    # Images with structure: smooth random fields plus noise.
    base = rng.standard_normal((N, 2, 2, C)).repeat(4, axis=1).repeat(4, axis=2)
    return (base + 0.3 * rng.standard_normal((N, H, W, C))).astype(np.float32)


# Calibration: min/max over every node result (and the input).
all_names = [n for n, _ in values]
probe = write("probe.qir", graph(outputs=all_names))
ranges = {}
for _ in range(CALIB_BATCHES):
    x = batch()
    for name, a in [("x", x)] + list(zip(all_names, run(probe, x, all_names))):
        lo, hi = float(a.min()), float(a.max())
        if name in ranges:
            lo, hi = min(lo, ranges[name][0]), max(hi, ranges[name][1])
        ranges[name] = (lo, hi)

fp = write("float.qir", graph(ranges))
qp = os.path.join(work, "quant.qir")
cmd = ["qnnc-opt", fp, "--passes=quantize", "-o", qp] + (["--config=" + config] if config else [])
subprocess.run(cmd, check=True)

# Held-back inputs: fresh batches from the same generator.
sig = {o: 0.0 for o in OUTPUTS}
err = {o: 0.0 for o in OUTPUTS}
for _ in range(4):
    x = batch()
    f = run(fp, x, OUTPUTS)
    q = run(qp, x, OUTPUTS)
    for o, a, b in zip(OUTPUTS, f, q):
        sig[o] += float(np.sum(a.astype(np.float64) ** 2))
        err[o] += float(np.sum((a.astype(np.float64) - b.astype(np.float64)) ** 2))
ok = True
for o in OUTPUTS:
    db = 10 * np.log10(sig[o] / err[o]) if err[o] > 0 else float("inf")
    print(f"sqnr {o} {db:.1f} dB (threshold {min_db} dB)")
    ok &= db >= min_db
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
