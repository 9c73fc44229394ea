"""Writes the zoo's calibration and evaluation inputs from Debian's
dataset-fashion-mnist (they are generated, not committed).

    /usr/bin/python3 examples/zoo/make_data.py [--out DIR] [--count N]

Into DIR (default: examples/zoo/data):

    unet_calib/NNNN.npy     N noisy, blurred training images, f32[1,1,28,28]
                            each (qnnc's npy calibration: one sample a file)
    unet_eval_inputs.npy    the first N test images, corrupted exactly as
                            unet.py's test set, f32[N,1,28,28]
    unet_eval_masks.npy     their silhouettes, u8[N,1,28,28] (0 or 1)
    mobilenetv3_64_calib/NNNN.npy  N training images upscaled to 64x64
                            (bilinear, as mobilenetv3.py's F.interpolate),
                            f32[1,1,64,64] each, for mobilenetv3_64.onnx
    fashion_eval_images.npy the first N test images as the classifiers take
                            them, f32[N,1,28,28] = pixel / 255
    fashion_eval_labels.npy their classes, u8[N]

The classifiers (mobilenetv3, vit) calibrate straight from the training IDX
file (see *.toml); they need no generated files.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import unet  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(common.HERE, "data"))
    ap.add_argument("--count", type=int, default=256)
    args = ap.parse_args()
    n = args.count
    os.makedirs(os.path.join(args.out, "unet_calib"), exist_ok=True)
    xtr, _ = common.load("train")
    calib = unet.corrupt(xtr[:n], torch.Generator().manual_seed(34))
    for i in range(n):
        np.save(os.path.join(args.out, "unet_calib", f"{i:04d}.npy"), calib[i:i + 1].numpy())
    os.makedirs(os.path.join(args.out, "mobilenetv3_64_calib"), exist_ok=True)
    up = F.interpolate(xtr[:n], size=(64, 64), mode="bilinear", align_corners=False)
    for i in range(n):
        np.save(os.path.join(args.out, "mobilenetv3_64_calib", f"{i:04d}.npy"), up[i:i + 1].numpy())
    x, m = unet.test_set()
    np.save(os.path.join(args.out, "unet_eval_inputs.npy"), x[:n].numpy())
    np.save(os.path.join(args.out, "unet_eval_masks.npy"), m[:n].numpy().astype(np.uint8))
    xte, yte = common.load("t10k")
    np.save(os.path.join(args.out, "fashion_eval_images.npy"), xte[:n].numpy())
    np.save(os.path.join(args.out, "fashion_eval_labels.npy"), yte[:n].numpy().astype(np.uint8))
    print(f"wrote {n} calibration and {n} evaluation samples into {args.out}")


if __name__ == "__main__":
    main()
