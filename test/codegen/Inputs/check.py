"""Compiles .qir graphs with `qnnc --emit=exe` for a target, runs them on
random inputs (under qemu for cross targets, via scripts/run-target) and
compares every output with the reference interpreter's (`qnnc-run`).

Integer outputs must be byte-identical.  Float outputs must be identical
too, except where the graph calls libm (expf, tanhf: sigmoid, tanh,
softmax on floats), whose last bit may differ between C libraries; those
are compared within N ulp when --ulp N is given (newlib's expf is not
glibc's).

usage: check.py --target T --src SRCROOT --tmp DIR [--ulp N] [--cc CC]
                [--qnnc-flag F]... [--runs N] FILE.qir...
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

DT = {"f32": np.float32, "i8": np.int8, "u8": np.uint8, "i16": np.int16, "i32": np.int32}


def inputs_of(path):
    text = open(path).read()
    out = []
    for m in re.finditer(r"^\s*input\s+%(\S+)\s*:\s*(\w+)\[([0-9, ]*)\]", text, re.M):
        dims = [int(d) for d in m.group(3).split(",") if d.strip()]
        out.append((m.group(1), m.group(2), dims))
    outs = re.findall(r"^\s*output\s+%(\S+)", text, re.M)
    return out, outs


def rand(rng, dt, dims):
    if dt == "f32":
        return (rng.standard_normal(dims) * 3).astype(np.float32)
    if dt == "i32":
        return rng.integers(-1000, 1000, size=dims, dtype=np.int32)
    info = np.iinfo(DT[dt])
    return rng.integers(info.min, info.max + 1, size=dims, dtype=np.int64).astype(DT[dt])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--ulp", type=int, default=0)
    ap.add_argument("--cc")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--qnnc-flag", action="append", default=[])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.tmp, exist_ok=True)
    rng = np.random.default_rng(1234)
    runner = os.path.join(a.src, "scripts", "run-target")
    triple = a.target.replace("+v", "")
    failures = 0
    failed = set()
    for f in a.files:
        base = os.path.join(a.tmp, os.path.basename(f).replace(".qir", ""))
        ins, outs = inputs_of(f)
        exe = base + ".exe"
        cmd = ["qnnc", f, "--stop-after=import", "--emit=exe", "--target=" + triple, "-o", exe] + a.qnnc_flag
        if a.target.endswith("+v"):
            cmd.append("-mattr=+v")
        if a.cc:
            cmd.append("--cc=" + a.cc)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL {f}: qnnc: {r.stderr.strip()}")
            failures += 1
            failed.add(f)
            continue
        before = failures
        for run in range(a.runs):
            args, ref_args, got_args = [], [], []
            for name, dt, dims in ins:
                p = f"{base}.{run}.in.{name}.npy"
                np.save(p, rand(rng, dt, dims))
                args += ["--input", p]
            for name in outs:
                ref_args += ["--output", f"{base}.{run}.ref.{name}.npy"]
                got_args += ["--output", f"{base}.{run}.got.{name}.npy"]
            r = subprocess.run(["qnnc-run", f] + args + ref_args, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {f}: qnnc-run: {r.stderr.strip()}")
                failures += 1
                failed.add(f)
                break
            r = subprocess.run([runner, a.target, exe] + args + got_args, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {f}: {exe}: status {r.returncode}: {r.stdout.strip()} {r.stderr.strip()}")
                failures += 1
                failed.add(f)
                break
            for name in outs:
                ref = np.load(f"{base}.{run}.ref.{name}.npy")
                got = np.load(f"{base}.{run}.got.{name}.npy")
                same = ref.dtype == got.dtype and ref.shape == got.shape and ref.tobytes() == got.tobytes()
                if not same and a.ulp and ref.dtype == np.float32 and ref.shape == got.shape:
                    ri, gi = ref.view(np.int32).astype(np.int64), got.view(np.int32).astype(np.int64)
                    same = bool(np.all(np.abs(ri - gi) <= a.ulp) | np.all(ref == got))
                if not same:
                    bad = np.flatnonzero(ref.reshape(-1) != got.reshape(-1)) if ref.shape == got.shape else []
                    print(f"FAIL {f}: %{name} differs at {len(bad)} elements, first {list(bad[:5])}: "
                          f"ref {ref.reshape(-1)[bad[:5]]} got {got.reshape(-1)[bad[:5]]}")
                    failures += 1
                    failed.add(f)
        if failures == before:
            print(f"ok {os.path.basename(f)}")
    bad = len({l for l in failed})
    print(f"{len(a.files) - bad} of {len(a.files)} graphs match")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
