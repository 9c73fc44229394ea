"""Writes the inputs of add-pairs.qir (one .npy a graph input) into
OUTDIR: each 2-D input [R, C] named a... holds min + i % 256 in row i,
each named b... min + k % 256 in column k (min: -128 for i8, 0 for u8),
so an add of an a and a b over 256 rows and at least 256 columns meets
every pair of stored values; one named c... holds min + (7i + 13k) % 256.
Deterministic: nothing random.

usage: gen_add_pairs.py QIR OUTDIR
"""
import os
import re
import sys

import numpy as np


def main():
    qir, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for m in re.finditer(r"input %(\w+) : (i8|u8)\[(\d+),(\d+)\]", open(qir).read()):
        name, dt, r, c = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        lo = -128 if dt == "i8" else 0
        i, k = np.meshgrid(np.arange(r), np.arange(c), indexing="ij")
        v = lo + (i if name[0] == "a" else k if name[0] == "b" else 7 * i + 13 * k) % 256
        np.save(os.path.join(out, name + ".npy"), v.astype(np.int8 if dt == "i8" else np.uint8))


if __name__ == "__main__":
    main()
