"""fold-affine on an attention block, float and int8.

1. Builds a float self-attention block in qnnc IR as the importer writes an
   exported one (rows reshape, dense without bias, reshape back, add of the
   bias; heads by reshape and transpose; q @ k^T, mul by d^-0.5, softmax,
   @ v, back to rows, output projection and its bias), seeded random
   weights.
2. Calibrates it: min/max of every value over calibration batches, run by
   the reference interpreter (qnnc-run), written as range(lo, hi).
3. folded.qir = qnnc-opt --passes=fold-affine of it; prints how many add
   and mul nodes are left (0 expected).
4. Float: the unfolded graph in the interpreter is the oracle for the
   folded one on held-back batches, |folded - float| <= RTOL (|float| +
   max|float|).
5. int8: both graphs quantized (--passes=quantize,fuse-requantize) and run
   in the interpreter; SQNR against the float graph, 10 log10(sum f^2 /
   sum (f - q)^2) in NumPy, for each.  The folded one must not be worse
   (inputs and weights are seeded, so the figures are the same every run).

Writes WORKDIR/quant-folded.qir for the bit-exact RUN lines.
Usage: fold_affine_check.py WORKDIR
"""
import os
import re
import subprocess
import sys

import numpy as np

work = sys.argv[1]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(20261207)
T, D, H = 12, 32, 4  # tokens, width, heads
DH = D // H
RTOL = 1e-5

consts, nodes, names = [], [], []


def fmt(a):
    return "[" + ", ".join(repr(float(v)) for v in np.asarray(a, np.float32).ravel()) + "]"


def const(name, a):
    a = np.asarray(a, np.float32)
    consts.append(f"  const %{name} : f32[{','.join(map(str, a.shape))}] = {fmt(a)}")
    return name


def node(name, text, shape):
    nodes.append((name, f"  %{name} = {text} : f32[{','.join(map(str, shape))}]"))
    names.append(name)
    return name


def linear(tag, x, n_in, n_out, bias_first):
    w = const(f"w{tag}", rng.standard_normal((n_out, n_in)) / np.sqrt(n_in))
    b = const(f"b{tag}", rng.standard_normal(n_out) * 0.2)
    r = node(f"{tag}_rows", f"reshape(%{x})", (T, n_in))
    d = node(f"{tag}_mm", f"dense(%{r}, %{w})", (T, n_out))
    m = node(f"{tag}_mm3", f"reshape(%{d})", (1, T, n_out))
    return node(f"{tag}_add", f"add(%{b}, %{m})" if bias_first else f"add(%{m}, %{b})", (1, T, n_out))


heads = {}
for tag, perm, shape in (("q", "[0, 2, 1, 3]", (1, H, T, DH)), ("k", "[0, 2, 3, 1]", (1, H, DH, T)),
                         ("v", "[0, 2, 1, 3]", (1, H, T, DH))):
    a = linear(tag, "x", D, D, tag != "v")
    r = node(f"{tag}_heads", f"reshape(%{a})", (1, T, H, DH))
    heads[tag] = node(f"{tag}_t", f"transpose(%{r}) {{perm={perm}}}", shape)
scale = const("scale", [DH ** -0.5])
node("scores", f"matmul(%{heads['q']}, %{heads['k']})", (1, H, T, T))
node("scaled", f"mul(%scores, %{scale})", (1, H, T, T))
node("p", "softmax(%scaled) {axis=3}", (1, H, T, T))
node("o", f"matmul(%p, %{heads['v']})", (1, H, T, DH))
node("o_t", "transpose(%o) {perm=[0, 2, 1, 3]}", (1, T, H, DH))
node("o_m", "reshape(%o_t)", (1, T, D))
linear("proj", "o_m", D, D, True)
OUT = "proj_add"


def graph(ranges=None, outputs=(OUT,)):
    """The block as .qir text; with RANGES, every value annotated."""
    ann = (lambda n: f" range({ranges[n][0]!r}, {ranges[n][1]!r})") if ranges else (lambda n: "")
    body = [f"  input %x : f32[1,{T},{D}]{ann('x')}", *consts, *(text + ann(name) for name, text in nodes)]
    return "graph @attention {\n" + "\n".join(body) + "\n  output " + ", ".join(f"%{o}" for o in outputs) + "\n}\n"


def interp(model, x, count=1):
    """qnnc-run MODEL on X: its first COUNT outputs."""
    np.save(f"{work}/in.npy", x)
    outs = [f"{work}/out{i}.npy" for i in range(count)]
    subprocess.run(["qnnc-run", model, "--input", f"{work}/in.npy"] + [a for o in outs for a in ("--output", o)],
                   check=True)
    return [np.load(o) for o in outs]


def save(name, text):
    open(f"{work}/{name}", "w").write(text)
    return f"{work}/{name}"


def batch():
    return rng.standard_normal((1, T, D)).astype(np.float32)


probe = save("probe.qir", graph(outputs=names))
ranges = {}
for _ in range(16):
    x = batch()
    for name, a in [("x", x)] + list(zip(names, interp(probe, x, len(names)))):
        lo, hi = float(a.min()), float(a.max())
        if name in ranges:
            lo, hi = min(lo, ranges[name][0]), max(hi, ranges[name][1])
        ranges[name] = (lo, hi)

fp = save("float.qir", graph(ranges))
folded = f"{work}/folded.qir"
subprocess.run(["qnnc-opt", fp, "--passes=fold-affine", "-o", folded], check=True)
body = open(folded).read()
print(f"folded: {len(re.findall(r'= add[(]', body))} add, {len(re.findall(r'= mul[(]', body))} mul left")

qp, qf = f"{work}/quant.qir", f"{work}/quant-folded.qir"
for src, dst in ((fp, qp), (folded, qf)):
    subprocess.run(["qnnc-opt", src, "--passes=quantize,fuse-requantize", "-o", dst], check=True)

sig = err_q = err_qf = 0.0
worst = 0.0
for _ in range(8):
    x = batch()
    f = interp(fp, x)[0].astype(np.float64)
    g = interp(folded, x)[0].astype(np.float64)
    worst = max(worst, float(np.max(np.abs(g - f) / (np.abs(f) + np.abs(f).max()))))
    sig += float(np.sum(f ** 2))
    err_q += float(np.sum((interp(qp, x)[0].astype(np.float64) - f) ** 2))
    err_qf += float(np.sum((interp(qf, x)[0].astype(np.float64) - f) ** 2))
db_q, db_qf = 10 * np.log10(sig / err_q), 10 * np.log10(sig / err_qf)
ok_f = worst <= RTOL
ok_q = db_qf >= db_q
print(f"float: max relative error {worst:.3g} ({'<=' if ok_f else '>'} {RTOL})")
print(f"int8 sqnr: unfolded {db_q:.2f} dB, folded {db_qf:.2f} dB ({'not worse' if ok_q else 'WORSE'})")
print("PASS" if ok_f and ok_q else "FAIL")
sys.exit(0 if ok_f and ok_q else 1)
