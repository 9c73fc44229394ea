"""gen_fusion.py OUTDIR: models for fusion.test (fuse-layernorm, fuse-gelu).

  mlp13.onnx, mlp17.onnx  torch.onnx.export of LayerNorm(24) -> Linear(24, 48)
                          -> GELU -> Linear(48, 24) -> LayerNorm(24), on
                          x f32[1,10,24], at opsets 13 and 17: what torch
                          writes for nn.LayerNorm (the decomposed chain at 13,
                          LayerNormalization at 17) and nn.GELU (Div by
                          sqrt(2), Erf, Add, Mul, Mul at both).
  conv_ln_w.onnx          Conv(3->8) then nn.LayerNorm(8) over the last axis (W)
                          of the NCHW result, opset 13, x f32[1,3,8,8].
  conv_ln_c.onnx          Conv(3->8) then a ConvNeXt-style channel LayerNorm
                          written in torch ops (mean over dim 1, keepdim),
                          opset 13: a near miss while reductions import in
                          ONNX's order (axis 1 of 4 is not trailing).
  recognizer.onnx         hand-built: MatMul, then the text recognizer's
                          ReduceMean -> Sub -> Pow(2) -> ReduceMean ->
                          Add(eps) -> Sqrt -> Div (no affine), then MatMul,
                          on x f32[1,26,40].

Inputs: OUTDIR/{mlp,recognizer,conv}/{calib,eval}/NNN.npy, 16 each, standard
normal times 2 (calibration and evaluation draws differ).  LayerNorm's
weight and bias are set to random values, so gamma and beta are not the
trivial 1 and 0.
"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch_gen import export, save_inputs

out = sys.argv[1]
torch.manual_seed(5)
rng = np.random.default_rng(11)


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.fc1, self.act = torch.nn.LayerNorm(24), torch.nn.Linear(24, 48), torch.nn.GELU()
        self.fc2, self.ln2 = torch.nn.Linear(48, 24), torch.nn.LayerNorm(24)
        for ln in (self.ln1, self.ln2):
            ln.weight.data.uniform_(0.5, 1.5)
            ln.bias.data.normal_(0, 0.2)

    def forward(self, x):
        return self.ln2(self.fc2(self.act(self.fc1(self.ln1(x)))))


model = Mlp().eval()
for opset in (13, 17):
    export(model, (1, 10, 24), os.path.join(out, "mlp%d.onnx" % opset), opset)


class ConvLnW(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.ln = torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.LayerNorm(8)
        self.ln.weight.data.uniform_(0.5, 1.5)
        self.ln.bias.data.normal_(0, 0.2)

    def forward(self, x):
        return self.ln(self.conv(x))


class ConvLnC(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.w, self.b = torch.nn.Parameter(torch.rand(8) + 0.5), torch.nn.Parameter(0.1 * torch.randn(8))

    def forward(self, x):
        x = self.conv(x)
        u = x.mean(1, keepdim=True)
        v = (x - u).pow(2).mean(1, keepdim=True)
        return self.w[:, None, None] * ((x - u) / torch.sqrt(v + 1e-6)) + self.b[:, None, None]


for name, mod in (("conv_ln_w", ConvLnW()), ("conv_ln_c", ConvLnC())):
    export(mod.eval(), (1, 3, 8, 8), os.path.join(out, name + ".onnx"))


def f32(name, v):
    return numpy_helper.from_array(np.asarray(v, np.float32), name)


w1 = rng.normal(0, 0.3, (40, 40))
w2 = rng.normal(0, 0.3, (40, 16))
nodes = [
    helper.make_node("MatMul", ["x", "w1"], ["h"]),
    helper.make_node("ReduceMean", ["h"], ["mean"], axes=[-1]),
    helper.make_node("Sub", ["h", "mean"], ["d"]),
    helper.make_node("Pow", ["d", "two"], ["d2"]),
    helper.make_node("ReduceMean", ["d2"], ["var"], axes=[-1]),
    helper.make_node("Add", ["var", "eps"], ["ve"]),
    helper.make_node("Sqrt", ["ve"], ["std"]),
    helper.make_node("Div", ["d", "std"], ["n"]),
    helper.make_node("MatMul", ["n", "w2"], ["y"]),
]
g = helper.make_graph(nodes, "recognizer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 26, 40])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 26, 16])],
                      [f32("w1", w1), f32("w2", w2), f32("two", 2.0), f32("eps", 1e-5)])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 7
onnx.checker.check_model(m)
onnx.save(m, os.path.join(out, "recognizer.onnx"))

for name, shape in (("mlp", (1, 10, 24)), ("recognizer", (1, 26, 40)), ("conv", (1, 3, 8, 8))):
    save_inputs(os.path.join(out, name), shape, 16, rng)
