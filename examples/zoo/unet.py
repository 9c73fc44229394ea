"""Trains a small U-Net on Fashion-MNIST to predict each garment's silhouette
from a noisy, blurred copy of the image, and exports it.

    /usr/bin/python3 examples/zoo/unet.py [--steps N | --minutes M] [--out DIR]

The task.  Target: the garment's silhouette, the clean image's pixels
above 0.1 (of 1) with the holes filled (scipy.ndimage.binary_fill_holes).
Input: the clean image (pixels / 255) blurred by a 5x5 Gaussian (sigma 1)
plus Gaussian noise of standard deviation 0.3, clipped to [0, 1]
(corrupt() below; fresh noise for every training batch, fixed seeds for
the test set).  Output: one logit per pixel, 1x1x28x28; mask = logit > 0.

    Resize 28 -> 32 (bilinear)
    enc1: conv 3x3 1->8, conv 3x3 8->8 (+BN, ReLU each)          32x32
    MaxPool 2, enc2: conv 3x3 8->16, conv 16->16                  16x16
    MaxPool 2, bottom: conv 3x3 16->32, conv 32->32                8x8
    up1: ConvTranspose 2x2 stride 2 32->16, Concat enc2,
         conv 3x3 32->16                                          16x16
    up2: Resize x2 (bilinear), conv 1x1 16->8, Concat enc1,
         conv 3x3 16->8                                           32x32
    conv 1x1 8->1, Resize 32 -> 28 (bilinear)

Writes unet.onnx (opset 13) and unet.pt (the state dict).  Reports the
intersection over union on all 10,000 test images: over all pixels
together, and the mean of the per-image IoUs.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

NOISE, SIGMA, THRESHOLD = 0.3, 1.0, 0.1


def silhouettes(x):
    """Masks [N,1,28,28] (float 0/1) of clean images [N,1,28,28]."""
    from scipy import ndimage
    fg = x[:, 0].numpy() > THRESHOLD
    # Fill holes within each image only: no connectivity along the batch axis.
    st = np.zeros((3, 3, 3), bool)
    st[1] = ndimage.generate_binary_structure(2, 1)
    return torch.from_numpy(ndimage.binary_fill_holes(fg, structure=st)).float().unsqueeze(1)


def blur_kernel():
    r = torch.arange(5, dtype=torch.float32) - 2
    g = torch.exp(-r ** 2 / (2 * SIGMA ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).reshape(1, 1, 5, 5)


def corrupt(x, generator):
    """The model's input: clean images blurred, noised, clipped to [0, 1]."""
    y = F.conv2d(x, blur_kernel(), padding=2)
    return (y + NOISE * torch.randn(y.shape, generator=generator)).clamp(0, 1)


def conv(cin, cout, k=3):
    return [nn.Conv2d(cin, cout, k, 1, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(*conv(1, 8), *conv(8, 8))
        self.enc2 = nn.Sequential(*conv(8, 16), *conv(16, 16))
        self.bottom = nn.Sequential(*conv(16, 32), *conv(32, 32))
        self.up1 = nn.ConvTranspose2d(32, 16, 2, 2)
        self.dec1 = nn.Sequential(*conv(32, 16))
        self.up2 = nn.Sequential(*conv(16, 8, k=1))
        self.dec2 = nn.Sequential(*conv(16, 8))
        self.out = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        b = self.bottom(F.max_pool2d(e2, 2))
        d1 = self.dec1(torch.cat([self.up1(b), e2], 1))
        u2 = self.up2(F.interpolate(d1, scale_factor=2.0, mode="bilinear", align_corners=False))
        d2 = self.dec2(torch.cat([u2, e1], 1))
        return F.interpolate(self.out(d2), size=(28, 28), mode="bilinear", align_corners=False)


def test_set():
    """(noisy inputs, masks) of the 10,000 test images; the same on every run."""
    x, _ = common.load("t10k")
    return corrupt(x, torch.Generator().manual_seed(12)), silhouettes(x)


def iou(model, x, masks, batch=500):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + batch]) > 0 for i in range(0, len(x), batch)])
    t = masks > 0.5
    inter = (pred & t).flatten(1).sum(1).double()
    union = (pred | t).flatten(1).sum(1).double()
    per_image = torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))
    return 100 * inter.sum().item() / union.sum().item(), 100 * per_image.mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, help="training steps (default: what fits in --minutes)")
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=common.HERE)
    args = ap.parse_args()
    seed, batch = 20261208, 64
    common.setup(seed, args.threads)
    xtr, _ = common.load("train")
    mtr = silhouettes(xtr)
    xte, mte = test_set()
    noise = torch.Generator().manual_seed(seed + 1)

    def loss_fn(model, idx):
        return F.binary_cross_entropy_with_logits(model(corrupt(xtr[idx], noise)), mtr[idx])

    steps = args.steps
    if steps is None:
        steps = common.steps_for_budget(UNet, lambda m, o, i: common._probe(m, o, loss_fn, torch.arange(batch)),
                                        args.minutes)
    common.setup(seed, args.threads)
    noise.manual_seed(seed + 1)
    model = UNet()
    (total, mean), secs = common.train_steps(model, steps, 3e-3, loss_fn,
                                             common.Shuffled(len(xtr), batch, seed),
                                             lambda m: iou(m, xte, mte))
    print(f"{steps} steps of {batch} in {secs / 60:.1f} min: test IoU {total:.2f}% over all pixels, "
          f"{mean:.2f}% mean per image (rerun with --steps {steps})", flush=True)
    torch.save(model.state_dict(), os.path.join(args.out, "unet.pt"))
    common.report(common.export(model, os.path.join(args.out, "unet.onnx"), 13, (1, 1, 28, 28),
                                output_name="mask_logits", graph_name="unet"))


if __name__ == "__main__":
    main()
