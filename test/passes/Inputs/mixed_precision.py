"""The mixed-precision test (test/passes/mixed-precision.test, issue 14).

  mixed_precision.py gen DIR
      writes DIR/m.onnx, a two-headed MLP whose head `yb` is outlier-
      dominated: its output channel 0 is 200 * x[15], and x[15] is 0 except
      in 17 of the 32 calibration samples (3.0), so int8 must spread yb's
      256 levels over [-6, 600] while on the validation samples (x[15] = 0)
      yb stays within a few units.  (In more than half of the calibration
      samples, so that the median sample reaches the range and quantize's
      own rule for ranges that few samples set leaves yb int8: this test is
      about the search.)  Head `ya` (dense -> relu -> dense) is ordinary.
      Also DIR/calib/ (32 samples), DIR/valid/ (8 samples), the float
      outputs of the validation samples computed here in NumPy (float64),
      and DIR/mp.toml (target_sqnr = 30).
  mixed_precision.py gen-outlier DIR [GAIN]
      the same MLP, but x[15] = 3.0 in one calibration sample only and
      yb[0] = GAIN * h[31] (1e6 by default): quantize makes yb int16x8 by
      itself (its range [-6, 3 GAIN] is set by that one sample), and at
      1e6 even int16x8's steps of ~46 bury the validation samples' few
      units: yb must go to float.
  mixed_precision.py check DIR REPORT.json TARGET
      the independent check of what the mixed-precision pass claims: for
      the chosen set S (the report's raised layers) and for S minus each
      layer, compiles the model with explicit [[quantization.override]]
      tables and no target_sqnr (a layer at its "unraised" precision, the
      int16x8 quantize gives an outlier-dominated layer by itself, gets
      none), runs the result in qnnc-run on the
      validation samples and measures each output's SQNR against NumPy's
      float outputs.  S must reach TARGET on every output; each S minus one
      layer must fall below it on some output (minimality).  Prints PASS.
"""
import json
import os
import subprocess
import sys

import numpy as np


def inputs(rng, n, outlier, count=17):
    """N samples x[1,16] whose x[15] is 0, or with OUTLIER 3.0 in the first
    COUNT (also used by accuracy_drop.py)."""
    x = rng.normal(0, 1, (n, 1, 16)).astype(np.float32)
    x[:, :, 15] = 0
    if outlier:
        x[:count, 0, 15] = 3.0
    return x


def model(d, count=17, gain=200.0):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(14)
    w1 = rng.normal(0, 0.4, (32, 16)).astype(np.float32)
    w1[:, 15] = 0
    w1[31, :] = 0
    w1[31, 15] = 1.0            # h[31] = relu(x[15])
    b1 = rng.normal(0, 0.1, 32).astype(np.float32)
    b1[31] = 0
    w2 = rng.normal(0, 0.3, (4, 32)).astype(np.float32)
    w2[:, 31] = 0
    b2 = rng.normal(0, 0.1, 4).astype(np.float32)
    w3 = rng.normal(0, 0.3, (8, 32)).astype(np.float32)
    w3[:, 31] = 0
    w3[0, :] = 0
    w3[0, 31] = gain            # yb[0] = GAIN * h[31]
    b3 = rng.normal(0, 0.1, 8).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (w3, "w3"), (b3, "b3")]]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h0"], transB=1),
        helper.make_node("Relu", ["h0"], ["h"]),
        helper.make_node("Gemm", ["h", "w2", "b2"], ["ya"], transB=1),
        helper.make_node("Gemm", ["h", "w3", "b3"], ["yb"], transB=1),
    ]
    g = helper.make_graph(nodes, "mixed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                          [helper.make_tensor_value_info("ya", TensorProto.FLOAT, [1, 4]),
                           helper.make_tensor_value_info("yb", TensorProto.FLOAT, [1, 8])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "m.onnx"))

    for sub, xs in (("calib", inputs(rng, 32, True, count)), ("valid", inputs(rng, 8, False))):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        for i, x in enumerate(xs):
            np.save(os.path.join(d, sub, "%02d.npy" % i), x)
            if sub == "valid":
                x64 = x.astype(np.float64)
                h = np.maximum(x64 @ w1.T.astype(np.float64) + b1, 0)
                np.save(os.path.join(d, "ref_ya_%02d.npy" % i), h @ w2.T.astype(np.float64) + b2)
                np.save(os.path.join(d, "ref_yb_%02d.npy" % i), h @ w3.T.astype(np.float64) + b3)
    with open(os.path.join(d, "base.toml"), "w") as f:
        f.write('[model]\npath = "m.onnx"\n\n[calibration]\ndataset = "calib/"\n')
    with open(os.path.join(d, "mp.toml"), "w") as f:
        f.write('[model]\npath = "m.onnx"\n\n[quantization]\ntarget_sqnr = 30\n\n'
                '[calibration]\ndataset = "calib/"\n\n[validation]\ndataset = "valid/"\n')


