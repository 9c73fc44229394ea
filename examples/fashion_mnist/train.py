"""Trains the Fashion-MNIST example CNN on the CPU and exports it to ONNX.

    python3 examples/fashion_mnist/train.py [--epochs N] [--out DIR]

Needs Debian's python3-torch, python3-onnx and dataset-fashion-mnist
(scripts/setup installs the last two; torch only this script and the
benchmarks need).  Writes, into DIR (default: this directory):

    fashion_mnist.onnx       the float model, BatchNormalization kept as
                             separate nodes so that qnnc's fold-batchnorm
                             does the folding (opset 13, NCHW, a symbolic
                             batch dimension: qnnc compiles batch 1 by
                             default, qnnc-run --batch N runs N at once)
    torch_predictions.bin    PyTorch's float top-1 class for each of the
                             10,000 test images, one byte each: an oracle
                             independent of qnnc (test/e2e/fashion-mnist.test)

The network (1x1x28x28 in, pixels scaled to [0, 1]; 10 logits out):

    conv 3x3 1->16 + BN + ReLU                       28x28
    conv 3x3 stride 2 16->32 + BN + ReLU             14x14
    depthwise-separable block with a residual:       14x14
        depthwise 3x3 (32 groups) + BN + ReLU
        pointwise 1x1 32->32 + BN, Add the block's input, ReLU
    MaxPool 2x2                                      7x7
    conv 3x3 32->64 + BN + ReLU                      7x7
    AveragePool 2x2 (floor)                          3x3
    Flatten, dense 576->64 + ReLU, dense 64->10

About 2.3 M multiply-accumulates per image and 62 k parameters.  Training
uses at most two threads and a fixed seed; four epochs of Adam (one-cycle
learning rate) reach 91.78% test accuracy in about six minutes on two
busy cores (40 s per epoch on an idle one).
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx(name):
    """An IDX file (the MNIST format: big-endian magic, dims, then bytes)."""
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def conv_bn(cin, cout, stride=1, groups=1, k=3):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(1, 16), nn.ReLU(), *conv_bn(16, 32, stride=2), nn.ReLU())
        self.dw = nn.Sequential(*conv_bn(32, 32, groups=32), nn.ReLU())
        self.pw = nn.Sequential(*conv_bn(32, 32, k=1))
        self.relu = nn.ReLU()
        self.head = nn.Sequential(nn.MaxPool2d(2), *conv_bn(32, 64), nn.ReLU(), nn.AvgPool2d(2),
                                  nn.Flatten(), nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        x = self.stem(x)
        x = self.relu(self.pw(self.dw(x)) + x)
        return self.head(x)


def to_tensor(images):
    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)


def predict(model, x):
    with torch.no_grad():
        return torch.cat([model(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(20261122)
    xtr, ytr = to_tensor(read_idx("train-images-idx3-ubyte.gz")), torch.from_numpy(
        read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    xte, yte = to_tensor(read_idx("t10k-images-idx3-ubyte.gz")), torch.from_numpy(
        read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))

    model = Net()
    steps = args.epochs * (len(xtr) // 128)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(len(xtr) // 128):
            idx = perm[i * 128:(i + 1) * 128]
            loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        acc = (predict(model, xte) == yte).float().mean().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {100 * acc:.2f}%, "
              f"{time.time() - t0:.0f} s", flush=True)

    model.eval()
    pred = predict(model, xte).numpy().astype(np.uint8)
    pred.tofile(os.path.join(args.out, "torch_predictions.bin"))
    # PRESERVE on an eval-mode model keeps BatchNormalization as nodes (in
    # inference form) instead of folding them into the convolutions.
    path = os.path.join(args.out, "fashion_mnist.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=13,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    import onnx
    m = onnx.load(path)
    m.graph.name = "fashion_mnist"  # rather than torch's "torch_jit"
    onnx.save(m, path)
    ops = [n.op_type for n in m.graph.node]
    print(f"wrote {path}: {len(ops)} nodes, {ops.count('BatchNormalization')} BatchNormalization; "
          f"float test accuracy {100 * (pred == yte.numpy()).mean():.2f}%")


if __name__ == "__main__":
    main()
