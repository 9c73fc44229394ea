"""What the numeric pass checks in this folder share (bias_correct_check.py,
equalize_check.py): writing float constants into a .qir, saving seeded
input samples, quantizing a model with qnnc under a calibration config and
running a graph in the reference interpreter (qnnc-run).

Each takes WORK, the test's scratch folder: samples go to WORK/calib and
WORK/eval, configs, graphs and outputs to WORK itself.
"""
import os
import subprocess

import numpy as np


def fmt(a):
    """A .qir constant's value list: A as float32, flattened."""
    return "[" + ", ".join(repr(float(v)) for v in np.asarray(a, np.float32).ravel()) + "]"


def save_samples(work, sub, name, n, draw):
    """Saves N float32 samples, draw() each (in order), as WORK/SUB/NAME % i;
    returns their paths."""
    os.makedirs(os.path.join(work, sub), exist_ok=True)
    paths = []
    for i in range(n):
        p = os.path.join(work, sub, name % i)
        np.save(p, draw().astype(np.float32))
        paths.append(p)
    return paths


def quantize(work, model, tag, quantization):
    """Writes WORK/TAG.toml (calibrate on WORK/calib, then the
    [quantization] lines QUANTIZATION), quantizes MODEL with it into
    WORK/TAG.qir (qnnc --emit=qir) and returns that path."""
    cfg = os.path.join(work, tag + ".toml")
    with open(cfg, "w") as f:
        f.write(f'[calibration]\ndataset = "calib"\n\n[quantization]\n{quantization}\n')
    qir = os.path.join(work, tag + ".qir")
    subprocess.run(["qnnc", model, "--config", cfg, "--emit=qir", "-o", qir], check=True)
    return qir


def run(work, qir, x, tag):
    """QIR's output on the input file X in the reference interpreter, as
    float64 (written to WORK/out_TAG.npy)."""
    out = os.path.join(work, f"out_{tag}.npy")
    subprocess.run(["qnnc-run", qir, "--input", x, "--output", out], check=True)
    return np.load(out).astype(np.float64)
