#!/usr/bin/python3
"""Mutation fuzzing of the ONNX importer (run by hand, not by lit).

usage: fuzz_import.py QNNC_RUN [--iterations N] [--seed S]

Takes the node-test models and the models under Inputs/, flips, drops and
inserts random bytes, truncates, and runs `QNNC_RUN model --print` on each
mutant.  Every run must end with exit status 0, 1 or 2 and no sanitizer
report: a malformed model is an error message, never a crash.  Build
QNNC_RUN with -fsanitize=address,undefined for this to mean much.
"""
import argparse
import glob
import os
import random
import subprocess
import sys
import tempfile


def mutate(data, rng):
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        k = rng.randint(0, 3)
        if not b:
            break
        i = rng.randrange(len(b))
        if k == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif k == 1:
            del b[i:i + rng.randint(1, 8)]
        elif k == 2:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            b[i] = rng.choice([0x00, 0x7f, 0x80, 0xff])
    if rng.random() < 0.1:
        b = b[: rng.randrange(len(b) + 1)]
    return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qnnc_run")
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    here = os.path.dirname(os.path.abspath(__file__))
    seeds = sorted(glob.glob("/usr/share/libonnx-testdata/data/node/test_*/model.onnx"))
    seeds += sorted(glob.glob(os.path.join(here, "Inputs", "*.onnx")))
    blobs = [open(p, "rb").read() for p in seeds]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.onnx")
        for it in range(a.iterations):
            data = mutate(rng.choice(blobs), rng)
            with open(path, "wb") as f:
                f.write(data)
            r = subprocess.run([a.qnnc_run, path, "--print"], capture_output=True, text=True, errors="replace", timeout=60)
            if r.returncode not in (0, 1, 2) or "Sanitizer" in r.stderr or "runtime error" in r.stderr:
                bad += 1
                keep = os.path.join(tmp, "..", "qnnc-fuzz-%d.onnx" % it)
                with open(keep, "wb") as f:
                    f.write(data)
                print("iteration %d: exit %d, kept %s\n%s" % (it, r.returncode, os.path.abspath(keep),
                                                             r.stderr[:2000]))
    print("%d iterations, %d crashes" % (a.iterations, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
