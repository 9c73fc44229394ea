#!/usr/bin/python3
"""compare.py ACTUAL EXPECTED: compare two tensors (.npy or ONNX .pb).

Integers must match exactly; floats within |a - e| <= 1e-6 + 1e-5 * |e|
(the conformance tolerance of run_node_tests.py), after an optional
--transpose P,Q,... applied to ACTUAL.  Prints "match" or what differs and
exits non-zero on a mismatch.
"""
import argparse
import sys

import numpy as np


def load(path):
    if path.endswith(".pb"):
        import onnx
        from onnx import numpy_helper
        return numpy_helper.to_array(onnx.load_tensor(path))
    return np.load(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("actual")
    ap.add_argument("expected")
    ap.add_argument("--transpose")
    a = ap.parse_args()
    got, exp = load(a.actual), load(a.expected)
    if a.transpose:
        got = got.transpose([int(p) for p in a.transpose.split(",")])
    if got.shape != exp.shape:
        print("shape %s, expected %s" % (got.shape, exp.shape))
        return 1
    if np.issubdtype(exp.dtype, np.integer):
        bad = int(np.sum(got.astype(np.int64) != exp.astype(np.int64)))
    else:
        g, e = got.astype(np.float64), exp.astype(np.float64)
        bad = int(np.sum(~(np.abs(g - e) <= 1e-6 + 1e-5 * np.abs(e))))
    if bad:
        print("%d of %d elements differ" % (bad, exp.size))
        return 1
    print("match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
