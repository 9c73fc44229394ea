"""Writes calibration and evaluation inputs for the examples/zoo models
(docs/models.md) from Debian's Fashion-MNIST, one .npy a sample, as
each.py and ort_run.js --each take them.

  zoo_inputs.py classify OUT --eval N
      OUT/eval/NNNN.npy  the first N test images, f32[1,1,28,28] = pixel / 255
      OUT/labels.npy     their classes, u8[N]
      (the classifiers calibrate straight from the training IDX file)
  zoo_inputs.py classify OUT --eval N --size S [--calib M]
      the same images upscaled to SxS (bilinear, half-pixel: F.interpolate,
      as examples/zoo/mobilenetv2.py trains), f32[1,1,S,S]; with --calib,
      OUT/calib/NNNN.npy the first M training images likewise
  zoo_inputs.py unet OUT --eval N --calib M
      OUT/calib/NNNN.npy the first M training images blurred and noised as
                         examples/zoo/unet.py trains (unet.corrupt, seeded)
      OUT/eval/NNNN.npy  the first N test images corrupted as unet.py's own
                         test set (unet.test_set)
      OUT/masks.npy      their silhouettes, u8[N,1,28,28]
"""
import argparse
import os
import sys

import numpy as np

ZOO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples", "zoo")
sys.path.insert(0, ZOO)


def write(d, x):
    os.makedirs(d, exist_ok=True)
    for i in range(len(x)):
        np.save(os.path.join(d, f"{i:04d}.npy"), np.ascontiguousarray(x[i:i + 1], np.float32))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["classify", "unet"])
    ap.add_argument("out")
    ap.add_argument("--eval", type=int, required=True)
    ap.add_argument("--calib", type=int, default=0)
    ap.add_argument("--size", type=int, default=0)
    a = ap.parse_args()
    import common  # examples/zoo/common.py: the IDX reader and the dataset's place
    if a.kind == "classify":
        x, y = common.load("t10k")
        x = x[:a.eval]
        if a.size:
            import torch.nn.functional as F
            up = lambda t: F.interpolate(t, size=(a.size, a.size), mode="bilinear", align_corners=False)
            x = up(x)
            if a.calib:
                write(os.path.join(a.out, "calib"), up(common.load("train")[0][:a.calib]).numpy())
        write(os.path.join(a.out, "eval"), x.numpy())
        np.save(os.path.join(a.out, "labels.npy"), y[:a.eval].numpy().astype(np.uint8))
    else:
        import torch
        import unet
        xtr, _ = common.load("train")
        write(os.path.join(a.out, "calib"), unet.corrupt(xtr[:a.calib], torch.Generator().manual_seed(34)).numpy())
        x, m = unet.test_set()
        write(os.path.join(a.out, "eval"), x[:a.eval].numpy())
        np.save(os.path.join(a.out, "masks.npy"), m[:a.eval].numpy().astype(np.uint8))
    print(f"zoo_inputs: {a.eval} evaluation, {a.calib} calibration samples")


if __name__ == "__main__":
    main()
