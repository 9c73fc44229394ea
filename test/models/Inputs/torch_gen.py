"""What the torch model generators in this folder share (gen_fusion.py,
gen_fusion_tanh.py): exporting a module with one input x and one output y,
and writing calibration and evaluation inputs.
"""
import os

import numpy as np
import torch


def export(module, shape, path, opset=13):
    """torch.onnx.export of MODULE on an x of SHAPE, at OPSET, to PATH."""
    torch.onnx.export(module, torch.zeros(*shape), path, opset_version=opset, input_names=["x"], output_names=["y"])


def save_inputs(out, shape, n, rng):
    """OUT/calib/NNN.npy, then OUT/eval/NNN.npy: N each of SHAPE, standard
    normal times 2, float32, drawn from RNG in that order."""
    for split in ("calib", "eval"):
        d = os.path.join(out, split)
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            np.save(os.path.join(d, "%03d.npy" % i), (2 * rng.standard_normal(shape)).astype(np.float32))
