"""Trains a MobileNetV3-style classifier on Fashion-MNIST and exports it.

    /usr/bin/python3 examples/zoo/mobilenetv3.py [--epochs N] [--out DIR] [--time-epoch]

Input: 1x1x28x28, pixels / 255.  The model itself upscales to 64x64 with
F.interpolate (bilinear, half-pixel), so the ONNX graph starts with a Resize.

    Resize 28 -> 64
    conv 3x3 1->16 + BN + hard-swish                       64x64
    bneck k3  exp 16  -> 16, SE, ReLU                      64x64
    bneck k3  exp 48  -> 24, ReLU, stride 2                32x32
    bneck k3  exp 72  -> 24, ReLU (residual)               32x32
    bneck k5  exp 72  -> 40, SE, hard-swish, stride 2      16x16
    bneck k5  exp 120 -> 40, SE, hard-swish (residual)     16x16
    bneck k5  exp 120 -> 48, SE, hard-swish                16x16
    bneck k5  exp 144 -> 64, SE, hard-swish, stride 2       8x8
    bneck k5  exp 192 -> 64, SE, hard-swish (residual)      8x8
    conv 1x1 64->256 + BN + hard-swish, global average pool
    dense 256->128 + hard-swish, dense 128->10

A bneck is MobileNetV3's inverted residual: 1x1 expansion (skipped when the
expansion equals the input width), depthwise kxk, optional squeeze-excite
(global average pool, 1x1 to expansion/4, ReLU, 1x1 back, hard-sigmoid,
channel-wise Mul), 1x1 projection with no activation, and a residual Add
when stride is 1 and widths match.

Writes mobilenetv3.onnx (opset 17: HardSwish and HardSigmoid nodes),
mobilenetv3_opset13.onnx (opset 13: hard-swish exported as HardSigmoid + Mul),
mobilenetv3_64.onnx (opset 17, the same weights without the Resize: the
caller upscales, input 1x1x64x64) and mobilenetv3.pt (the state dict).
--export-only writes the three ONNX files again from mobilenetv3.pt.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


class SqueezeExcite(nn.Module):
    def __init__(self, c):
        super().__init__()
        r = max(8, c // 4)
        self.reduce = nn.Conv2d(c, r, 1)
        self.expand = nn.Conv2d(r, c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        s = F.hardsigmoid(self.expand(F.relu(self.reduce(s))))
        return x * s


class Bneck(nn.Module):
    def __init__(self, cin, exp, cout, k, se, act, stride):
        super().__init__()
        Act = nn.Hardswish if act == "hs" else nn.ReLU
        layers = []
        if exp != cin:
            layers += [nn.Conv2d(cin, exp, 1, bias=False), nn.BatchNorm2d(exp), Act()]
        layers += [nn.Conv2d(exp, exp, k, stride, k // 2, groups=exp, bias=False), nn.BatchNorm2d(exp), Act()]
        if se:
            layers.append(SqueezeExcite(exp))
        layers += [nn.Conv2d(exp, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


CONFIG = [  # cin, exp, cout, k, se, act, stride
    (16, 16, 16, 3, True, "re", 2),
    (16, 96, 32, 3, False, "re", 1),
    (32, 128, 32, 5, False, "re", 1),
    (32, 192, 64, 5, True, "hs", 2),
    (64, 384, 64, 5, True, "hs", 1),
    (64, 384, 96, 5, True, "hs", 1),
    (96, 576, 96, 5, True, "hs", 1),
]


class MobileNetV3(nn.Module):
    def __init__(self):
        super().__init__()
        self.size = 64  # what the input is upscaled to (training may use less first)
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.blocks = nn.Sequential(*[Bneck(*c) for c in CONFIG])
        self.last = nn.Sequential(nn.Conv2d(96, 512, 1, bias=False), nn.BatchNorm2d(512), nn.Hardswish())
        self.head = nn.Sequential(nn.Linear(512, 256), nn.Hardswish(), nn.Dropout(0.1), nn.Linear(256, 10))

    def forward(self, x):
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        x = self.last(self.blocks(self.stem(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.head(x)


def flip(x):
    """Random horizontal flips (garments are left-right symmetric enough)."""
    m = torch.rand(x.shape[0]) < 0.5
    x = x.clone()
    x[m] = x[m].flip(3)
    return x


class Upscaled(nn.Module):
    """The same network without its Resize: takes the 1x1x64x64 image,
    upscaled by the caller (make_data.py does it with F.interpolate)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        n = self.net
        x = n.last(n.blocks(n.stem(x)))
        return n.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def export_all(model, out):
    for name, opset in (("mobilenetv3.onnx", 17), ("mobilenetv3_opset13.onnx", 13)):
        common.report(common.export(model, os.path.join(out, name), opset, (1, 1, 28, 28),
                                    graph_name="mobilenetv3"))
    common.report(common.export(Upscaled(model), os.path.join(out, "mobilenetv3_64.onnx"), 17,
                                (1, 1, 64, 64), graph_name="mobilenetv3_64"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, help="training steps (default: what fits in --minutes)")
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--train-size", type=int, default=64,
                    help="upscale to this size for the --steps steps (cheaper than 64) ...")
    ap.add_argument("--finetune-steps", type=int, default=0,
                    help="... then train this many more steps at 64x64")
    ap.add_argument("--finetune-lr", type=float, default=5e-4)
    ap.add_argument("--no-flip", action="store_true", help="train without random horizontal flips")
    ap.add_argument("--smoothing", type=float, default=0.05, help="label smoothing")
    ap.add_argument("--wd", type=float, default=1e-4, help="AdamW weight decay")
    ap.add_argument("--checkpoint", help="save the training state to this file as it goes, and "
                    "resume from it if it exists (run the same command again to continue)")
    ap.add_argument("--init", help="start from this state dict (a mobilenetv3.pt) instead of a fresh model")
    ap.add_argument("--out", default=common.HERE)
    ap.add_argument("--export-only", action="store_true", help="export OUT/mobilenetv3.pt again")
    args = ap.parse_args()
    if args.export_only:
        model = MobileNetV3()
        model.load_state_dict(torch.load(os.path.join(args.out, "mobilenetv3.pt")))
        export_all(model, args.out)
        return
    def make_model():
        m = MobileNetV3()
        if args.init:
            m.load_state_dict(torch.load(args.init))
        m.size = args.train_size
        return m

    def at_64(m):
        m.size = 64

    finetune = (args.finetune_steps, args.finetune_lr, at_64) if args.finetune_steps else None
    model, acc, steps, secs = common.train_classifier(
        make_model, 20261206, lr=args.lr, batch=args.batch, steps=args.steps, minutes=args.minutes,
        augment=None if args.no_flip else flip, threads=args.threads,
        checkpoint=args.checkpoint, smoothing=args.smoothing, wd=args.wd, finetune=finetune)
    assert model.size == 64, "train at --train-size below 64 only with --finetune-steps"
    torch.save(model.state_dict(), os.path.join(args.out, "mobilenetv3.pt"))
    export_all(model, args.out)
    print(f"float test accuracy {acc:.2f}% after {steps} steps, {secs / 60:.1f} min")


if __name__ == "__main__":
    main()
