"""Runs a program once per sample: for every IN_DIR/STEM.npy (sorted), the
run `--input IN_DIR/STEM.npy --output OUT_DIR/STEM.0.npy ...` with NOUT
outputs.  CMD is `qnnc-run MODEL.qir` or `scripts/run-target TARGET
MODEL.exe`.  Stops at the first failure with its status and output.

  each.py [--samples N] IN_DIR OUT_DIR NOUT CMD...

--samples N runs only N of the samples, evenly spaced in name order (the
same ones every time): emulated targets are slow, and bit-exactness on a
spread of samples is what they are there to show.

Every run goes to one process, as a list (`CMD... --runs LIST`, which
qnnc-run and every compiled program take): reading a large model's text
IR, or starting QEMU, costs more than one run of a small model.
"""
import os
import subprocess
import sys
import tempfile


def check(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit(f"each: error: {' '.join(argv)}: exit status {r.returncode}")


def main():
    argv = sys.argv[1:]
    samples = None
    if argv[:1] == ["--samples"]:
        samples, argv = int(argv[1]), argv[2:]
    if len(argv) < 4:
        sys.exit("usage: each.py [--samples N] IN_DIR OUT_DIR NOUT CMD...")
    ind, outd, nout, cmd = argv[0], argv[1], int(argv[2]), argv[3:]
    os.makedirs(outd, exist_ok=True)
    names = sorted(f for f in os.listdir(ind) if f.endswith(".npy"))
    if not names:
        sys.exit(f"each: error: {ind}: no .npy files")
    if samples is not None and samples < len(names):
        step = len(names) / samples
        names = [names[int(i * step)] for i in range(samples)]
    runs = [(os.path.join(ind, f), [os.path.join(outd, f"{f[:-4]}.{k}.npy") for k in range(nout)])
            for f in names]
    with tempfile.NamedTemporaryFile("w", suffix=".runs") as lst:
        lst.writelines(" ".join([i] + o) + "\n" for i, o in runs)
        lst.flush()
        check(cmd + ["--runs", lst.name])
    print(f"each: {len(names)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
