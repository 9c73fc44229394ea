"""Trains a small vision transformer on Fashion-MNIST and exports it.

    /usr/bin/python3 examples/zoo/vit.py [--steps N | --minutes M] [--out DIR]

Input: 1x1x28x28, pixels / 255 (no resizing).

    patch embedding: conv 4x4 stride 4, 1->64      7x7 = 49 tokens of 64
    + learned position embedding (an Add of a 1x49x64 constant)
    4 encoder blocks, pre-norm:
        x + proj(attention(LayerNorm(x)))          4 heads of 16
        x + fc2(GELU(fc1(LayerNorm(x))))           64 -> 128 -> 64
    LayerNorm, mean over the tokens, dense 64->10

Attention is written out rather than nn.MultiheadAttention, so the graph
shows it plainly: separate q, k and v projections (MatMul + Add), Reshape
to 1x49x4x16 and Transpose to heads, q @ k^T (MatMul), Mul by 1/4,
Softmax, @ v, Transpose and Reshape back, output projection.  GELU is the
exact (erf) one, which torch 1.13 exports as Div, Erf, Add, Mul, Mul.

Writes vit.onnx (opset 17: nn.LayerNorm is a LayerNormalization node),
vit_opset13.onnx (opset 13: LayerNorm decomposed into ReduceMean, Sub,
Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) and vit.pt (the state dict).
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

DIM, HEADS, DEPTH, MLP, PATCH = 64, 4, 4, 128, 4
TOKENS = (28 // PATCH) ** 2


class ConvLinear(nn.Linear):
    """nn.Linear computed as a 1x1 convolution: the same parameters and
    result, but Debian's torch runs convolutions with oneDNN and matrix
    products with the reference BLAS, about 3x slower here.  Training only:
    the exported model uses nn.Linear (MatMul + Add)."""

    def forward(self, x):
        s = x.shape
        y = F.conv2d(x.reshape(-1, s[-1], 1, 1), self.weight[:, :, None, None], self.bias)
        return y.reshape(*s[:-1], -1)


Linear = nn.Linear


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = Linear(DIM, DIM), Linear(DIM, DIM), Linear(DIM, DIM)
        self.proj = Linear(DIM, DIM)

    def forward(self, x):
        d = DIM // HEADS
        # -1 rather than x.shape[0], so that the exported Reshape shapes are constants.
        q = self.q(x).reshape(-1, TOKENS, HEADS, d).transpose(1, 2)
        k = self.k(x).reshape(-1, TOKENS, HEADS, d).transpose(1, 2)
        v = self.v(x).reshape(-1, TOKENS, HEADS, d).transpose(1, 2)
        a = torch.softmax((q @ k.transpose(2, 3)) * d ** -0.5, dim=-1)
        y = (a @ v).transpose(1, 2).reshape(-1, TOKENS, DIM)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(DIM), Attention()
        self.ln2 = nn.LayerNorm(DIM)
        self.mlp = nn.Sequential(Linear(DIM, MLP), nn.GELU(), Linear(MLP, DIM))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(1, DIM, PATCH, PATCH)
        self.pos = nn.Parameter(torch.randn(1, TOKENS, DIM) * 0.02)
        self.blocks = nn.Sequential(*[Block() for _ in range(DEPTH)])
        self.ln = nn.LayerNorm(DIM)
        self.head = Linear(DIM, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2) + self.pos
        x = self.ln(self.blocks(x))
        return self.head(x.mean(1))


def flip(x):
    m = torch.rand(x.shape[0]) < 0.5
    x = x.clone()
    x[m] = x[m].flip(3)
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, help="training steps (default: what fits in --minutes)")
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--init", help="start from this state dict (a vit.pt) instead of a fresh model")
    ap.add_argument("--no-flip", action="store_true", help="train without random horizontal flips")
    ap.add_argument("--smoothing", type=float, default=0.05, help="label smoothing")
    ap.add_argument("--wd", type=float, default=1e-4, help="AdamW weight decay")
    ap.add_argument("--checkpoint", help="save the training state to this file as it goes, and "
                    "resume from it if it exists (run the same command again to continue)")
    ap.add_argument("--out", default=common.HERE)
    args = ap.parse_args()
    global Linear
    Linear = ConvLinear
    def make_model():
        m = ViT()
        if args.init:
            m.load_state_dict(torch.load(args.init))
        return m

    trained, acc, steps, secs = common.train_classifier(
        make_model, 20261207, lr=args.lr, batch=args.batch, steps=args.steps, minutes=args.minutes,
        augment=None if args.no_flip else flip, threads=args.threads,
        checkpoint=args.checkpoint, smoothing=args.smoothing, wd=args.wd)
    Linear = nn.Linear
    model = ViT()
    model.load_state_dict(trained.state_dict())
    model.eval()
    with torch.no_grad():
        x = common.load("t10k")[0][:64]
        assert torch.allclose(model(x), trained.eval()(x), atol=1e-4)
    torch.save(model.state_dict(), os.path.join(args.out, "vit.pt"))
    for name, opset in (("vit.onnx", 17), ("vit_opset13.onnx", 13)):
        common.report(common.export(model, os.path.join(args.out, name), opset, (1, 1, 28, 28),
                                    graph_name="vit"))
    print(f"float test accuracy {acc:.2f}% after {steps} steps, {secs / 60:.1f} min")


if __name__ == "__main__":
    main()
