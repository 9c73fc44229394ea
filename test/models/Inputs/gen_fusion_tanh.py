"""gen_fusion_tanh.py OUTDIR: the model of fusion-tanh.test (fuse-gelu's tanh
form, fuse-layernorm's reciprocal forms).

  block.onnx  torch.onnx.export (opset 13) of, on x f32[1,8,16]:
                Linear(16, 32) -> nn.GELU(approximate='tanh')     (torch's
                  own export: Mul(x,x), Mul, Mul(0.044715), Add, Mul(sqrt(2/pi)),
                  Tanh, Add(1), Mul(x), Mul(0.5))
                -> Linear(32, 16) -> GELU written by hand, as Hugging Face's
                  NewGELUActivation: 0.5 * x * (1 + tanh(sqrt(2/pi) *
                  (x + 0.044715 * x.pow(3))))                     (Pow(3))
                -> a LayerNorm by hand with torch.reciprocal(torch.sqrt(v +
                  eps)) then Mul, then weight and bias           (Reciprocal)
                -> a LayerNorm by hand with torch.rsqrt(v + eps), no affine
                                                                 (Div(1, Sqrt))

Inputs: OUTDIR/{calib,eval}/NNN.npy, 8 each, standard normal times 2.
"""
import math
import os
import sys

import numpy as np
import torch
from torch_gen import export, save_inputs

out = sys.argv[1]
torch.manual_seed(7)
rng = np.random.default_rng(13)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.act = torch.nn.Linear(16, 32), torch.nn.GELU(approximate="tanh")
        self.fc2 = torch.nn.Linear(32, 16)
        self.w, self.b = torch.nn.Parameter(torch.rand(16) + 0.5), torch.nn.Parameter(0.2 * torch.randn(16))

    def forward(self, x):
        h = self.fc2(self.act(self.fc1(x)))
        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * torch.pow(h, 3.0))))
        u = h.mean(-1, keepdim=True)
        d = h - u
        h = d * torch.reciprocal(torch.sqrt((d * d).mean(-1, keepdim=True) + 1e-5)) * self.w + self.b
        u = h.mean(-1, keepdim=True)
        d = h - u
        return d * torch.rsqrt((d * d).mean(-1, keepdim=True) + 1e-6)


export(Block().eval(), (1, 8, 16), os.path.join(out, "block.onnx"))
save_inputs(out, (1, 8, 16), 8, rng)
