"""Compiles .qir graphs with `qnnc --emit=exe` for a target, runs them on
random inputs (under qemu for cross targets, via scripts/run-target) and
compares every output with the reference interpreter's (`qnnc-run`).

Integer outputs must be byte-identical.  Float outputs must be identical
too, except where the graph calls libm (expf, logf, erff, tanhf, powf:
sigmoid, tanh, softmax, exp, log, erf, gelu, elu and pow on floats), whose
last bit may differ between C libraries: float outputs computed from such a
result (the graph's dataflow says which) are compared within N ulp when
--ulp N is given (newlib's expf is not glibc's); every other output stays
byte-exact.

Every output of the graph is compared (`output %a, %b` lists several on
one line); the run fails when fewer were.

usage: check.py --target T --src SRCROOT --tmp DIR [--ulp N] [--cc CC]
                [--qnnc-flag F]... [--runs N] [--runner CMD]
                [--inputs DIR] [--compile-only] FILE.qir...

--inputs DIR takes each graph input NAME from DIR/NAME.npy (its dtype and
shape) instead of random bytes: inputs chosen for what they reach
(gen_float_extremes.py's, at the ends of the accumulators' ranges).

--compile-only compiles every graph to an object and runs nothing: the
sanitizer build's cross-compile-sanitize.test, where what is instrumented
is qnnc itself, not the programs (the plain build runs them).

--runner CMD runs the program instead of SRCROOT/scripts/run-target (CMD
is split like a shell word list and gets TARGET PROGRAM ARGS...): the
suite's own test of this script (check-py.test) damages one output that way.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

import numpy as np

DT = {"f32": np.float32, "i8": np.int8, "u8": np.uint8, "i16": np.int16, "i32": np.int32}
# The ops whose generated code calls libm at run time (codegen/lower_elem.c:
# expf for sigmoid, softmax, exp and elu, logf for log, erff for erf and
# gelu, tanhf for tanh and gelu {approximate=tanh}, powf for pow).  sqrt and reciprocal are IEEE
# operations, exact on every target.
LIBM_OPS = {"sigmoid", "tanh", "softmax", "exp", "log", "erf", "gelu", "elu", "pow"}
# elu (expf(x) - 1) and gelu (x * (1 + erff(x/sqrt 2)) / 2) add a libm result
# of magnitude up to 1 to another term: near a zero of the sum, N ulp of
# that libm value are many ulp of the result.  Their outputs (and what is
# computed from them) are compared within N ulp of max(|ref|, 1) instead.
CANCEL_OPS = {"elu", "gelu"}
NAME = r"%([A-Za-z0-9_.$-]+)"  # docs/ir-syntax.md: value


def parse_graph(path):
    """The graph's inputs (name, dtype, dims), outputs (names, in order),
    the names of the values computed from a libm-calling op and, among
    those, the ones computed from a CANCEL_OPS op."""
    text = re.sub(r"//[^\n]*", "", open(path).read())
    ins = []
    for m in re.finditer(r"^\s*input\s+%(\S+)\s*:\s*(\w+)\[([0-9, ]*)\]", text, re.M):
        dims = [int(d) for d in m.group(3).split(",") if d.strip()]
        ins.append((m.group(1), m.group(2), dims))
    outs = []
    for m in re.finditer(r"^\s*output\s+(.*)$", text, re.M):
        outs += re.findall(NAME, m.group(1))
    libm, cancel = set(), set()
    for m in re.finditer(r"^\s*" + NAME + r"\s*=\s*(\w+)\(([^)]*)\)", text, re.M):
        args = re.findall(NAME, m.group(3))
        if m.group(2) in LIBM_OPS or any(a in libm for a in args):
            libm.add(m.group(1))
        if m.group(2) in CANCEL_OPS or any(a in cancel for a in args):
            cancel.add(m.group(1))
    return ins, outs, libm, cancel


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
    ap.add_argument("--runner")
    ap.add_argument("--inputs")
    ap.add_argument("--compile-only", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.tmp, exist_ok=True)
    rng = np.random.default_rng(1234)
    runner = shlex.split(a.runner) if a.runner else [os.path.join(a.src, "scripts", "run-target")]
    triple = a.target.replace("+v", "")
    failures = 0
    failed = set()
    for f in a.files:
        base = os.path.join(a.tmp, os.path.basename(f).replace(".qir", ""))
        ins, outs, libm, cancel = parse_graph(f)
        if not outs:
            print(f"FAIL {f}: no output statement found")
            failures += 1
            failed.add(f)
            continue
        exe = base + (".o" if a.compile_only else ".exe")
        cmd = ["qnnc", f, "--stop-after=import", "--emit=" + ("obj" if a.compile_only else "exe"),
               "--target=" + triple, "-o", exe] + a.qnnc_flag
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
        if a.compile_only:
            continue
        before = failures
        for run in range(a.runs):
            args, ref_args, got_args = [], [], []
            for name, dt, dims in ins:
                p = f"{base}.{run}.in.{name}.npy"
                v = np.load(os.path.join(a.inputs, name + ".npy")) if a.inputs else rand(rng, dt, dims)
                if v.dtype != DT[dt] or list(v.shape) != dims:
                    sys.exit(f"{f}: input %{name}: {v.dtype}{list(v.shape)} given, {dt}{dims} wanted")
                np.save(p, v)
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
            r = subprocess.run(runner + [a.target, exe] + args + got_args, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {f}: {exe}: status {r.returncode}: {r.stdout.strip()} {r.stderr.strip()}")
                failures += 1
                failed.add(f)
                break
            compared = 0
            for name in outs:
                ref = np.load(f"{base}.{run}.ref.{name}.npy")
                got = np.load(f"{base}.{run}.got.{name}.npy")
                same = ref.dtype == got.dtype and ref.shape == got.shape and ref.tobytes() == got.tobytes()
                ulp = a.ulp if name in libm else 0
                if not same and ulp and ref.dtype == np.float32 and ref.shape == got.shape:
                    ri, gi = ref.view(np.int32).astype(np.int64), got.view(np.int32).astype(np.int64)
                    within = np.abs(ri - gi) <= ulp
                    if name in cancel:
                        tol = ulp * np.spacing(np.maximum(np.abs(ref), np.float32(1)))
                        within |= np.abs(ref.astype(np.float64) - got.astype(np.float64)) <= tol
                    same = bool(np.all(within | (ref == got)))
                compared += 1
                if not same:
                    bad = np.flatnonzero(ref.reshape(-1) != got.reshape(-1)) if ref.shape == got.shape else []
                    print(f"FAIL {f}: %{name} differs at {len(bad)} elements, first {list(bad[:5])}: "
                          f"ref {ref.reshape(-1)[bad[:5]]} got {got.reshape(-1)[bad[:5]]}")
                    failures += 1
                    failed.add(f)
            if compared != len(outs):
                print(f"FAIL {f}: compared {compared} of {len(outs)} outputs")
                failures += 1
                failed.add(f)
        if failures == before:
            print(f"ok {os.path.basename(f)}")
    bad = len({l for l in failed})
    print(f"{len(a.files) - bad} of {len(a.files)} graphs " + ("compiled" if a.compile_only else "match"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
