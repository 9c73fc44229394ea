"""The end-to-end quantization test's model, data and float reference.

    cnn.py model OUT.onnx      write the float CNN (fixed seed)
    cnn.py data DIR            write DIR/calib/*.npy and DIR/held/*.npy
    cnn.py check DIR QNNC_RUN MODEL.qir MIN_DB
                               run MODEL.qir with qnnc-run on every held-back
                               input, dequantize nothing (the graph keeps a
                               float interface), and compare with this
                               file's own NumPy forward pass: prints the
                               SQNR and fails below MIN_DB dB

The network (NCHW, like the ONNX model; 1x3x16x16 in, 10 out):
    conv 3x3 3->8 + BatchNormalization + Relu            a
    depthwise conv 3x3 (group 8) + Relu                  b
    conv 1x1 8->8, residual Add with a, Relu             c
    MaxPool 2x2 / 2                                      8x8
    conv 3x3 8->16 + Relu, GlobalAveragePool, Flatten    16
    Gemm 16->10

The float reference is computed here with NumPy in float64, independently
of qnnc: the test measures quantization error against the model's real
function, not against qnnc's own float interpreter.
"""
import os
import subprocess
import sys

import numpy as np

SEED = 20261122
N_CALIB, N_HELD = 32, 16


def weights():
    r = np.random.default_rng(SEED)

    def he(*shape):
        fan_in = int(np.prod(shape[1:]))
        return (r.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    w = {}
    w["c1_w"], w["c1_b"] = he(8, 3, 3, 3), (r.standard_normal(8) * 0.1).astype(np.float32)
    w["bn_scale"] = r.uniform(0.5, 1.5, 8).astype(np.float32)
    w["bn_bias"] = (r.standard_normal(8) * 0.2).astype(np.float32)
    w["bn_mean"] = (r.standard_normal(8) * 0.3).astype(np.float32)
    w["bn_var"] = r.uniform(0.5, 2.0, 8).astype(np.float32)
    w["dw_w"], w["dw_b"] = he(8, 1, 3, 3), (r.standard_normal(8) * 0.1).astype(np.float32)
    w["pw_w"], w["pw_b"] = he(8, 8, 1, 1), (r.standard_normal(8) * 0.1).astype(np.float32)
    w["c2_w"], w["c2_b"] = he(16, 8, 3, 3), (r.standard_normal(16) * 0.1).astype(np.float32)
    w["fc_w"], w["fc_b"] = he(10, 16), (r.standard_normal(10) * 0.1).astype(np.float32)
    return w


def samples(n, seed):
    """Smooth random images: a few random plane waves plus a little noise,
    values roughly in [-1, 1], like normalized natural images."""
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16].astype(np.float64) / 16.0
    out = []
    for _ in range(n):
        img = np.zeros((1, 3, 16, 16))
        for c in range(3):
            for _ in range(3):
                fy, fx = r.uniform(-3, 3, 2)
                img[0, c] += r.uniform(0.2, 0.5) * np.sin(2 * np.pi * (fy * yy + fx * xx) + r.uniform(0, 6.3))
        img += r.standard_normal(img.shape) * 0.05
        out.append(img.astype(np.float32))
    return out


def write_model(path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = weights()
    inits = [numpy_helper.from_array(v, k) for k, v in w.items()]
    N = helper.make_node
    nodes = [
        N("Conv", ["x", "c1_w", "c1_b"], ["c1"], name="conv1", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        N("BatchNormalization", ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"], name="bn1", epsilon=1e-5),
        N("Relu", ["bn"], ["a"], name="relu1"),
        N("Conv", ["a", "dw_w", "dw_b"], ["dw"], name="dwconv", pads=[1, 1, 1, 1], kernel_shape=[3, 3], group=8),
        N("Relu", ["dw"], ["b"], name="relu2"),
        N("Conv", ["b", "pw_w", "pw_b"], ["pw"], name="pwconv", kernel_shape=[1, 1]),
        N("Add", ["pw", "a"], ["res"], name="residual"),
        N("Relu", ["res"], ["c"], name="relu3"),
        N("MaxPool", ["c"], ["mp"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        N("Conv", ["mp", "c2_w", "c2_b"], ["c2"], name="conv2", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        N("Relu", ["c2"], ["d"], name="relu4"),
        N("GlobalAveragePool", ["d"], ["gap"], name="gap"),
        N("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        N("Gemm", ["flat", "fc_w", "fc_b"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="qnnc-e2e")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


# ---------------------------------------------------------------- NumPy reference

def conv(x, w, b, pad, group=1):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    y = np.zeros((n, o, oh, ow))
    opg = o // group
    for oc in range(o):
        g = oc // opg
        xs = x[:, g * cg:(g + 1) * cg]
        for ky in range(kh):
            for kx in range(kw):
                y[:, oc] += np.einsum("nchw,c->nhw", xs[:, :, ky:ky + oh, kx:kx + ow], w[oc, :, ky, kx])
        y[:, oc] += b[oc]
    return y


def forward(x):
    w = {k: v.astype(np.float64) for k, v in weights().items()}
    x = x.astype(np.float64)
    relu = lambda t: np.maximum(t, 0)
    c1 = conv(x, w["c1_w"], w["c1_b"], 1)
    s = w["bn_scale"] / np.sqrt(w["bn_var"] + 1e-5)
    a = relu((c1 - w["bn_mean"][None, :, None, None]) * s[None, :, None, None] + w["bn_bias"][None, :, None, None])
    b = relu(conv(a, w["dw_w"], w["dw_b"], 1, group=8))
    c = relu(conv(b, w["pw_w"], w["pw_b"], 0) + a)
    n, ch, h, wd = c.shape
    mp = c.reshape(n, ch, h // 2, 2, wd // 2, 2).max(axis=(3, 5))
    d = relu(conv(mp, w["c2_w"], w["c2_b"], 1))
    gap = d.mean(axis=(2, 3))
    return gap @ w["fc_w"].T + w["fc_b"]


def main():
    cmd = sys.argv[1]
    if cmd == "model":
        write_model(sys.argv[2])
    elif cmd == "data":
        d = sys.argv[2]
        for sub, n, seed in (("calib", N_CALIB, SEED + 1), ("held", N_HELD, SEED + 2)):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
            for i, x in enumerate(samples(n, seed)):
                np.save(os.path.join(d, sub, "x%02d.npy" % i), x)
    elif cmd == "check":
        d, run, model, min_db = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
        sig = noise = 0.0
        held = sorted(f for f in os.listdir(os.path.join(d, "held")) if f.endswith(".npy"))
        for f in held:
            xp = os.path.join(d, "held", f)
            yp = os.path.join(d, "y_" + os.path.basename(model) + "_" + f)
            subprocess.run([run, model, "--input", xp, "--output", yp], check=True)
            ref = forward(np.load(xp))
            got = np.load(yp).astype(np.float64)
            sig += float((ref ** 2).sum())
            noise += float(((ref - got) ** 2).sum())
        db = 10 * np.log10(sig / noise) if noise > 0 else float("inf")
        print("%s: SQNR %.2f dB over %d held-back inputs (threshold %.1f dB)" % (os.path.basename(model), db, len(held), min_db))
        if not db >= min_db:
            sys.exit("SQNR below the threshold")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
