"""Writes a QDQ int8 version of the Fashion-MNIST example for ONNX Runtime.

    make_qdq.py MODEL.onnx OUT.onnx [--samples N]

ONNX Runtime's own quantizer (onnxruntime.quantization) is not available
without PyPI, so this does the same job with onnx and NumPy alone, in the
layout ONNX Runtime's QDQ transformers fuse into integer kernels
(QLinearConv, QLinearAdd, QGemm, int8 MaxPool/AveragePool):

  - BatchNormalization folded into the preceding Conv (float64);
  - weights int8, symmetric, per output channel (axis 0), range [-127, 127];
    biases int32 with scale input_scale * weight_scale, zero point 0;
  - activations uint8, asymmetric, min/max over the calibration images
    (the same 1,000 training images qnnc calibrates on, pixels / 255) --
    ONNX Runtime's recommended U8S8 format on x86-64.  A ReLU's output
    range starts at 0, so its zero point is 0 and ONNX Runtime drops the
    ReLU into the preceding kernel;
  - a Pad of zeros (torch puts one before AveragePool) is dropped;
  - every activation is quantized once (QuantizeLinear then
    DequantizeLinear, consumers read the DequantizeLinear); MaxPool's
    output reuses its input's parameters, as ONNX Runtime requires.

Calibration runs the float graph in a small NumPy evaluator of exactly the
ops the example uses; it prints the evaluator's float accuracy on the
first 1,000 test images as a check that it computes the model.
"""
import argparse
import gzip
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def conv(x, w, b, a):
    """NCHW Conv with pads, strides and groups, via one matmul per group."""
    s = a.get("strides", [1, 1])
    p = a.get("pads", [0, 0, 0, 0])
    g = a.get("group", 1)
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    oh, ow = (h - kh) // s[0] + 1, (wd - kw) // s[1] + 1
    cols = np.empty((n, c, kh, kw, oh, ow), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]]
    out = []
    for gi in range(g):
        cc = cols[:, gi * cg:(gi + 1) * cg].reshape(n, cg * kh * kw, oh * ow)
        wg = w[gi * (m // g):(gi + 1) * (m // g)].reshape(m // g, -1)
        out.append(np.einsum("ok,nkp->nop", wg, cc))
    y = np.concatenate(out, axis=1).reshape(n, m, oh, ow)
    return y + b[None, :, None, None] if b is not None else y


def pool(x, a, op):
    k, s = a["kernel_shape"], a.get("strides", a["kernel_shape"])
    p = a.get("pads", [0, 0, 0, 0])
    assert not any(p), "padded pooling is not used by the example"
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    win = np.stack([x[:, :, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]]
                    for i in range(k[0]) for j in range(k[1])])
    return op(win, axis=0)


def run(graph, consts, x):
    """Evaluates GRAPH on X (float64); returns every tensor by name."""
    env = dict(consts)
    env[graph.input[0].name] = x
    for nd in graph.node:
        i = [env[n] if n else None for n in nd.input]
        a = attrs(nd)
        t = nd.op_type
        if t == "Conv":
            y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif t == "BatchNormalization":
            sc = i[1] / np.sqrt(i[4] + a.get("epsilon", 1e-5))
            y = (i[0] - i[3][None, :, None, None]) * sc[None, :, None, None] + i[2][None, :, None, None]
        elif t == "Relu":
            y = np.maximum(i[0], 0)
        elif t == "Add":
            y = i[0] + i[1]
        elif t == "MaxPool":
            y = pool(i[0], a, np.max)
        elif t == "AveragePool":
            y = pool(i[0], a, np.mean)
        elif t == "Pad":
            assert not np.any(i[1]), "only the no-op Pad torch emits before AveragePool"
            y = i[0]
        elif t == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif t == "Gemm":
            bm = i[1].T if a.get("transB", 0) else i[1]
            y = i[0] @ bm + (i[2] if len(i) > 2 else 0)
        elif t == "Constant":
            y = numpy_helper.to_array(a["value"]).astype(np.float64)
        else:
            raise SystemExit(f"make_qdq: op {t} is not handled")
        env[nd.output[0]] = y
    return env


def fold_batchnorm(model):
    """Conv -> BatchNormalization pairs become one Conv with a bias."""
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    drop, new_inits = set(), {}
    for nd in g.node:
        if nd.op_type != "BatchNormalization" or producer.get(nd.input[0], None) is None:
            continue
        cv = producer[nd.input[0]]
        if cv.op_type != "Conv":
            continue
        gamma, beta, mean, var = (inits[n] for n in nd.input[1:5])
        s = gamma / np.sqrt(var + attrs(nd).get("epsilon", 1e-5))
        w = inits[cv.input[1]] * s[:, None, None, None]
        b0 = inits[cv.input[2]] if len(cv.input) > 2 else 0
        b = (b0 - mean) * s + beta
        new_inits[cv.input[1]] = w
        bname = cv.input[1] + ".folded_bias"
        new_inits[bname] = b
        del cv.input[2:]
        cv.input.append(bname)
        cv.output[0] = nd.output[0]
        drop.add(id(nd))
    kept = [n for n in g.node if id(n) not in drop]
    del g.node[:]
    g.node.extend(kept)
    inits.update(new_inits)
    used = {n for nd in g.node for n in nd.input}
    return {k: v for k, v in inits.items() if k in used}


def qparams_u8(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args()

    model = onnx.load(args.model)
    g = model.graph
    consts = fold_batchnorm(model)
    for nd in g.node:  # Constant nodes become initializers (Pad's pads)
        if nd.op_type == "Constant":
            consts[nd.output[0]] = numpy_helper.to_array(attrs(nd)["value"])
    nodes = [n for n in g.node if n.op_type != "Constant"]

    # Calibration: min/max of every activation over the samples.
    x = read_idx("train-images-idx3-ubyte.gz")[:args.samples].astype(np.float64)[:, None] / 255.0
    lo, hi = {}, {}
    for i in range(0, len(x), 100):
        env = run(g, consts, x[i:i + 100])
        for k, v in env.items():
            if k not in consts:
                lo[k] = min(lo.get(k, np.inf), float(v.min()))
                hi[k] = max(hi.get(k, -np.inf), float(v.max()))
    xt = read_idx("t10k-images-idx3-ubyte.gz")[:1000].astype(np.float64)[:, None] / 255.0
    yt = read_idx("t10k-labels-idx1-ubyte.gz")[:1000]
    logits = run(g, consts, xt)[g.output[0].name]
    print(f"make_qdq: NumPy float evaluator: {100 * (logits.argmax(1) == yt).mean():.1f}% on 1,000 test images")

    # Which tensors get a Q/DQ pair: the input and every op output except
    # a Conv or Gemm output read only by a Relu (the Relu's output is
    # quantized instead), and pass-through ops keep their input's params.
    consumers = {}
    for nd in nodes:
        for n in nd.input:
            consumers.setdefault(n, []).append(nd)
    params = {}
    inits, new_nodes = [], []
    dq_name = {}

    def quantize_tensor(name, p=None):
        scale, zp = p or qparams_u8(lo[name], hi[name])
        params[name] = (scale, zp)
        inits.append(numpy_helper.from_array(np.array(scale, np.float32), name + "_scale"))
        inits.append(numpy_helper.from_array(np.array(zp, np.uint8), name + "_zp"))
        new_nodes.append(helper.make_node("QuantizeLinear", [name, name + "_scale", name + "_zp"], [name + "_q"]))
        new_nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_scale", name + "_zp"],
                                          [name + "_dq"]))
        dq_name[name] = name + "_dq"

    def weight(name, in_scale, bias=None):
        w = consts[name]
        axes = tuple(range(1, w.ndim))
        ws = np.maximum(np.abs(w).max(axis=axes), 1e-12) / 127.0
        q = np.clip(np.round(w / ws.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127).astype(np.int8)
        inits.append(numpy_helper.from_array(q, name + "_q"))
        inits.append(numpy_helper.from_array(ws.astype(np.float32), name + "_scale"))
        inits.append(numpy_helper.from_array(np.zeros(len(ws), np.int8), name + "_zp"))
        outs = [name + "_dq"]
        new_nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_scale", name + "_zp"], outs,
                                          axis=0))
        if bias is not None:
            bs = (np.float64(in_scale) * ws.astype(np.float32).astype(np.float64))
            bq = np.round(consts[bias] / bs).astype(np.int32)
            inits.append(numpy_helper.from_array(bq, bias + "_q"))
            inits.append(numpy_helper.from_array(bs.astype(np.float32), bias + "_scale"))
            inits.append(numpy_helper.from_array(np.zeros(len(bs), np.int32), bias + "_zp"))
            new_nodes.append(helper.make_node("DequantizeLinear", [bias + "_q", bias + "_scale", bias + "_zp"],
                                              [bias + "_dq"], axis=0))
            outs.append(bias + "_dq")
        return outs

    quantize_tensor(g.input[0].name)
    for nd in nodes:
        t = nd.op_type
        ins = list(nd.input)
        if t == "Pad" and not np.any(consts[ins[1]]):
            # torch's AveragePool export puts a Pad of zeros in front; it
            # does nothing, but a float op between DQ and Q stops the fusion.
            dq_name[nd.output[0]], params[nd.output[0]] = dq_name[ins[0]], params[ins[0]]
            continue
        if t in ("Conv", "Gemm"):
            if t == "Gemm":
                assert attrs(nd).get("transB", 0) == 1 and len(ins) == 3
            wb = weight(ins[1], params[ins[0]][0], ins[2] if len(ins) > 2 else None)
            ins = [dq_name[ins[0]]] + wb
        else:
            ins = [dq_name[i] for i in ins]
        new_nodes.append(helper.make_node(t, ins, list(nd.output), name=nd.name, **attrs(nd)))
        out = nd.output[0]
        cons = consumers.get(out, [])
        if t in ("MaxPool", "Flatten"):
            quantize_tensor(out, params[nd.input[0]])
        elif len(cons) == 1 and cons[0].op_type == "Relu" and t in ("Conv", "Gemm", "Add"):
            dq_name[out] = out  # the Relu reads it in float; its output is quantized
        else:
            quantize_tensor(out)
    final = g.output[0].name
    # The graph output is the dequantized logits.
    for nd in new_nodes:
        if nd.op_type == "DequantizeLinear" and nd.output[0] == final + "_dq":
            nd.output[0] = final
    for nd in new_nodes:
        if nd.op_type == "QuantizeLinear" and nd.input[0] == final:
            nd.input[0] = final + "_f"
    for nd in new_nodes:
        if nd.output[0] == final and nd.op_type != "DequantizeLinear":
            nd.output[0] = final + "_f"

    graph = helper.make_graph(new_nodes, g.name + "_qdq", list(g.input), list(g.output), inits)
    out_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                                  producer_name="qnnc bench/make_qdq.py")
    onnx.checker.check_model(out_model)
    onnx.save(out_model, args.out)
    print(f"make_qdq: wrote {args.out}: {len(new_nodes)} nodes, "
          f"{sum(n.op_type == 'QuantizeLinear' for n in new_nodes)} activations quantized")


if __name__ == "__main__":
    main()