def chain(d, k):
    """A chain of K 16x16 dense layers, x -> d1 -> ... -> dK = y, each
    near-orthogonal (so the signal neither grows nor fades), calibrated on
    samples 17 of 32 of which are 4 times the others: every activation's
    int8 range is 4 times what the validation samples use, so each layer
    adds about the same noise and the target needs several raised."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(15)
    ws = [np.linalg.qr(rng.normal(0, 1, (16, 16)))[0].astype(np.float32) for _ in range(k)]
    inits = [numpy_helper.from_array(w, "w%d" % (i + 1)) for i, w in enumerate(ws)]
    nodes = [helper.make_node("MatMul", ["x" if i == 0 else "d%d" % i, "w%d" % (i + 1)],
                              ["y" if i == k - 1 else "d%d" % (i + 1)]) for i in range(k)]
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "m.onnx"))
    for sub, n in (("calib", 32), ("valid", 8)):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        xs = rng.normal(0, 1, (n, 1, 16)).astype(np.float32)
        if sub == "calib":
            xs[:17] *= 4
        for i, x in enumerate(xs):
            np.save(os.path.join(d, sub, "%02d.npy" % i), x)
            if sub == "valid":
                y = x.astype(np.float64)
                for w in ws:
                    y = y @ w.astype(np.float64)
                np.save(os.path.join(d, "ref_y_%02d.npy" % i), y)


def sqnr(ref, got):
    noise = np.sum((ref - got) ** 2)
    return float("inf") if noise == 0 else 10 * np.log10(np.sum(ref ** 2) / noise)


def compile_overrides(d, overrides, tag):
    """DIR/m.onnx calibrated on DIR/calib/ and compiled to QIR with OVERRIDES
    ({node: dtype}) as [[quantization.override]] tables and nothing else:
    the path of the QIR (also used by accuracy_drop.py)."""
    cfg = os.path.join(d, "check_%s.toml" % tag)
    with open(cfg, "w") as f:
        f.write('[model]\npath = "m.onnx"\n\n[calibration]\ndataset = "calib/"\n')
        for node, dt in sorted(overrides.items()):
            f.write('\n[[quantization.override]]\nnode = "%s"\ndtype = "%s"\n' % (node, dt))
    qir = os.path.join(d, "check_%s.qir" % tag)
    subprocess.run(["qnnc", "--config", cfg, "--emit=qir", "-o", qir], check=True)
    return qir


def measure(d, overrides, tag, outputs=("ya", "yb")):
    """Worst output SQNR of the model compiled with OVERRIDES ({node: dtype})."""
    qir = compile_overrides(d, overrides, tag)
    runs = os.path.join(d, "check_%s.runs" % tag)
    n = len(os.listdir(os.path.join(d, "valid")))
    with open(runs, "w") as f:
        for i in range(n):
            f.write(" ".join([os.path.join(d, "valid", "%02d.npy" % i)] +
                             [os.path.join(d, "out_%s_%s_%02d.npy" % (tag, o, i)) for o in outputs]) + "\n")
    subprocess.run(["qnnc-run", qir, "--runs", runs], check=True)
    worst = {}
    for o in outputs:
        ref = np.concatenate([np.load(os.path.join(d, "ref_%s_%02d.npy" % (o, i))).ravel() for i in range(n)])
        got = np.concatenate([np.load(os.path.join(d, "out_%s_%s_%02d.npy" % (tag, o, i))).ravel()
                              for i in range(n)]).astype(np.float64)
        worst[o] = sqnr(ref, got)
    return worst


def check(d, report, target):
    with open(report) as f:
        mp = json.load(f)["mixed_precision"]
    dt = {"int16x8": "i16", "f32": "f32"}
    chosen = {l["name"]: dt[l["precision"]] for l in mp["layers"]
              if l["precision"] != l.get("unraised", "int8")}
    outs = tuple(o["name"] for o in mp["outputs"])
    ok = True
    base = measure(d, {}, "int8", outs)
    print("int8 only: " + ", ".join("%s %.2f dB" % kv for kv in sorted(base.items())))
    full = measure(d, chosen, "chosen", outs)
    print("chosen {%s}: %s" % (", ".join(sorted(chosen)), ", ".join("%s %.2f dB" % kv for kv in sorted(full.items()))))
    if min(full.values()) < target:
        print("FAIL: the chosen set misses the target")
        ok = False
    for i, name in enumerate(sorted(chosen)):
        rest = {k: v for k, v in chosen.items() if k != name}
        w = measure(d, rest, "minus%d" % i, outs)
        low = min(w.values())
        print("without %s: worst %.2f dB (%s the target)" % (name, low, "below" if low < target else "NOT below"))
        if low >= target:
            print("FAIL: %s can return to its unraised precision" % name)
            ok = False
    print("PASS" if ok else "FAIL")
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        os.makedirs(sys.argv[2], exist_ok=True)
        model(sys.argv[2])
    elif sys.argv[1] == "gen-outlier":
        os.makedirs(sys.argv[2], exist_ok=True)
        model(sys.argv[2], 1, float(sys.argv[3]) if len(sys.argv) > 3 else 1e6)
    elif sys.argv[1] == "gen-chain":
        os.makedirs(sys.argv[2], exist_ok=True)
        chain(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(0 if check(sys.argv[2], sys.argv[3], float(sys.argv[4])) else 1)
