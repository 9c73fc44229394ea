#!/usr/bin/python3
"""Mutation fuzzing of the ONNX importer (run by hand, not by lit).

usage: fuzz_import.py QNNC_RUN [--mode bytes|struct] [--iterations N] [--seed S]

Takes the libonnx-testdata models and the models under Inputs/ and mutates
them: --mode bytes flips, drops and inserts random bytes and truncates;
--mode struct (through python3-onnx) changes attributes, dimensions,
element types, initializer values (NaN, zero and negative scales, extreme
zero points), inputs and op types, so that the mutant still parses and
reaches the importer's checks.  Each mutant runs as `QNNC_RUN model
--print`; every run must end with exit status 0, 1 or 2, no sanitizer
report and no "internal error" (a graph the verifier rejects): a malformed
model is an error message, never a crash.  Build QNNC_RUN with
-fsanitize=address,undefined for this to mean much.
"""
import argparse
import glob
import os
import random
import subprocess
import sys
import tempfile

DATA = "/usr/share/libonnx-testdata/data"


def mutate_bytes(data, rng):
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not b:
            break
        i = rng.randrange(len(b))
        k = rng.randint(0, 3)
        if k == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif k == 1:
            del b[i:i + rng.randint(1, 8)]
        elif k == 2:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            b[i] = rng.choice([0x00, 0x7f, 0x80, 0xff])
    if rng.random() < 0.1:
        b = b[: rng.randrange(len(b) + 1)]
    return bytes(b)


def mutate_struct(data, rng):
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.ModelProto()
    m.ParseFromString(data)
    g = m.graph
    ints = [0, -1, 1, 2, 3, -5, 7, 100, 1 << 40, -(1 << 62)]
    for _ in range(rng.randint(1, 3)):
        k = rng.randint(0, 7)
        if k == 0 and g.node:
            for a in rng.choice(g.node).attribute:
                if a.ints:
                    a.ints[rng.randrange(len(a.ints))] = rng.choice(ints)
                elif a.type == a.INT:
                    a.i = rng.choice(ints)
        elif k == 1 and g.node:
            n = rng.choice(g.node)
            if n.input:
                n.input[rng.randrange(len(n.input))] = rng.choice(["", n.input[0]])
        elif k == 2 and g.initializer:
            t = rng.choice(g.initializer)
            if t.dims:
                t.dims[rng.randrange(len(t.dims))] = rng.choice(ints)
        elif k == 3 and g.input:
            d = rng.choice(g.input).type.tensor_type.shape.dim
            if d:
                d[rng.randrange(len(d))].dim_value = rng.choice([1, 2, 3, 7])
        elif k == 4 and g.initializer:
            rng.choice(g.initializer).data_type = rng.choice([1, 2, 3, 6, 7, 9, 10, 11])
        elif k == 5 and g.node:
            rng.choice(g.node).attribute.append(helper.make_attribute(
                rng.choice(["axis", "perm", "pads", "group", "kernel_shape", "strides", "to", "allowzero"]),
                rng.choice([rng.choice(ints), [rng.choice(ints)] * rng.randint(1, 5)])))
        elif k == 6 and g.initializer:
            i = rng.randrange(len(g.initializer))
            try:
                a = numpy_helper.to_array(g.initializer[i]).copy()
            except Exception:
                continue
            if a.size:
                if a.dtype.kind == "f":
                    a.flat[rng.randrange(a.size)] = rng.choice([0.0, -1.0, np.nan, np.inf, 1e-30, 1e30])
                else:
                    info = np.iinfo(a.dtype)
                    a.flat[rng.randrange(a.size)] = rng.choice([0, 1, info.min, info.max])
            g.initializer[i].CopyFrom(numpy_helper.from_array(a, g.initializer[i].name))
        elif k == 7 and g.node:
            rng.choice(g.node).op_type = rng.choice(["Relu", "MaxPool", "Add", "Conv", "QuantizeLinear",
                                                     "DequantizeLinear", "Concat", "Softmax", "Reshape"])
    return m.SerializeToString()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qnnc_run")
    ap.add_argument("--mode", choices=["bytes", "struct"], default="bytes")
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    here = os.path.dirname(os.path.abspath(__file__))
    seeds = sorted(glob.glob(os.path.join(DATA, "*", "test_*", "model.onnx")))
    seeds += sorted(p for p in glob.glob(os.path.join(here, "Inputs", "*.onnx"))
                    if not any(w in p for w in ("truncated", "corrupt", "external")))
    blobs = [open(p, "rb").read() for p in seeds]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.onnx")
        for it in range(a.iterations):
            src = rng.choice(blobs)
            try:
                data = mutate_bytes(src, rng) if a.mode == "bytes" else mutate_struct(src, rng)
            except Exception:
                continue  # a mutation python3-onnx itself cannot serialize
            with open(path, "wb") as f:
                f.write(data)
            r = subprocess.run([a.qnnc_run, path, "--print"], capture_output=True, text=True, errors="replace",
                               timeout=60)
            if (r.returncode not in (0, 1, 2) or "Sanitizer" in r.stderr or "runtime error" in r.stderr
                    or "internal error" in r.stderr):
                bad += 1
                keep = os.path.abspath(os.path.join(tmp, "..", "qnnc-fuzz-%d-%d.onnx" % (a.seed, it)))
                with open(keep, "wb") as f:
                    f.write(data)
                print("iteration %d: exit %d, kept %s\n%s" % (it, r.returncode, keep, r.stderr[:2000]))
    print("%d iterations, %d failures" % (a.iterations, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
