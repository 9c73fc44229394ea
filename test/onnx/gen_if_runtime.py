"""Writes the models of if-runtime.test into DIR: ONNX If nodes whose
condition is computed at run time, and the ones qnnc must refuse.

  gen_if_runtime.py DIR

if_rt.onnx, x f32[1,2,4,4] -> y1 f32[1,1], y2 f32[1,3,4,4], y3 f32[2], as
openWakeWord's hey_jarvis head branches: p = Sigmoid(Gemm(Flatten(x))),
c = Cast(p >= 0.5, BOOL) of shape [1,1], and If(c):
  then  y1 = Sigmoid(Gemm(Flatten(x))) with the branch's own initializers,
        y2 = Relu(Conv(x)) (an outer run-time value held in NHWC),
        y3 = a nested If on a second run-time condition,
             Mean(x over N,H,W) < 0: then m * 2, else m + 1;
  else  y1 = p, y2 = -Conv(x), y3 = m (Identity).
y3 has rank 1, below the condition's rank 2: the condition is selected as
a scalar.  DIR/x holds 16 inputs, DIR/calib 16 others, chosen so that both
branches of both conditions are taken (the generator checks it in NumPy,
with a margin no float rounding can cross) and printed as counts.

The refused models (one If each, named in the expected messages):
  if_cond_float  a FLOAT condition
  if_cond_two    a BOOL condition of two elements
  if_shape       branch outputs of shapes [1,4] and [2]
  if_type        branch outputs FLOAT and INT32, both [1,4]
  if_same        both branches define 'a'
  if_int64       INT64 outputs (the IR has no int64 values to select)
  if_random      a branch with RandomUniformLike (a node qnnc does not
                 import: no op with side effects or hidden state is)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(12)


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def save(nodes, inputs, outputs, inits, name, opset=13, check=True):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    if check:
        onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + ".onnx"))


def branch(nodes, outs, inits=()):
    return helper.make_graph(nodes, "b", [], outs, list(inits))


def init(a, name):
    return numpy_helper.from_array(a, name)


# ---------------------------------------------------------------- if_rt
wg = (rng.standard_normal((1, 32)) * 0.3).astype(np.float32)
wg2 = (rng.standard_normal((1, 32)) * 0.3).astype(np.float32)
bg2 = np.array([0.25], np.float32)
wc = (rng.standard_normal((3, 2, 3, 3)) * 0.4).astype(np.float32)
inner = helper.make_node(
    "If", ["c2"], ["y3t"], name="inner_if",
    then_branch=branch([helper.make_node("Mul", ["m", "two"], ["m2"], name="twice")], [vi("m2", [2])],
                       [init(np.array(2, np.float32), "two")]),
    else_branch=branch([helper.make_node("Add", ["m", "one"], ["m1"], name="inc")], [vi("m1", [2])],
                       [init(np.array(1, np.float32), "one")]))
then_b = branch([helper.make_node("Gemm", ["flat", "wg2", "bg2"], ["g2"], transB=1, name="gemm2"),
                 helper.make_node("Sigmoid", ["g2"], ["p2"], name="sig2"),
                 helper.make_node("Relu", ["conv"], ["r"], name="relu"),
                 inner],
                [vi("p2", [1, 1]), vi("r", [1, 3, 4, 4]), vi("y3t", [2])],
                [init(wg2, "wg2"), init(bg2, "bg2")])
else_b = branch([helper.make_node("Identity", ["p"], ["p1"], name="ident"),
                 helper.make_node("Neg", ["conv"], ["nc"], name="neg"),
                 helper.make_node("Identity", ["m"], ["m0"], name="ident_m")],
                [vi("p1", [1, 1]), vi("nc", [1, 3, 4, 4]), vi("m0", [2])])
nodes = [
    helper.make_node("Conv", ["x", "wc"], ["conv"], pads=[1, 1, 1, 1], name="conv"),
    helper.make_node("Flatten", ["x"], ["flat"], name="flatten"),
    helper.make_node("Gemm", ["flat", "wg"], ["g"], transB=1, name="gemm"),
    helper.make_node("Sigmoid", ["g"], ["p"], name="sig"),
    helper.make_node("GreaterOrEqual", ["p", "half"], ["ge"], name="ge"),
    helper.make_node("Cast", ["ge"], ["c"], to=TensorProto.BOOL, name="cast"),
    helper.make_node("ReduceMean", ["x"], ["m"], axes=[0, 2, 3], keepdims=0, name="mean"),
    helper.make_node("ReduceMean", ["m"], ["mm"], keepdims=0, name="mean2"),
    helper.make_node("Less", ["mm", "zero"], ["c2"], name="lt"),
    helper.make_node("If", ["c"], ["y1", "y2", "y3"], name="if_rt", then_branch=then_b, else_branch=else_b),
]
save(nodes, [vi("x", [1, 2, 4, 4])], [vi("y1", [1, 1]), vi("y2", [1, 3, 4, 4]), vi("y3", [2])],
     [init(wg, "wg"), init(wc, "wc"), init(np.array(0.5, np.float32), "half"),
      init(np.array(0, np.float32), "zero")], "if_rt")


def conds(x):
    """The two conditions in float64, and their distances from flipping."""
    p = 1 / (1 + np.exp(-(x.reshape(1, 32).astype(np.float64) @ wg.T.astype(np.float64))))
    mm = x.astype(np.float64).mean()
    return p.item() >= 0.5, mm < 0, abs(p.item() - 0.5), abs(mm)


def samples(part, n):
    got, kinds = [], {}
    while len(got) < n:
        x = (rng.standard_normal((1, 2, 4, 4)) + rng.uniform(-0.4, 0.4)).astype(np.float32)
        c1, c2, d1, d2 = conds(x)
        # Every combination of the two conditions, n/4 each, far enough
        # from the thresholds that float32 rounding cannot flip them.
        if d1 < 0.02 or d2 < 0.02 or kinds.get((c1, c2), 0) >= n // 4:
            continue
        kinds[(c1, c2)] = kinds.get((c1, c2), 0) + 1
        os.makedirs(os.path.join(OUT, part), exist_ok=True)
        np.save(os.path.join(OUT, part, "%02d.npy" % len(got)), x)
        got.append(x)
    print("%s: %d inputs, then/else %d/%d, inner then/else %d/%d" % (
        part, n, sum(v for k, v in kinds.items() if k[0]), sum(v for k, v in kinds.items() if not k[0]),
        sum(v for k, v in kinds.items() if k[0] and k[1]), sum(v for k, v in kinds.items() if k[0] and not k[1])))


samples("x", 16)
samples("calib", 16)

# ---------------------------------------------------------------- refused
X = vi("x", [1, 4])
relu_a = branch([helper.make_node("Relu", ["x"], ["a"], name="ra")], [vi("a", [1, 4])])
ident_b = branch([helper.make_node("Identity", ["x"], ["b"], name="ib")], [vi("b", [1, 4])])
ge = [helper.make_node("ReduceMax", ["x"], ["mx"], keepdims=0, name="max"),
      helper.make_node("Greater", ["mx", "zero"], ["c"], name="gt")]
zero = init(np.array(0, np.float32), "zero")
save([helper.make_node("ReduceMax", ["x"], ["c"], keepdims=0, name="max"),
      helper.make_node("If", ["c"], ["y"], name="if_cond_float", then_branch=relu_a, else_branch=ident_b)],
     [X], [vi("y", [1, 4])], [], "if_cond_float")
save([helper.make_node("Greater", ["x", "zero"], ["c4"], name="gt"),
      helper.make_node("Slice", ["c4", "s0", "s2", "ax"], ["c"], name="two"),
      helper.make_node("If", ["c"], ["y"], name="if_cond_two", then_branch=relu_a, else_branch=ident_b)],
     [X], [vi("y", [1, 4])],
     [zero, init(np.array([0], np.int64), "s0"), init(np.array([2], np.int64), "s2"),
      init(np.array([1], np.int64), "ax")], "if_cond_two")
save(ge + [helper.make_node("If", ["c"], ["y"], name="if_shape", then_branch=relu_a,
                            else_branch=branch([helper.make_node("Identity", ["k"], ["b"], name="ib")],
                                               [vi("b", [2])], [init(np.ones(2, np.float32), "k")]))],
     [X], [vi("y", [1, 4])], [zero], "if_shape", check=False)
save(ge + [helper.make_node("If", ["c"], ["y"], name="if_type", then_branch=relu_a,
                            else_branch=branch([helper.make_node("Identity", ["k"], ["b"], name="ib")],
                                               [vi("b", [1, 4], TensorProto.INT32)],
                                               [init(np.ones((1, 4), np.int32), "k")]))],
     [X], [vi("y", [1, 4])], [zero], "if_type", check=False)
save(ge + [helper.make_node("If", ["c"], ["y"], name="if_same", then_branch=relu_a,
                            else_branch=branch([helper.make_node("Identity", ["x"], ["a"], name="ia")],
                                               [vi("a", [1, 4])]))],
     [X], [vi("y", [1, 4])], [zero], "if_same")
i64 = [branch([helper.make_node("Constant", [], ["k%d" % v], value=init(np.full(2, v, np.int64), "v"),
                                name="k%d" % v)], [vi("k%d" % v, [2], TensorProto.INT64)]) for v in (1, 2)]
save(ge + [helper.make_node("If", ["c"], ["y"], name="if_int64", then_branch=i64[0], else_branch=i64[1])],
     [X], [vi("y", [2], TensorProto.INT64)], [zero], "if_int64")
save(ge + [helper.make_node("If", ["c"], ["y"], name="if_random", then_branch=relu_a,
                            else_branch=branch([helper.make_node("RandomUniformLike", ["x"], ["b"], name="rnd")],
                                               [vi("b", [1, 4])]))],
     [X], [vi("y", [1, 4])], [zero], "if_random")
