"""PyTorch's int8 (torch.ao.quantization, eager mode) on the Fashion-MNIST
example, for bench/run.sh.

    torch_bench.py MODEL.onnx RUNS

Rebuilds the network of examples/fashion_mnist/train.py, loads the
weights from the committed ONNX model (its initializers carry the
state-dict names), and quantizes it the way PyTorch documents for CPU
inference: Conv+BN+ReLU and Linear+ReLU fused, the residual add as a
quantized add_relu, the "onednn" backend's default qconfig (per-channel
symmetric int8 weights, uint8 histogram-observed activations) calibrated
on the same 1,000 training images as qnnc (pixels / 255).  Then, with one
thread and batch 1, prints for the float and the int8 model: top-1
accuracy on the first 1,000 test images, and the median and minimum
latency of RUNS calls on the first test image.

Needs Debian's python3-torch (torch 1.13 ships the onednn, qnnpack
backends; fbgemm/x86 are not in Debian's build).
"""
import os
import statistics
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn
from torch.ao import quantization as tq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "fashion_mnist"))
from train import Net, read_idx, to_tensor  # noqa: E402


class QNet(Net):
    def __init__(self):
        super().__init__()
        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        self.add = nn.quantized.FloatFunctional()

    def forward(self, x):
        x = self.stem(self.quant(x))
        x = self.add.add_relu(self.pw(self.dw(x)), x)
        return self.dequant(self.head(x))


def load(model, path):
    state = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(path).graph.initializer}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    return model.eval()


def latency(model, x, runs):
    with torch.inference_mode():
        for _ in range(100):
            model(x)
        t = []
        for _ in range(runs):
            t0 = time.perf_counter_ns()
            model(x)
            t.append((time.perf_counter_ns() - t0) / 1000)
    return statistics.median(t), min(t)


def accuracy(model, x, y):
    with torch.inference_mode():
        return 100 * (model(x).argmax(1) == y).float().mean().item()


def main():
    path, runs = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(1)
    torch.backends.quantized.engine = "onednn"
    xt = to_tensor(read_idx("t10k-images-idx3-ubyte.gz")[:1000])
    yt = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz")[:1000].astype(np.int64))
    calib = to_tensor(read_idx("train-images-idx3-ubyte.gz")[:1000])

    fp32 = load(QNet(), path)
    q = load(QNet(), path)
    tq.fuse_modules(q, [["stem.0", "stem.1", "stem.2"], ["stem.3", "stem.4", "stem.5"], ["dw.0", "dw.1", "dw.2"],
                        ["pw.0", "pw.1"], ["head.1", "head.2", "head.3"], ["head.6", "head.7"]], inplace=True)
    q.qconfig = tq.get_default_qconfig("onednn")
    tq.prepare(q, inplace=True)
    with torch.inference_mode():
        for i in range(0, len(calib), 100):
            q(calib[i:i + 100])
    tq.convert(q, inplace=True)

    x = xt[:1]
    for name, m in (("fp32", fp32), ("int8", q)):
        med, lo = latency(m, x, runs)
        print(f"{name} accuracy {accuracy(m, xt, yt):.1f}% median_us {med:.1f} min_us {lo:.1f} runs {runs}")


if __name__ == "__main__":
    main()
