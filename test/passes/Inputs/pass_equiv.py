#!/usr/bin/env python3
"""Check that a pass kept a graph's meaning: run BEFORE.qir and AFTER.qir
in the reference interpreter (qnnc-run) on the same random inputs and
compare every output.  The unrewritten graph is the oracle.

usage: pass_equiv.py BEFORE.qir AFTER.qir --dir DIR [--seed N] [--runs N]
                     (--exact | --rtol R)

--exact   outputs must be bit-identical (NaN payloads included)
--rtol R  |after - before| <= R * (|before| + max|before|) elementwise: a
          relative tolerance on each element, widened by the output's
          largest magnitude, so elements that nearly cancel (a float32 sum
          of large terms) are held to the accuracy of those terms.

Inputs are drawn per graph input from its declared dtype: f32 standard
normal (times 2), integers uniform over the dtype's whole range.  Prints one
summary line; exits 1 on a mismatch.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

DTYPES = {"f32": np.float32, "i8": np.int8, "u8": np.uint8, "i16": np.int16, "i32": np.int32}


def signature(path):
    """(inputs as [(name, dtype, shape)], number of outputs) of a .qir file."""
    text = open(path).read()
    inputs = [(m.group(1), m.group(2), tuple(int(d) for d in m.group(3).split(",") if d))
              for m in re.finditer(r"^\s*input\s+%(\S+)\s*:\s*(\w+)\[([0-9,]*)\]", text, re.M)]
    outputs = 0
    for m in re.finditer(r"^\s*output\s+(.*)$", text, re.M):
        outputs += len(m.group(1).split(","))
    return inputs, outputs


def random_input(rng, dtype, shape):
    t = DTYPES[dtype]
    if t == np.float32:
        return (2 * rng.standard_normal(shape)).astype(np.float32)
    info = np.iinfo(t)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(t)


def run(model, in_files, out_files):
    cmd = ["qnnc-run", model]
    for f in in_files:
        cmd += ["--input", f]
    for f in out_files:
        cmd += ["--output", f]
    subprocess.run(cmd, check=True)
    return [np.load(f) for f in out_files]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--exact", action="store_true")
    mode.add_argument("--rtol", type=float)
    a = ap.parse_args()

    inputs, nout = signature(a.before)
    if signature(a.after) != (inputs, nout):
        print("pass_equiv: MISMATCH: the signature changed")
        return 1
    os.makedirs(a.dir, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    values, worst, bad = 0, 0.0, 0
    for r in range(a.runs):
        in_files = []
        for i, (name, dtype, shape) in enumerate(inputs):
            f = os.path.join(a.dir, "in%d_%d.npy" % (r, i))
            np.save(f, random_input(rng, dtype, shape))
            in_files.append(f)
        ref = run(a.before, in_files, [os.path.join(a.dir, "ref%d_%d.npy" % (r, k)) for k in range(nout)])
        got = run(a.after, in_files, [os.path.join(a.dir, "got%d_%d.npy" % (r, k)) for k in range(nout)])
        for k, (x, y) in enumerate(zip(ref, got)):
            values += x.size
            if x.dtype != y.dtype or x.shape != y.shape:
                print("pass_equiv: MISMATCH: output %d is %s%s, was %s%s" % (k, y.dtype, y.shape, x.dtype, x.shape))
                bad += 1
                continue
            if a.exact:
                diff = x.view(np.uint8) != y.view(np.uint8)
                if diff.any():
                    print("pass_equiv: MISMATCH: run %d output %d differs in %d bytes" % (r, k, int(diff.sum())))
                    bad += 1
                continue
            xd, yd = x.astype(np.float64), y.astype(np.float64)
            err = np.abs(yd - xd) / (np.abs(xd) + np.abs(xd).max() + 1e-30)
            worst = max(worst, float(err.max()))
            if not np.all(err <= a.rtol):
                i = int(err.argmax())
                print("pass_equiv: MISMATCH: run %d output %d element %d: %r vs %r" %
                      (r, k, i, float(yd.flat[i]), float(xd.flat[i])))
                bad += 1
    tol = "exact" if a.exact else "max relative error %.3g <= %g" % (worst, a.rtol)
    print("pass_equiv: %d runs, %d values, %s, %d mismatches" % (a.runs, values, tol, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
