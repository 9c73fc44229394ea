"""The task metric of an examples/zoo model's outputs (docs/models.md).

  zoo_metric.py accuracy LABELS.npy OUT_DIR [--label L] [--min PCT]
      top-1 accuracy of the logits OUT_DIR/NNNN.0.npy against LABELS[NNNN]
  zoo_metric.py iou MASKS.npy OUT_DIR [--label L] [--min PCT]
      intersection over union of the masks logit > 0 of OUT_DIR/NNNN.0.npy
      against MASKS[NNNN], over all pixels together, and the mean per image
      (an image whose mask and prediction are both empty counts 1), as
      examples/zoo/unet.py measures it

The samples are OUT_DIR's (each.py --samples runs a subset).  A metric
below --min prints a FAIL line and exits 1.
"""
import argparse
import os
import re
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("metric", choices=["accuracy", "iou"])
    ap.add_argument("truth")
    ap.add_argument("out")
    ap.add_argument("--label", default="")
    ap.add_argument("--min", type=float)
    a = ap.parse_args()
    truth = np.load(a.truth)
    label = a.label + ": " if a.label else ""
    names = sorted(f for f in os.listdir(a.out) if re.fullmatch(r"\d+\.0\.npy", f))
    if not names:
        sys.exit(f"zoo_metric: error: {a.out}: no NNNN.0.npy files")
    idx = [int(f.split(".")[0]) for f in names]
    if max(idx) >= len(truth):
        sys.exit(f"zoo_metric: error: {a.out}/{names[-1]}: sample {max(idx)}, {a.truth} has {len(truth)}")
    outs = np.stack([np.load(os.path.join(a.out, f)).astype(np.float64) for f in names])
    n = len(names)
    if a.metric == "accuracy":
        got = outs.reshape(n, -1).argmax(1)
        value = 100.0 * np.mean(got == truth[idx])
        print(f"{label}accuracy {value:.2f}% on {n} test images ({int(np.sum(got == truth[idx]))} correct)")
    else:
        pred = outs.reshape(n, -1) > 0
        t = truth[idx].reshape(n, -1) > 0
        if pred.shape != t.shape:
            sys.exit(f"zoo_metric: error: outputs of {pred.shape[1]} pixels, masks of {t.shape[1]}")
        inter, union = (pred & t).sum(1), (pred | t).sum(1)
        value = 100.0 * inter.sum() / union.sum()
        per = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
        print(f"{label}IoU {value:.2f}% over all pixels of {n} test images, {100 * per.mean():.2f}% mean per image")
    if a.min is not None and not value >= a.min:
        print(f"FAIL {label}{a.metric} {value:.2f}% < {a.min:g}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
