"""A detector with an outlier-dominated head (test/passes/outlier-detector.test,
issue 14's "Done when").

  outlier_detector.py gen DIR
      writes DIR/m.onnx, a conv trunk (3x3 conv 3->8, ReLU) and two heads
      on it: `boxes` (a 3x3 stride-2 conv, 4 channels) and `scores` (a 3x3
      stride-2 conv 8->8, ReLU, a 1x1 conv to 2 channels: logits).  Trunk
      channel 7 fires only where input channel 2 exceeds 2, which no
      ordinary input does (they lie in [0, 1]); the scores head amplifies
      it 50 times (its hidden channel 7) and subtracts it from both
      logits, so its hidden tensor and its logits both have a range that
      one image sets.  One calibration image of
      48 has a bright patch there, so on it the scores reach about -400
      while on every other image they lie within a few units of 0: the
      [-401, 0.42] BlazeFace head of issue 14, in miniature.  Also
      DIR/calib/ (48 images), DIR/valid/ (16 held-out ordinary images), the
      float64 outputs of the held-out images computed here in NumPy
      (DIR/ref_<output>_<i>.npy), DIR/runs (for qnnc-run --runs) and
      DIR/base.toml (the default configuration: a calibration dataset, no
      override, nothing else).
  outlier_detector.py sqnr DIR TAG MIN
      reads DIR/out_TAG_<output>_<i>.npy (written by qnnc-run) and prints
      each output's SQNR against the float64 reference over all held-out
      images, then PASS if every one is at least MIN dB, else FAIL.
"""
import os
import sys

import numpy as np

OUTS = ("boxes", "scores")
NVALID = 16


def conv(x, w, b, stride, pad):
    """NCHW convolution in float64 (the oracle)."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j].astype(np.float64))
    return y + b.astype(np.float64)[None, :, None, None]


def weights():
    rng = np.random.default_rng(1414)
    w1 = rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 8).astype(np.float32)
    w1[7] = 0
    w1[7, 2, 1, 1] = 4.0        # r1[7] = relu(4 x[2] - 8): 0 unless x[2] > 2
    b1[7] = -8.0
    wa = rng.normal(0, 0.2, (4, 8, 3, 3)).astype(np.float32)
    wa[:, 7] = 0
    ba = rng.normal(0, 0.1, 4).astype(np.float32)
    ws = rng.normal(0, 0.2, (8, 8, 3, 3)).astype(np.float32)
    bs = rng.normal(0, 0.1, 8).astype(np.float32)
    ws[:, 7] = 0
    ws[7] = 0
    ws[7, 7, 1, 1] = 50.0       # s[7] = relu(50 r1[7]): 0 but where r1[7] fires
    bs[7] = 0
    wb = rng.normal(0, 0.3, (2, 8, 1, 1)).astype(np.float32)
    wb[:, 7] = -1.0             # the scores plunge where s[7] fires
    bb = np.array([-2.0, -1.5], np.float32)
    return rng, dict(w1=w1, b1=b1, wa=wa, ba=ba, ws=ws, bs=bs, wb=wb, bb=bb)


def forward(x, p):
    r1 = np.maximum(conv(x, p["w1"], p["b1"], 1, 1), 0)
    s = np.maximum(conv(r1, p["ws"], p["bs"], 2, 1), 0)
    return {"boxes": conv(r1, p["wa"], p["ba"], 2, 1), "scores": conv(s, p["wb"], p["bb"], 1, 0)}


def gen(d):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng, p = weights()
    inits = [numpy_helper.from_array(a, n) for n, a in p.items()]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "wa", "ba"], ["boxes"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Conv", ["r1", "ws", "bs"], ["cs"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["cs"], ["s"]),
        helper.make_node("Conv", ["s", "wb", "bb"], ["scores"]),
    ]
    g = helper.make_graph(nodes, "detector", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                          [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 4, 8, 8]),
                           helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 2, 8, 8])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "m.onnx"))

    def images(n):
        return rng.uniform(0, 1, (n, 1, 3, 16, 16)).astype(np.float32)

    calib = images(48)
    calib[5, 0, 2, 4:8, 4:8] = 4.0  # the one bright patch
    for sub, xs in (("calib", calib), ("valid", images(NVALID))):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        for i, x in enumerate(xs):
            np.save(os.path.join(d, sub, "%02d.npy" % i), x)
    with open(os.path.join(d, "runs"), "w") as f:
        for i in range(NVALID):
            x = np.load(os.path.join(d, "valid", "%02d.npy" % i))
            y = forward(x, p)
            for o in OUTS:
                np.save(os.path.join(d, "ref_%s_%02d.npy" % (o, i)), y[o])
            f.write(os.path.join(d, "valid", "%02d.npy" % i) + "".join(
                " " + os.path.join(d, "out_TAG_%s_%02d.npy" % (o, i)) for o in OUTS) + "\n")
    ys = [forward(x, p)["scores"] for x in calib]
    print("calibration scores range [%.1f, %.2f]; held-out within [%.2f, %.2f]" % (
        min(y.min() for y in ys), max(y.max() for y in ys),
        min(np.load(os.path.join(d, "ref_scores_%02d.npy" % i)).min() for i in range(NVALID)),
        max(np.load(os.path.join(d, "ref_scores_%02d.npy" % i)).max() for i in range(NVALID))))
    with open(os.path.join(d, "base.toml"), "w") as f:
        f.write('[model]\npath = "m.onnx"\n\n[calibration]\ndataset = "calib/"\n')


def sqnr(d, tag, least):
    ok = True
    for o in OUTS:
        ref = np.concatenate([np.load(os.path.join(d, "ref_%s_%02d.npy" % (o, i))).ravel() for i in range(NVALID)])
        got = np.concatenate([np.load(os.path.join(d, "out_%s_%s_%02d.npy" % (tag, o, i))).ravel()
                              for i in range(NVALID)]).astype(np.float64)
        noise = np.sum((ref - got) ** 2)
        db = float("inf") if noise == 0 else 10 * np.log10(np.sum(ref ** 2) / noise)
        print("%s %s %.2f dB" % (tag, o, db))
        ok = ok and db >= least
    print("PASS" if ok else "FAIL")
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        os.makedirs(sys.argv[2], exist_ok=True)
        gen(sys.argv[2])
    else:
        sys.exit(0 if sqnr(sys.argv[2], sys.argv[3], float(sys.argv[4])) else 1)
