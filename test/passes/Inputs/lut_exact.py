"""LUT exactness: a nonlinear op lowered to `lut` by the quantize pass.

For each op and input range, a float graph with calibrated ranges is
quantized with qnnc-opt; the table and the params are read back from the
printed IR and checked two ways on all 256 int8 inputs:

  - the table against an independent NumPy reference written from
    docs/ir-semantics.md (test/interp/nonlinear_ref.py: dequantize in
    float32, the float32 function, divide in float32, round half to even,
    saturate): exact, except that a sigmoid or tanh entry within 1e-6 of a
    rounding tie may differ by one (the float32 library functions may differ
    in the last bit); those entries are listed;
  - lut(x, table) against the quantized op itself, both through qnnc-run:
    bit for bit (the pass promises the table reproduces the op).

A case whose table holds a single value would be vacuous, so it counts as a
failure.  Usage: lut_exact.py WORKDIR
"""
import math
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "interp"))
import nonlinear_ref  # noqa: E402

work = sys.argv[1]
os.makedirs(work, exist_ok=True)

# (op, attribute text, alpha, the function in double for the output ranges)
OPS = [
    ("sigmoid", "", 0.01, lambda x: 1 / (1 + math.exp(-x))),
    ("tanh", "", 0.01, math.tanh),
    ("hard_swish", "", 0.01, lambda x: x * min(max(x + 3, 0), 6) / 6),
    ("leaky_relu", "", 0.01, lambda x: x if x >= 0 else 0.01 * x),
    ("leaky_relu", " {alpha=0.2}", 0.2, lambda x: x if x >= 0 else 0.2 * x),
    ("exp", "", 0.01, math.exp),
    ("log", "", 0.01, lambda x: math.log(x) if x > 0 else 0.0),
    ("sqrt", "", 0.01, lambda x: math.sqrt(x) if x >= 0 else 0.0),
    ("reciprocal", "", 0.01, lambda x: max(min(1 / x, 100.0), -100.0) if x else 0.0),
    ("erf", "", 0.01, math.erf),
    ("gelu", "", 0.01, lambda x: 0.5 * x * (1 + math.erf(x / math.sqrt(2)))),
    ("gelu", " {approximate=tanh}", 0.01,
     lambda x: 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    ("abs", "", 0.01, abs),
    ("neg", "", 0.01, lambda x: -x),
    ("elu", "", 1.0, lambda x: x if x >= 0 else math.expm1(x)),
    ("elu", " {alpha=0.5}", 0.5, lambda x: x if x >= 0 else 0.5 * math.expm1(x)),
]
RANGES = [(-8.0, 8.0), (-1.0, 3.0), (-0.3, 0.05), (-20.0, 20.0), (0.0, 6.0), (-12.8, 12.7)]


def out_range(f, lo, hi):
    # Calibration only: exp on (-20, 20) is capped like any real range.
    ys = [min(f(lo + (hi - lo) * k / 1000), 1e6) for k in range(1001)]
    return min(ys + [0.0]), max(ys + [0.0])


# One float graph holding every case, quantized once.
lines = ["graph @luts {"]
cases = []
for oi, (op, attrs, alpha, f) in enumerate(OPS):
    for ri, (lo, hi) in enumerate(RANGES):
        k = len(cases)
        ylo, yhi = out_range(f, lo, hi)
        lines.append(f"  input %x{k} : f32[256] range({lo!r}, {hi!r})")
        lines.append(f"  %y{k} = {op}(%x{k}){attrs} : f32[256] range({ylo!r}, {yhi!r})")
        cases.append((k, op, attrs, alpha))
lines.append("  output " + ", ".join(f"%y{k}" for k, _, _, _ in cases))
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
for k, op, attrs, alpha in cases:
    if k not in xq or k not in tables or k not in yq:
        print(f"case {k} {op}: not lowered to a lut")
        fails += 1
        continue
    (sx, zx), (sy, zy) = xq[k], yq[k]
    table = np.array([int(v) for v in tables[k].split(",")], dtype=np.int64)
    refop = op + ("_tanh" if "approximate=tanh" in attrs else "")
    want, ties = nonlinear_ref.quantized(refop, x, float(np.float32(sx)), int(zx), float(np.float32(sy)), int(zy), "i8", alpha)
    d = np.abs(table - want) if len(table) == 256 else np.full(256, 99)
    badmask = (d > 0) & (~ties | (d > 1))
    bad = int(np.count_nonzero(badmask))
    if ties.any():
        print(f"  ties (allowed to differ by one) in case {k} at x = {nonlinear_ref.ranges(x[ties])}; "
              f"the table differs at x = {nonlinear_ref.ranges(x[ties & (d > 0)]) or 'none'}")
    for i in np.nonzero(badmask)[0][:10]:
        print(f"  MISMATCH {op} case {k} x={x[i]}: NumPy {want[i]}, table {table[i]}")

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
    # A table of one repeated value would make both comparisons vacuous.
    distinct = len(set(table.tolist()))
    if bad or diff or distinct < 2:
        fails += 1
    print(f"{op}{attrs.strip()} case {k} in q({sx}, {zx}) out q({sy}, {zy}): "
          f"table vs NumPy {bad} differ ({int(ties.sum())} ties), lut vs op {diff} differ, {distinct} distinct")
print(f"cases {len(cases)} failures {fails}")
sys.exit(1 if fails else 0)
