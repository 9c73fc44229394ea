#!/usr/bin/python3
"""Freeze graph inputs of an ONNX model into initializers.

usage: freeze_inputs.py MODEL.onnx TEST_DATA_DIR OUT.onnx [--keep N]

ONNX's node tests feed quantization parameters (scales, zero points) and
shape arguments (Reshape's shape, Pad's pads, Clip's bounds) as graph
inputs, so one model serves many data sets.  qnnc compiles them into its
kernels and needs them as constants; this script rewrites MODEL so that
every graph input after the first N (default 1) becomes an initializer
holding the test's own input_K.pb, which is what a deployed model has.
Prints the indices of the inputs that stay inputs, one per line.
"""
import argparse
import os
import sys

import onnx


def freeze(model, data_dir, keep):
    g = model.graph
    inits = {t.name for t in g.initializer}
    real = [i for i in g.input if i.name not in inits]
    kept = []
    for k, vi in enumerate(real):
        if k < keep:
            kept.append(k)
            continue
        t = onnx.load_tensor(os.path.join(data_dir, "input_%d.pb" % k))
        t.name = vi.name
        g.initializer.append(t)
    frozen = {t.name for t in g.initializer}
    remaining = [i for i in g.input if i.name not in frozen]
    del g.input[:]
    g.input.extend(remaining)
    return kept


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("data_dir")
    ap.add_argument("out")
    ap.add_argument("--keep", type=int, default=1)
    a = ap.parse_args()
    m = onnx.load(a.model)
    kept = freeze(m, a.data_dir, a.keep)
    onnx.save(m, a.out)
    for k in kept:
        print(k)


if __name__ == "__main__":
    sys.exit(main())
