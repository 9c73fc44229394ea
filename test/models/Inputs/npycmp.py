"""Compares two sets of .npy outputs, output by output: the relative RMS
error and the SQNR of GOT against REF, or bit-exactness.

  npycmp.py REF GOT [--label L] [--max-rel-rms X] [--min-sqnr DB] [--max-abs E]
                    [--exact] [--threshold T] [--argmax] [--min-agree F]

REF and GOT are two .npy files or two directories.  In a directory, files
are named STEM.K.npy (sample STEM, graph output K, as test/models/Inputs/
ort_run.js --each and each.py write them); the samples compared are GOT's
(each.py --samples runs a subset), and each must be in REF.
Per output K, over all samples together:

  relative RMS error  sqrt(sum (got - ref)^2 / sum ref^2)
  SQNR                10 log10(sum ref^2 / sum (got - ref)^2) dB (inf when equal)
  max absolute error  max |got - ref| (printed with --max-abs, which bounds it:
                      for outputs on a fixed grid, such as an int8 sigmoid's
                      1/256, where SQNR says little about outputs near 0)

--min-sqnr takes one bound for every output or a comma-separated list,
one per output in order (for models whose outputs differ in kind).

--exact requires identical dtypes, shapes and bytes; with --ulp N, f32
outputs may differ by N units in the last place, for outputs computed
through libm (expf in softmax and sigmoid), whose last bit differs between
glibc and newlib (as test/codegen/Inputs/check.py --ulp).  --threshold T prints
how many samples' decisions (every element >= T) agree, for detectors
with a score output; --argmax how many samples' argmax agree, for
classifiers; --min-agree F bounds the fraction of samples on which they
agree (for detectors whose scores sit near the threshold on a few
windows).  A bound that does not hold prints a FAIL line and exits 1.
"""
import argparse
import math
import os
import re
import sys

import numpy as np


def pairs(ref, got):
    if os.path.isfile(ref):
        return {0: [(ref, got)]}
    out = {}
    names = sorted(f for f in os.listdir(got) if f.endswith(".npy"))
    if not names:
        sys.exit(f"npycmp: error: {got}: no .npy files")
    for f in names:
        m = re.fullmatch(r"(.*)\.(\d+)\.npy", f)
        k = int(m.group(2)) if m else 0
        r = os.path.join(ref, f)
        if not os.path.exists(r):
            sys.exit(f"npycmp: error: {r}: missing (it is in {got})")
        out.setdefault(k, []).append((r, os.path.join(got, f)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("ref")
    ap.add_argument("got")
    ap.add_argument("--label", default="")
    ap.add_argument("--max-rel-rms", type=float)
    ap.add_argument("--min-sqnr", type=lambda t: [float(x) for x in t.split(",")])
    ap.add_argument("--max-abs", type=float)
    ap.add_argument("--exact", action="store_true")
    ap.add_argument("--ulp", type=int, default=0)
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--argmax", action="store_true")
    ap.add_argument("--min-agree", type=float)
    a = ap.parse_args(argv)
    if a.min_agree is not None and a.threshold is None and not a.argmax:
        sys.exit("npycmp: error: --min-agree needs --threshold or --argmax")
    label = a.label + ": " if a.label else ""
    fail = False
    for k, files in sorted(pairs(a.ref, a.got).items()):
        n = len(files)
        if a.exact:
            bad = 0
            for r, g in files:
                x, y = np.load(r), np.load(g)
                same = x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
                if not same and a.ulp and x.dtype == y.dtype == np.float32 and x.shape == y.shape:
                    xi, yi = x.view(np.int32).astype(np.int64), y.view(np.int32).astype(np.int64)
                    same = bool(np.all(np.abs(xi - yi) <= a.ulp))
                if not same:
                    if not bad:
                        print(f"FAIL {label}output {k}: {g} differs from {r}")
                    bad += 1
            if bad:
                print(f"FAIL {label}output {k}: {bad} of {n} samples differ")
                fail = True
            else:
                print(f"{label}output {k}: {n} samples bit-exact" + (f" (f32 within {a.ulp} ulp)" if a.ulp else ""))
            continue
        sig = err = amax = 0.0
        agree = 0
        for r, g in files:
            x = np.load(r).astype(np.float64)
            y = np.load(g).astype(np.float64)
            if x.shape != y.shape:
                print(f"FAIL {label}output {k}: {g} has shape {y.shape}, {r} {x.shape}")
                fail = True
                continue
            sig += float(np.sum(x * x))
            err += float(np.sum((y - x) ** 2))
            amax = max(amax, float(np.max(np.abs(y - x)))) if x.size else amax
            if a.threshold is not None:
                agree += bool(np.array_equal(x >= a.threshold, y >= a.threshold))
            if a.argmax:
                agree += int(np.argmax(x)) == int(np.argmax(y))
        rel = math.sqrt(err / sig) if sig > 0 else (0.0 if err == 0 else math.inf)
        sqnr = math.inf if err == 0 else (10 * math.log10(sig / err) if sig > 0 else -math.inf)
        print(f"{label}output {k}: {n} samples, relative RMS error {rel:.3g}, SQNR {sqnr:.1f} dB")
        if a.max_abs is not None:
            print(f"{label}output {k}: max absolute error {amax:.3g}")
        if a.threshold is not None:
            print(f"{label}output {k}: decisions (>= {a.threshold:g}) agree on {agree} of {n} samples")
        if a.argmax:
            print(f"{label}output {k}: argmax agrees on {agree} of {n} samples")
        if a.min_agree is not None and not agree >= a.min_agree * n:
            print(f"FAIL {label}output {k}: decisions agree on {agree} of {n} samples, "
                  f"fewer than {a.min_agree:g} of them")
            fail = True
        if a.max_rel_rms is not None and not rel <= a.max_rel_rms:
            print(f"FAIL {label}output {k}: relative RMS error {rel:.3g} > {a.max_rel_rms:g}")
            fail = True
        if a.max_abs is not None and not amax <= a.max_abs:
            print(f"FAIL {label}output {k}: max absolute error {amax:.3g} > {a.max_abs:g}")
            fail = True
        if a.min_sqnr is not None:
            if len(a.min_sqnr) > 1 and k >= len(a.min_sqnr):
                sys.exit(f"npycmp: error: --min-sqnr has {len(a.min_sqnr)} bounds, no bound for output {k}")
            bound = a.min_sqnr[k if len(a.min_sqnr) > 1 else 0]
            if not sqnr >= bound:
                print(f"FAIL {label}output {k}: SQNR {sqnr:.1f} dB < {bound:g} dB")
                fail = True
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
