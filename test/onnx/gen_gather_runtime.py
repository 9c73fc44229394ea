"""gen_gather_runtime.py OUTDIR: models and inputs of gather-runtime.test.

  embed.onnx       an embedding lookup: Gather(table f32[50,8] constant,
                   ids int32[2,5] graph input) -> y0 [2,5,8]; and the
                   lookup fed to MatMul(w f32[8,6]) -> y1 [2,5,6]; and a
                   Gather along axis 1 of a constant [3,50] -> y2 [3,2,5].
  embed_i64.onnx   the same lookup with int64 ids (what torch exports):
                   the input is narrowed to i32 at the model boundary.
  bad_axis.onnx    malformed: Gather axis=2 on the rank-2 table.
  float_ids.onnx   malformed: float run-time indices (not valid ONNX).
Inputs: OUTDIR/ids/NNN.npy, 8 int32 id tensors in [-50, 50) (negative ids
count from the end); OUTDIR/oor/000.npy with ids outside [-50, 50) and
OUTDIR/oor_want.{0,1,2}.npy, NumPy's result for it with the out-of-range
ids' slices zero (qnnc's rule, docs/ir-semantics.md; ONNX Runtime refuses
such ids).  OUTDIR/ids64/NNN.npy: the same ids as int64, for embed_i64;
OUTDIR/oor64/000.npy: the out-of-range ids as int64 (all within int32);
OUTDIR/big/{hi,lo}.npy: int64 ids one past int32's range either side
(refused, one line naming the file and element).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(31)
table = rng.normal(0, 1, (50, 8)).astype(np.float32)
w = rng.normal(0, 0.5, (8, 6)).astype(np.float32)
t2 = rng.normal(0, 1, (3, 50)).astype(np.float32)


def model(idt, name):
    nodes = [helper.make_node("Gather", ["table", "ids"], ["y0"]),
             helper.make_node("MatMul", ["y0", "w"], ["y1"]),
             helper.make_node("Gather", ["t2", "ids"], ["y2"], axis=1)]
    g = helper.make_graph(nodes, "embed", [helper.make_tensor_value_info("ids", idt, [2, 5])],
                          [helper.make_tensor_value_info("y0", TensorProto.FLOAT, [2, 5, 8]),
                           helper.make_tensor_value_info("y1", TensorProto.FLOAT, [2, 5, 6]),
                           helper.make_tensor_value_info("y2", TensorProto.FLOAT, [3, 2, 5])],
                          [numpy_helper.from_array(table, "table"), numpy_helper.from_array(w, "w"),
                           numpy_helper.from_array(t2, "t2")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, os.path.join(out, name))


model(TensorProto.INT32, "embed.onnx")
model(TensorProto.INT64, "embed_i64.onnx")


def bad(name, idt, axis):
    g = helper.make_graph([helper.make_node("Gather", ["table", "ids"], ["y"], name="g0", axis=axis)], "bad",
                          [helper.make_tensor_value_info("ids", idt, [3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(table, "table")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, os.path.join(out, name))


bad("bad_axis.onnx", TensorProto.INT32, 2)
bad("float_ids.onnx", TensorProto.FLOAT, 0)
os.makedirs(os.path.join(out, "ids"), exist_ok=True)
for i in range(8):
    np.save(os.path.join(out, "ids", "%03d.npy" % i), rng.integers(-50, 50, (2, 5)).astype(np.int32))
os.makedirs(os.path.join(out, "oor"), exist_ok=True)
ids = np.array([[0, 49, -50, 50, -51], [7, 1000, -1, -2147483648, 2147483647]], np.int32)
np.save(os.path.join(out, "oor", "000.npy"), ids)
ok = (ids >= -50) & (ids < 50)
safe = np.where(ok, ids, 0)
y0 = np.where(ok[..., None], table[safe], 0).astype(np.float32)
y1 = (y0.astype(np.float64) @ w.astype(np.float64)).astype(np.float32)
y2 = np.where(ok[None], t2[:, safe], 0).astype(np.float32)
for k, y in enumerate((y0, y1, y2)):
    np.save(os.path.join(out, "oor_want.%d.npy" % k), y)
for d in ("ids64", "oor64", "big"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
for f in sorted(os.listdir(os.path.join(out, "ids"))):
    np.save(os.path.join(out, "ids64", f), np.load(os.path.join(out, "ids", f)).astype(np.int64))
np.save(os.path.join(out, "oor64", "000.npy"), ids.astype(np.int64))
big = np.zeros((2, 5), np.int64)
big[1, 2] = 2**31
np.save(os.path.join(out, "big", "hi.npy"), big)
big[1, 2] = -2**31 - 1
np.save(os.path.join(out, "big", "lo.npy"), big)
