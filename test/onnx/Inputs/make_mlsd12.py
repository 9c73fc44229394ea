"""Writes the small models of import-mlsd12.test, the two forms M-LSD's
TensorFlow export (jp.keijiro.mlsd) needed:

  split11.onnx   opset 11: Pad's pads from a Split of a constant INT64
                 tensor ('split' attribute), its parts reordered by a
                 Concat (M-LSD's Split__234 -> Concat__235 -> Pad)
  split13.onnx   opset 13: Reshape's shape from a Split of a constant
                 INT64 [2, 2] along axis 1 into equal parts, concatenated
                 in reverse
  nms.onnx       M-LSD's centre-map NMS: s = Sigmoid(x), y = s x
                 Cast(Equal(s, MaxPool3x3(s)), FLOAT)
  split_bad.onnx Split of a constant whose parts do not add up (an error)

  make_mlsd12.py OUT_DIR                  writes them
  make_mlsd12.py check DIR QNNC_RUN       runs the first three in qnnc-run
      on fixed inputs and compares with NumPy from the ONNX specs (exact)
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PADS = np.array([0, 0, 0, 0, 0, 1, 1, 0], np.int64)  # M-LSD's const_fold_opt__335
ORDER = [0, 3, 1, 2, 4, 7, 5, 6]                       # Concat__235's order of the parts


def save(out, name, nodes, inputs, outputs, inits, opset):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.save(m, os.path.join(out, name + ".onnx"))


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def write(out):
    parts = ["p%d" % i for i in range(8)]
    save(out, "split11",
         [helper.make_node("Split", ["pads_c"], parts, axis=0, split=[1] * 8, name="split"),
          helper.make_node("Concat", [parts[i] for i in ORDER], ["pads"], axis=0, name="concat"),
          helper.make_node("Pad", ["x", "pads"], ["y"], name="pad")],
         [vi("x", [1, 2, 3, 3])], [vi("y", [1, 2, 4, 4])], [numpy_helper.from_array(PADS, "pads_c")], 11)
    save(out, "split13",
         [helper.make_node("Split", ["shape_c"], ["a", "b"], axis=1, name="split"),
          helper.make_node("Reshape", ["b", "two"], ["b1"], name="flat_b"),
          helper.make_node("Reshape", ["a", "two"], ["a1"], name="flat_a"),
          helper.make_node("Concat", ["b1", "a1"], ["shape"], axis=0, name="concat"),
          helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")],
         [vi("x", [1, 2, 3, 2])], [vi("y", [3, 1, 2, 2])],
         [numpy_helper.from_array(np.array([[2, 3], [2, 1]], np.int64), "shape_c"),
          numpy_helper.from_array(np.array([2], np.int64), "two")], 13)
    save(out, "nms",
         [helper.make_node("Sigmoid", ["x"], ["s"], name="sigmoid"),
          helper.make_node("MaxPool", ["s"], ["m"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
                           name="maxpool"),
          helper.make_node("Equal", ["s", "m"], ["e"], name="equal"),
          helper.make_node("Cast", ["e"], ["c"], to=TensorProto.FLOAT, name="cast"),
          helper.make_node("Mul", ["s", "c"], ["y"], name="mul")],
         [vi("x", [1, 1, 6, 6])], [vi("y", [1, 1, 6, 6]), vi("c", [1, 1, 6, 6])], [], 11)
    save(out, "split_bad",
         [helper.make_node("Split", ["pads_c"], ["a", "b"], axis=0, split=[3, 4], name="split_c"),
          helper.make_node("Concat", ["a", "b"], ["pads"], axis=0, name="concat"),
          helper.make_node("Pad", ["x", "pads"], ["y"], name="pad")],
         [vi("x", [1, 2, 3, 3])], [vi("y", [1, 2, 4, 4])], [numpy_helper.from_array(PADS, "pads_c")], 11)


def check(d, qnnc_run):
    rng = np.random.default_rng(12)
    x1 = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    x2 = rng.standard_normal((1, 2, 3, 2)).astype(np.float32)
    # Ties: a plateau of equal maxima (both kept: Equal holds at each).
    x3 = rng.standard_normal((1, 1, 6, 6)).astype(np.float32)
    x3[0, 0, 2, 2:4] = 3.0
    pads = PADS[ORDER]
    s = 1 / (1 + np.exp(-x3.astype(np.float64)))
    sp = np.pad(s, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    m = np.max([sp[:, :, i:i + 6, j:j + 6] for i in range(3) for j in range(3)], axis=0)
    cases = [
        ("split11", x1, [np.pad(x1, list(zip(pads[:4], pads[4:])))]),
        ("split13", x2, [x2.reshape(3, 1, 2, 2)]),
    ]
    bad = 0
    for name, x, want in cases + [("nms", x3, None)]:
        xin = os.path.join(d, name + ".x.npy")
        np.save(xin, x)
        outs = [os.path.join(d, "%s.%d.npy" % (name, k)) for k in range(1 if want else 2)]
        cmd = [qnnc_run, os.path.join(d, name + ".onnx"), "--input", xin]
        for o in outs:
            cmd += ["--output", o]
        subprocess.run(cmd, check=True)
        got = [np.load(o) for o in outs]
        if name == "nms":
            # qnnc's sigmoid is float32: compare the decisions (exact: the
            # plateau and every other maximum), then y = s x c.
            c = got[1]
            sf = np.float32(1) / (np.float32(1) + np.exp(-x3))
            sfp = np.pad(sf, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
            mf = np.max([sfp[:, :, i:i + 6, j:j + 6] for i in range(3) for j in range(3)], axis=0)
            want = [sf * (sf == mf).astype(np.float32), (sf == mf).astype(np.float32)]
            # The float64 oracle agrees on the decisions (no near-ties here).
            assert np.array_equal(sf == mf, s == m)
            ok = (np.array_equal(c, want[1]) and c[0, 0, 2, 2] == 1 and c[0, 0, 2, 3] == 1 and
                  np.allclose(got[0], want[0], rtol=2e-7, atol=0))
        else:
            ok = all(g.shape == w.shape and np.array_equal(g, w) for g, w in zip(got, want))
        print("%s: %s" % (name, "ok" if ok else "MISMATCH got %r want %r" % (got, want)))
        bad += not ok
    print("mlsd12: %d mismatches" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    os.makedirs(sys.argv[1], exist_ok=True)
    write(sys.argv[1])
