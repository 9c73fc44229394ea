"""LUT exactness: a nonlinear op lowered to `lut` by the quantize pass gives
exactly what the interpreter computes for the quantized op itself, on all
256 int8 inputs.

For each op and input range, a float graph with calibrated ranges is
quantized with qnnc-opt; the table and the params are read back from the
printed IR, and two graphs are run with qnnc-run on every int8 value:

    lut(x, table)          (what the pass produced)
    op(x) -> i8 q(out)     (the quantized op: dequantize, float32 op, quantize)

The second is the oracle (docs/ir-semantics.md, OPF_NONLINEAR); the outputs
must be equal bit for bit.  Usage: lut_exact.py WORKDIR
"""
import math
import os
import re
import subprocess
import sys

import numpy as np

work = sys.argv[1]
os.makedirs(work, exist_ok=True)

OPS = [
    ("sigmoid", "", lambda x: 1 / (1 + math.exp(-x))),
    ("tanh", "", math.tanh),
    ("hard_swish", "", lambda x: x * min(max(x + 3, 0), 6) / 6),
    ("leaky_relu", "", lambda x: x if x >= 0 else 0.01 * x),
    ("leaky_relu", " {alpha=0.2}", lambda x: x if x >= 0 else 0.2 * x),
]
RANGES = [(-8.0, 8.0), (-1.0, 3.0), (-0.3, 0.05), (-20.0, 20.0), (0.0, 6.0), (-12.8, 12.7)]


def out_range(f, lo, hi):
    ys = [f(lo + (hi - lo) * k / 1000) for k in range(1001)]
    return min(ys + [0.0]), max(ys + [0.0])


# One float graph holding every case, quantized once.
lines = ["graph @luts {"]
cases = []
for oi, (op, attrs, f) in enumerate(OPS):
    for ri, (lo, hi) in enumerate(RANGES):
        k = len(cases)
        ylo, yhi = out_range(f, lo, hi)
        lines.append(f"  input %x{k} : f32[256] range({lo!r}, {hi!r})")
        lines.append(f"  %y{k} = {op}(%x{k}){attrs} : f32[256] range({ylo!r}, {yhi!r})")
        cases.append((k, op, attrs))
lines.append("  output " + ", ".join(f"%y{k}" for k, _, _ in cases))
lines.append("}")
src = os.path.join(work, "luts.qir")
with open(src, "w") as fh:
    fh.write("\n".join(lines) + "\n")
q = subprocess.run(["qnnc-opt", src, "--passes=quantize"], check=True, capture_output=True, text=True).stdout

Q = r"q\(([^,]+), (-?\d+)\)"
xq, tables, yq = {}, {}, {}
for m in re.finditer(r"%x(\d+)\.q = quantize\(%x\d+\) \{rounding=\w+\} : i8\[256\] " + Q, q):
    xq[int(m.group(1))] = (m.group(2), m.group(3))
for m in re.finditer(r"const %y(\d+)\.lut : i8\[256\] = \[([^\]]*)\]", q):
    tables[int(m.group(1))] = m.group(2)
for m in re.finditer(r"%y(\d+)\.q = lut\(%x\d+\.q, %y\d+\.lut\) : i8\[256\] " + Q, q):
    yq[int(m.group(1))] = (m.group(2), m.group(3))

x = np.arange(-128, 128, dtype=np.int8)
xin = os.path.join(work, "x.npy")
np.save(xin, x)
fails = 0
for k, op, attrs in cases:
    if k not in xq or k not in tables or k not in yq:
        print(f"case {k} {op}: not lowered to a lut")
        fails += 1
        continue
    (sx, zx), (sy, zy) = xq[k], yq[k]
    head = f"  input %x : i8[256] q({sx}, {zx})\n"
    ty = f"i8[256] q({sy}, {zy})"
    g_lut = f"graph @l {{\n{head}  const %t : i8[256] = [{tables[k]}]\n  %y = lut(%x, %t) : {ty}\n  output %y\n}}\n"
    g_op = f"graph @o {{\n{head}  %y = {op}(%x){attrs} : {ty}\n  output %y\n}}\n"
    outs = []
    for name, g in (("lut", g_lut), ("op", g_op)):
        path = os.path.join(work, f"case{k}.{name}.qir")
        with open(path, "w") as fh:
            fh.write(g)
        out = os.path.join(work, f"case{k}.{name}.npy")
        subprocess.run(["qnnc-run", path, "--input", xin, "--output", out], check=True)
        outs.append(np.load(out))
    diff = int(np.count_nonzero(outs[0] != outs[1]))
    if diff:
        fails += 1
        print(f"case {k} {op}{attrs} in q({sx}, {zx}) out q({sy}, {zy}): {diff} of 256 differ")
    # A table of one repeated value would make the comparison vacuous.
    distinct = len(set(outs[0].tolist()))
    print(f"{op}{attrs.strip()} case {k}: 256 inputs, {diff} differ, {distinct} distinct outputs")
print(f"cases {len(cases)} failures {fails}")
sys.exit(1 if fails else 0)
