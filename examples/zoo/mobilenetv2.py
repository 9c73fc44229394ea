"""Trains a MobileNetV2-style classifier at 96x96 on Fashion-MNIST and exports it.

    /usr/bin/python3 examples/zoo/mobilenetv2.py [--steps N] [--minutes M] [--out DIR]

Input: f32[1,1,96,96], the 28x28 image upscaled to 96x96 by the caller
(bilinear, half-pixel: F.interpolate, as test/models/Inputs/zoo_inputs.py
--size 96 writes it), pixels / 255.  Width multiplier 0.35 of
MobileNetV2's channel plan (rounded to multiples of 8), fewer blocks:

    conv 3x3 1->16 stride 2 + BN + ReLU6                    48x48
    block t1  16 -> 8                                       48x48
    block t6   8 -> 8, stride 2                             24x24
    block t6   8 -> 8 (residual)                            24x24
    block t6   8 -> 16, stride 2                            12x12
    block t6  16 -> 16 (residual) x2                        12x12
    block t6  16 -> 24, stride 2                             6x6
    block t6  24 -> 24 (residual)                            6x6
    block t6  24 -> 32                                       6x6
    block t6  32 -> 56, stride 2                             3x3
    conv 1x1 56->256 + BN + ReLU6, global average pool, dense 256->10

A block is MobileNetV2's inverted residual: 1x1 expansion to t times the
input width + BN + ReLU6 (none when t = 1), depthwise 3x3 (stride 1 or 2)
+ BN + ReLU6, 1x1 linear projection + BN, and a residual Add when the
stride is 1 and the widths match.  ReLU6 exports as Clip(0, 6).

Training runs its --steps at --train-size (default 48: the same network,
cheaper) then --finetune-steps at 96x96.  Writes mobilenetv2.onnx (opset 13)
and mobilenetv2.pt (the state dict); --export-only writes the ONNX file
again from mobilenetv2.pt.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6())
    return layers


class InvertedResidual(nn.Module):
    def __init__(self, cin, t, cout, stride):
        super().__init__()
        mid = cin * t
        layers = conv_bn(cin, mid, 1) if t != 1 else []
        layers += conv_bn(mid, mid, 3, stride, groups=mid)
        layers += conv_bn(mid, cout, 1, act=False)
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


CONFIG = [  # cin, t, cout, stride
    (16, 1, 8, 1),
    (8, 6, 8, 2),
    (8, 6, 8, 1),
    (8, 6, 16, 2),
    (16, 6, 16, 1),
    (16, 6, 16, 1),
    (16, 6, 24, 2),
    (24, 6, 24, 1),
    (24, 6, 32, 1),
    (32, 6, 56, 2),
]


class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(1, 16, 3, 2))
        self.blocks = nn.Sequential(*[InvertedResidual(*c) for c in CONFIG])
        self.last = nn.Sequential(*conv_bn(56, 256, 1))
        self.head = nn.Linear(256, 10)

    def forward(self, x):
        x = self.last(self.blocks(self.stem(x)))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Upscaling(nn.Module):
    """Training wrapper: takes the 28x28 images and upscales them to SIZE
    (96 as exported; less is cheaper) before the network."""

    def __init__(self, net, size):
        super().__init__()
        self.net, self.size = net, size

    def forward(self, x):
        return self.net(F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False))


def flip(x):
    m = torch.rand(x.shape[0]) < 0.5
    x = x.clone()
    x[m] = x[m].flip(3)
    return x


def export_all(net, out):
    common.report(common.export(net, os.path.join(out, "mobilenetv2.onnx"), 13, (1, 1, 96, 96),
                                graph_name="mobilenetv2"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, help="training steps (default: what fits in --minutes)")
    ap.add_argument("--minutes", type=float, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--train-size", type=int, default=48)
    ap.add_argument("--finetune-steps", type=int, default=60)
    ap.add_argument("--finetune-lr", type=float, default=1e-3)
    ap.add_argument("--init", help="start from this state dict (a mobilenetv2.pt)")
    ap.add_argument("--eval-images", type=int, default=0,
                    help="measure accuracy on only this many test images (needs --steps)")
    ap.add_argument("--out", default=common.HERE)
    ap.add_argument("--export-only", action="store_true", help="export OUT/mobilenetv2.pt again")
    args = ap.parse_args()
    if args.export_only:
        net = MobileNetV2()
        net.load_state_dict(torch.load(os.path.join(args.out, "mobilenetv2.pt")))
        export_all(net, args.out)
        return

    def make_model():
        net = MobileNetV2()
        if args.init:
            net.load_state_dict(torch.load(args.init))
        return Upscaling(net, args.train_size)

    if args.eval_images:
        model, acc, steps, secs = train_small_eval(make_model, args)
    else:
        def at_96(m):
            m.size = 96

        finetune = (args.finetune_steps, args.finetune_lr, at_96) if args.finetune_steps else None
        model, acc, steps, secs = common.train_classifier(
            make_model, 20261207, lr=args.lr, batch=args.batch, steps=args.steps, minutes=args.minutes,
            augment=flip, threads=args.threads, finetune=finetune)
    assert model.size == 96, "train at --train-size below 96 only with --finetune-steps"
    torch.save(model.net.state_dict(), os.path.join(args.out, "mobilenetv2.pt"))
    export_all(model.net, args.out)
    print(f"float test accuracy {acc:.2f}% after {steps} steps + {args.finetune_steps} at 96x96, "
          f"{secs / 60:.1f} min")


def train_small_eval(make_model, args):
    """common.train_classifier's schedule (--steps at --train-size, then
    --finetune-steps at 96x96, one-cycle AdamW each), measuring accuracy on
    the first --eval-images test images only (all 10,000 at 96x96 take a
    shared core the better part of an hour)."""
    from torch import nn
    common.setup(20261207, args.threads)
    xtr, ytr = common.load("train")
    xte, yte = common.load("t10k")
    xte, yte = xte[:args.eval_images], yte[:args.eval_images]
    model = make_model()
    order = common.Shuffled(len(xtr), args.batch, 20261207)

    def loss_fn(m, idx):
        return nn.functional.cross_entropy(m(flip(xtr[idx])), ytr[idx], label_smoothing=0.05)

    def evaluate(m):
        return 100 * (common.predict(m, xte, batch=100) == yte).float().mean().item()

    _, secs = common.train_steps(model, args.steps, args.lr, loss_fn, order, lambda m: None)
    model.size = 96
    acc, secs2 = common.train_steps(model, args.finetune_steps, args.finetune_lr, loss_fn, order, evaluate)
    print(f"accuracy {acc:.2f}% on the first {args.eval_images} test images", flush=True)
    return model, acc, args.steps, secs + secs2


if __name__ == "__main__":
    main()
