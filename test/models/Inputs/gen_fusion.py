"""gen_fusion.py OUTDIR: models for fusion.test (fuse-layernorm, fuse-gelu).

  mlp13.onnx, mlp17.onnx  torch.onnx.export of LayerNorm(24) -> Linear(24, 48)
                          -> GELU -> Linear(48, 24) -> LayerNorm(24), on
                          x f32[1,10,24], at opsets 13 and 17: what torch
                          writes for nn.LayerNorm (the decomposed chain at 13,
                          LayerNormalization at 17) and nn.GELU (Div by
                          sqrt(2), Erf, Add, Mul, Mul at both).
  recognizer.onnx         hand-built: MatMul, then the text recognizer's
                          ReduceMean -> Sub -> Pow(2) -> ReduceMean ->
                          Add(eps) -> Sqrt -> Div (no affine), then MatMul,
                          on x f32[1,26,40].

Inputs: OUTDIR/{mlp,recognizer}/{calib,eval}/NNN.npy, 16 each, standard
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
    torch.onnx.export(model, torch.zeros(1, 10, 24), os.path.join(out, "mlp%d.onnx" % opset), opset_version=opset,
                      input_names=["x"], output_names=["y"])


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

for name, shape in (("mlp", (1, 10, 24)), ("recognizer", (1, 26, 40))):
    for split in ("calib", "eval"):
        d = os.path.join(out, name, split)
        os.makedirs(d, exist_ok=True)
        for i in range(16):
            np.save(os.path.join(d, "%03d.npy" % i), (2 * rng.standard_normal(shape)).astype(np.float32))
