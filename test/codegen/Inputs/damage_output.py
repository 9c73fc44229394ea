"""Runs a compiled program through scripts/run-target, then damages one
of the .npy files it wrote: check.py's own test (check-py.test) uses it
as --runner to see that check.py notices.

usage: damage_output.py SRCROOT INDEX ULPS TARGET PROGRAM ARGS...

The INDEX-th --output file (from 0) gets ULPS added to the bit pattern
of its first element: ULPS ulp for a float, ULPS for an integer."""
import subprocess
import sys

import numpy as np


def main():
    src, index, ulps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rest = sys.argv[4:]
    r = subprocess.run([src + "/scripts/run-target"] + rest)
    if r.returncode != 0:
        return r.returncode
    outs = [rest[i + 1] for i in range(len(rest) - 1) if rest[i] == "--output"]
    a = np.load(outs[index])
    bits = a.view({1: np.int8, 2: np.int16, 4: np.int32}[a.dtype.itemsize]).reshape(-1)
    bits[0] += ulps
    np.save(outs[index], a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
