"""Compares the line segments two runs of an M-LSD detector find
(docs/models.md): the detection metric of the M-LSD model tests.

  mlsd_segments.py REF GOT [--label L] [--score T] [--tol PX]
                   [--min-recall R] [--min-precision P]

REF and GOT are directories of STEM.0.npy (the `offsets` output, f32
[1, H, W, 4]) and STEM.1.npy (the `scores` output, f32 [1, H, W, 1]), as
ort_run.js --each and each.py write them; the samples compared are GOT's.
The model itself keeps only local maxima of its centre map (scores is
sigmoid x (sigmoid == maxpool3x3(sigmoid))), so, as in M-LSD's own
decoding, every pixel (x, y) with score >= T (default 0.2) is one segment,
from (x, y) + offsets[0:2] to (x, y) + offsets[2:4], in output pixels.

A segment of REF is found when GOT has a segment whose centre is within
one pixel (8-neighbourhood) and whose four endpoint coordinates are each
within PX (default 3) output pixels of REF's; each GOT segment matches
at most one.  Prints, over all samples, the segment counts, recall (REF
segments found) and precision (GOT segments that match one of REF's);
a bound that does not hold prints a FAIL line and exits 1.
"""
import argparse
import os
import sys

import numpy as np


def segments(d, stem, t):
    off = np.load(os.path.join(d, stem + ".0.npy"))
    sc = np.load(os.path.join(d, stem + ".1.npy"))
    if off.ndim != 4 or off.shape[-1] != 4 or sc.shape != off.shape[:3] + (1,):
        sys.exit(f"mlsd_segments: error: {d}/{stem}: offsets {off.shape} and scores {sc.shape} are not "
                 "[1,H,W,4] and [1,H,W,1]")
    ys, xs = np.nonzero(sc[0, :, :, 0] >= t)
    return [(int(y), int(x), off[0, y, x].astype(np.float64)) for y, x in zip(ys, xs)]


def match(ref, got, tol):
    used = [False] * len(got)
    by_pos = {}
    for j, (y, x, _) in enumerate(got):
        by_pos.setdefault((y, x), []).append(j)
    found = 0
    for y, x, o in ref:
        best = None
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for j in by_pos.get((y + dy, x + dx), ()):
                    if used[j]:
                        continue
                    # Endpoints in absolute output pixels: a neighbouring
                    # centre moves its offsets by the same step.
                    err = np.abs((got[j][2] + [dx, dy, dx, dy]) - o).max()
                    if err <= tol and (best is None or err < best[0]):
                        best = (err, j)
        if best is not None:
            used[best[1]] = True
            found += 1
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref")
    ap.add_argument("got")
    ap.add_argument("--label", default="")
    ap.add_argument("--score", type=float, default=0.2)
    ap.add_argument("--tol", type=float, default=3.0)
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--min-precision", type=float)
    a = ap.parse_args()
    label = a.label + ": " if a.label else ""
    stems = sorted(f[:-6] for f in os.listdir(a.got) if f.endswith(".1.npy"))
    if not stems:
        sys.exit(f"mlsd_segments: error: {a.got}: no STEM.1.npy files")
    nref = ngot = found = 0
    for s in stems:
        if not os.path.exists(os.path.join(a.ref, s + ".1.npy")):
            sys.exit(f"mlsd_segments: error: {a.ref}/{s}.1.npy: missing (it is in {a.got})")
        r, g = segments(a.ref, s, a.score), segments(a.got, s, a.score)
        nref += len(r)
        ngot += len(g)
        found += match(r, g, a.tol)
    recall = found / nref if nref else 1.0
    precision = found / ngot if ngot else 1.0
    print(f"{label}{len(stems)} samples, score >= {a.score:g}: {nref} reference segments, {ngot} found, "
          f"{found} match within {a.tol:g} px: recall {recall:.3f}, precision {precision:.3f}")
    fail = False
    if a.min_recall is not None and not recall >= a.min_recall:
        print(f"FAIL {label}recall {recall:.3f} < {a.min_recall:g}")
        fail = True
    if a.min_precision is not None and not precision >= a.min_precision:
        print(f"FAIL {label}precision {precision:.3f} < {a.min_precision:g}")
        fail = True
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
