"""qnnc --profile on a small float ONNX graph: builds the graph (a 3x3
conv with stride 2 and padding, a depthwise conv, a 1x1 conv, Add, Relu,
global pooling, Gemm, MatMul), compiles it twice (--emit=exe with and
without --profile, both the same -mcpu), and checks

  - the runner's --profile report: a title, a header, one row per node
    (index, name, op, kernel, time, share, MACs, MACs per tick) and a total
    row, shares summing to 100%, the total time the sum of the rows;
  - the MACs of the conv2d, dense and matmul rows, in order, against
    counts computed here from the ONNX graph's shapes (onnx shape
    inference; conv: out * KH * KW * C/group, Gemm/MatMul: out * K), and
    the total against their sum;
  - that the instrumented program's output is byte-identical to the plain
    one's (profiling changes no result).

Prints "ok: ..." lines and "profile: all checks passed", or "FAIL: ...".

usage: profile_check.py TMPDIR [QNNC_FLAG...]
"""
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

MAC_OPS = {"Conv", "Gemm", "MatMul"}


def build(path):
    rng = np.random.default_rng(3)
    w = lambda name, *s: numpy_helper.from_array((rng.standard_normal(s) * 0.3).astype(np.float32), name)
    inits = [w("w1", 16, 3, 3, 3), w("b1", 16), w("w2", 16, 1, 3, 3), w("w3", 24, 16, 1, 1), w("w4", 24, 24, 1, 1),
             w("g", 10, 24), w("gb", 10), w("m", 10, 7)]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], group=16, pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["c2", "w3"], ["c3"]),
        helper.make_node("Conv", ["c3", "w4"], ["c4"]),
        helper.make_node("Add", ["c3", "c4"], ["a"]),
        helper.make_node("Relu", ["a"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "g", "gb"], ["h"], transB=1),
        helper.make_node("MatMul", ["h", "m"], ["y"]),
    ]
    g = helper.make_graph(nodes, "prof", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 17, 19])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 7])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return m


def expected_macs(m):
    m = shape_inference.infer_shapes(m)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(m.graph.value_info) + list(m.graph.output) + list(m.graph.input)}
    for t in m.graph.initializer:
        shapes[t.name] = list(t.dims)
    macs = []
    for n in m.graph.node:
        if n.op_type not in MAC_OPS:
            continue
        out = int(np.prod(shapes[n.output[0]]))
        if n.op_type == "Conv":
            _, cg, kh, kw = shapes[n.input[1]]
            macs.append(out * cg * kh * kw)
        else:
            macs.append(out * shapes[n.input[0]][-1])
    return macs


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: {' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()[:400]}")
        sys.exit(1)
    return r.stdout


def main():
    tmp, flags = sys.argv[1], sys.argv[2:]
    os.makedirs(os.path.join(tmp, "calib"), exist_ok=True)
    model = build(os.path.join(tmp, "prof.onnx"))
    rng = np.random.default_rng(5)
    for i in range(8):
        np.save(os.path.join(tmp, "calib", f"{i}.npy"), rng.standard_normal((1, 3, 17, 19)).astype(np.float32))
    x = os.path.join(tmp, "x.npy")
    np.save(x, rng.standard_normal((1, 3, 17, 19)).astype(np.float32))
    with open(os.path.join(tmp, "prof.toml"), "w") as f:
        f.write('[model]\npath = "prof.onnx"\n[calibration]\ndataset = "calib/"\n')
    cfg = os.path.join(tmp, "prof.toml")
    exe_p, exe = os.path.join(tmp, "prof_p.exe"), os.path.join(tmp, "prof.exe")
    run(["qnnc", "--config", cfg, "--emit=exe", "--profile", "-o", exe_p] + flags)
    run(["qnnc", "--config", cfg, "--emit=exe", "-o", exe] + flags)
    out = run([exe_p, "--input", x, "--output", os.path.join(tmp, "y_p.npy"), "--profile", "--bench", "5"])
    run([exe, "--input", x, "--output", os.path.join(tmp, "y.npy")])
    bad = 0

    def check(ok, what):
        nonlocal bad
        bad += not ok
        print(("ok: " if ok else "FAIL: ") + what)

    lines = out.splitlines()
    title = [i for i, l in enumerate(lines) if l.startswith("profile: ")]
    check(len(title) == 1 and re.match(r"profile: prof: (\d+) nodes, median of 5 runs \(clock: .*; MACs per (ns|cycle)\)$",
                                       lines[title[0]]) is not None, "title line")
    nnodes = int(re.search(r"(\d+) nodes", lines[title[0]]).group(1))
    head = lines[title[0] + 1].split()
    check(head == ["#", "node", "op", "kernel", "time_us", "share", "MACs", head[-1]] and
          re.fullmatch(r"MACs/(ns|cycle)", head[-1]) is not None, "header: " + " ".join(head))
    rows = []
    for k, l in enumerate(lines[title[0] + 2:title[0] + 2 + nnodes]):
        f = l.split()
        ok = len(f) == 8 and f[0] == str(k) and re.fullmatch(r"\d+\.\d{3}", f[4]) and re.fullmatch(r"\d+\.\d%", f[5]) \
            and f[6].isdigit() and (f[7] == "-" if f[6] == "0" else re.fullmatch(r"\d+\.\d{3}", f[7]))
        if not ok:
            check(False, f"row {k}: {l!r}")
        rows.append(f)
    check(len(rows) == nnodes, f"{nnodes} node rows")
    tot = lines[title[0] + 2 + nnodes].split()
    check(tot[0] == "total" and tot[2] == "100.0%", "total row")
    check(abs(sum(float(r[5][:-1]) for r in rows) - 100) < 0.05 * nnodes + 0.1, "shares sum to 100%")
    check(abs(sum(float(r[4]) for r in rows) - float(tot[1])) <= 0.001 * nnodes + 0.001, "total time is the rows' sum")
    want = expected_macs(model)
    got = [int(r[6]) for r in rows if r[2] in ("conv2d", "dense", "matmul")]
    check(got == want, f"MACs per conv2d/dense/matmul row {got} == from the ONNX shapes {want}")
    check(all(r[6] == "0" for r in rows if r[2] not in ("conv2d", "dense", "matmul")), "other ops count 0 MACs")
    check(int(tot[3]) == sum(want), f"total MACs {tot[3]} == {sum(want)}")
    same = open(os.path.join(tmp, "y_p.npy"), "rb").read() == open(os.path.join(tmp, "y.npy"), "rb").read()
    check(same, "profiled output byte-identical to the plain program's")
    print("profile: all checks passed" if not bad else f"profile: {bad} checks failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
