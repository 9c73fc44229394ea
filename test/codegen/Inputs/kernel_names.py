"""Compiles .qir graphs to LLVM IR (`qnnc --emit=llvm -O0`: the kernel is
chosen while lowering, whatever the optimization level, and LLVM's
optimizer and code generator are the slow part) and prints, per graph, the
lowering of each node as its function's symbol names it
(NAME_run.K.<kernel>, codegen/kernel_int8.c: kern_select), runs of one
kernel compressed:

    kconv: conv_dot_avx2 x4
    kmatmul: conv_dot_avx2 x3, generic x3

A node the kernels did not take shows as `generic`.  Fails when the
module has fewer node functions than the graph has nodes.

usage: kernel_names.py [--qnnc-flag F]... FILE.qir...
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qnnc-flag", action="append", default=[])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    status = 0
    for f in a.files:
        text = open(f).read()
        graph = re.search(r"^graph @(\w+)", text, re.M).group(1)
        nodes = len(re.findall(r"^\s*%\S+\s*=\s*\w+\(", text, re.M))
        # In a directory of its own: --weights=external writes a file
        # next to the output.
        with tempfile.TemporaryDirectory(prefix="qnnc-kernel-names-") as tmp:
            out = os.path.join(tmp, "model.ll")
            r = subprocess.run(["qnnc", f, "--emit=llvm", "-O0", "-o", out] + a.qnnc_flag,
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {f}: qnnc: {r.stderr.strip()}")
                status = 1
                continue
            ll = open(out).read()
        fns = re.findall(r"^define [^@]*@\w+_run\.(\d+)\.(\w+)\(", ll, re.M)
        kernels = [k for _, k in sorted(fns, key=lambda p: int(p[0]))]
        if len(kernels) != nodes:
            print(f"FAIL {f}: {nodes} nodes but {len(kernels)} node functions")
            status = 1
        runs = []
        for k in kernels:
            if runs and runs[-1][0] == k:
                runs[-1][1] += 1
            else:
                runs.append([k, 1])
        print(f"{graph}: " + ", ".join(f"{k} x{c}" for k, c in runs))
    return status


if __name__ == "__main__":
    sys.exit(main())
