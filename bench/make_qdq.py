"""Writes the QDQ int8 version of a fixed-shape float ONNX model, for
ONNX Runtime's int8 column of bench/zoo.sh and bench/run.sh.

    make_qdq.py MODEL.onnx OUT.onnx --calib DIR [--ort NODE_PATH]

ONNX Runtime's own quantizer (onnxruntime.quantization) is a Python
package this machine does not have, so this does the same job with onnx
and NumPy, in the U8S8 layout ONNX Runtime's QDQ transformers fuse into
integer kernels (QLinearConv, QGemm, MatMulInteger, QLinearAdd, ...):

  - BatchNormalization folded into the preceding Conv (float64) where the
    Conv's only reader is the BatchNormalization;
  - weights (Conv's, ConvTranspose's, Gemm's and constant MatMul B) int8,
    symmetric, per output channel, range [-127, 127]; Conv and Gemm
    biases int32 with scale input_scale * weight_scale, zero point 0;
    other float constants read by a quantized op (an Add's bias, a Mul's
    factor) uint8 per tensor;
  - activations uint8, asymmetric, from the min/max each tensor takes over
    the calibration inputs DIR/*.npy -- the same files qnnc calibrates on
    -- measured in ONNX Runtime itself (bench/ort_tool.js ranges on a copy
    of the model whose every float intermediate tensor is also an output);
  - which activations get a QuantizeLinear/DequantizeLinear pair: every
    float tensor an op of QUANT_OPS reads or writes, except a Conv, Gemm,
    MatMul or Add result read only by a Relu or Clip (the activation's
    output is quantized instead, and ONNX Runtime fuses it); data-movement
    ops (MaxPool, Reshape, Transpose, ...) give their output their input's
    parameters, as ONNX Runtime requires to drop their Q/DQ pairs;
  - a graph output that is quantized is the DequantizeLinear's output;
  - initializers that only a subgraph reads (an If branch) are kept;
  - a model below opset 13 (per-axis DequantizeLinear's) is first
    converted to 13 with onnx.version_converter.

Prints one line: the counts of quantized activations and weights.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference, version_converter, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
QUANT_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul", "MaxPool", "AveragePool",
             "GlobalAveragePool", "Concat", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish",
             "Resize", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Softmax", "Split", "Pad"}
SAME_PARAMS = {"MaxPool", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Split", "Pad"}
FUSED_ACT = {"Relu", "Clip"}


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def names_read(nodes):
    """Every tensor name NODES read, subgraphs (If, Loop, Scan bodies,
    which may read the outer graph's initializers) included."""
    out = set()
    for n in nodes:
        out.update(n.input)
        for a in n.attribute:
            for sub in ([a.g] if a.type == onnx.AttributeProto.GRAPH else
                        list(a.graphs) if a.type == onnx.AttributeProto.GRAPHS else []):
                out |= names_read(sub.node)
    return out


def fold_batchnorm(g, consts):
    """Conv -> BatchNormalization pairs become one Conv with a bias."""
    producer = {o: n for n in g.node for o in n.output}
    readers = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    drop = set()
    for nd in g.node:
        cv = producer.get(nd.input[0]) if nd.op_type == "BatchNormalization" else None
        if (cv is None or cv.op_type != "Conv" or
                len(readers[nd.input[0]]) != 1 or not all(n in consts for n in list(nd.input[1:5]) + [cv.input[1]])):
            continue
        gamma, beta, mean, var = (consts[n].astype(np.float64) for n in nd.input[1:5])
        s = gamma / np.sqrt(var + attrs(nd).get("epsilon", 1e-5))
        w = consts[cv.input[1]].astype(np.float64) * s.reshape((-1,) + (1,) * (consts[cv.input[1]].ndim - 1))
        b0 = consts[cv.input[2]].astype(np.float64) if len(cv.input) > 2 and cv.input[2] else 0
        wname, bname = cv.input[1] + ".folded", cv.input[1] + ".folded_bias"
        consts[wname], consts[bname] = w.astype(np.float32), ((b0 - mean) * s + beta).astype(np.float32)
        del cv.input[1:]
        cv.input.extend([wname, bname])
        cv.output[0] = nd.output[0]
        drop.add(id(nd))
    kept = [n for n in g.node if id(n) not in drop]
    del g.node[:]
    g.node.extend(kept)


def qparams_u8(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def measure_ranges(model, names, calib, node_path):
    """{name: (lo, hi)} of NAMES over CALIB/*.npy, in ONNX Runtime."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, None))
    with tempfile.TemporaryDirectory(prefix="make_qdq-") as tmp:
        path = os.path.join(tmp, "exposed.onnx")
        onnx.save(m, path)
        env = dict(os.environ)
        if node_path:
            env["NODE_PATH"] = node_path
        r = subprocess.run(["node", os.path.join(HERE, "ort_tool.js"), "ranges", path, calib], capture_output=True,
                           text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"make_qdq: ONNX Runtime could not run the calibration: {r.stderr.strip()}")
    return {k: tuple(v) for k, v in json.loads(r.stdout).items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--calib", required=True, help="directory of .npy calibration inputs")
    ap.add_argument("--ort", help="NODE_PATH for onnxruntime-node (default: $NODE_PATH)")
    args = ap.parse_args()

    model = onnx.load(args.model)
    # Per-axis DequantizeLinear needs opset 13; ops whose attributes became
    # inputs there (Split's split, Squeeze's axes, ...) are converted by
    # ONNX's own version converter rather than by relabelling the opset.
    if any(o.domain in ("", "ai.onnx") and o.version < 13 for o in model.opset_import):
        model = version_converter.convert_version(model, 13)
    g = model.graph
    if len(g.input) != 1:
        sys.exit("make_qdq: only single-input models")
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    for nd in g.node:
        if nd.op_type == "Constant" and "value" in attrs(nd):
            consts[nd.output[0]] = numpy_helper.to_array(attrs(nd)["value"])
    fold_batchnorm(g, consts)
    del g.initializer[:]
    read = names_read(g.node)
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items() if k in read)
    inferred = shape_inference.infer_shapes(model)
    elem = {v.name: v.type.tensor_type.elem_type
            for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)}
    nodes = [n for n in g.node if not (n.op_type == "Constant" and n.output[0] in consts)]
    producer = {o: n for n in nodes for o in n.output}
    readers = {}
    for n in nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    outputs = {o.name for o in g.output}

    def is_act(t):
        return t and t not in consts and elem.get(t) == TensorProto.FLOAT

    def wants_q(t):
        p = producer.get(t)
        rs = readers.get(t, [])
        if p is not None and p.op_type in ("Conv", "Gemm", "MatMul", "Add") and len(rs) == 1 and \
                rs[0].op_type in FUSED_ACT and t not in outputs:
            return False
        return (p is not None and p.op_type in QUANT_OPS) or any(r.op_type in QUANT_OPS for r in rs)

    acts = [g.input[0].name] + [o for n in nodes for o in n.output if is_act(o)]
    acts = [t for t in acts if wants_q(t)]
    rng = measure_ranges(model, acts, args.calib, args.ort)

    inits, new_nodes, params, dq = [], [], {}, {}
    nweights = 0

    def qdq(name, p):
        scale, zp = p
        params[name] = p
        src = name + "_f" if name in outputs else name
        inits.append(numpy_helper.from_array(np.array(scale, np.float32), name + "_scale"))
        inits.append(numpy_helper.from_array(np.array(zp, np.uint8), name + "_zp"))
        new_nodes.append(helper.make_node("QuantizeLinear", [src, name + "_scale", name + "_zp"], [name + "_q"]))
        out = name if name in outputs else name + "_dq"
        new_nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_scale", name + "_zp"], [out]))
        dq[name] = out

    memo = {}

    def weight(name, axis, in_scale=None, bias=None):
        nonlocal nweights
        key = (name, axis, float(in_scale) if bias else None, bias)
        if key in memo:
            return memo[key]
        if any(k[0] == name for k in memo) or any(k[3] == bias for k in memo if bias):
            sys.exit(f"make_qdq: weight {name} is shared with different parameters")
        nweights += 1
        w = consts[name].astype(np.float64)
        red = tuple(a for a in range(w.ndim) if a != axis)
        ws = np.maximum(np.abs(w).max(axis=red), 1e-12) / 127.0
        shp = [1] * w.ndim
        shp[axis] = -1
        q = np.clip(np.round(w / ws.reshape(shp)), -127, 127).astype(np.int8)
        inits.append(numpy_helper.from_array(q, name + "_wq"))
        inits.append(numpy_helper.from_array(ws.astype(np.float32), name + "_wscale"))
        inits.append(numpy_helper.from_array(np.zeros(len(ws), np.int8), name + "_wzp"))
        new_nodes.append(helper.make_node("DequantizeLinear", [name + "_wq", name + "_wscale", name + "_wzp"],
                                          [name + "_wdq"], axis=axis))
        outs = [name + "_wdq"]
        if bias:
            bs = np.float64(in_scale) * ws.astype(np.float32).astype(np.float64)
            bq = np.clip(np.round(consts[bias].astype(np.float64) / bs), -2**31, 2**31 - 1).astype(np.int32)
            inits.append(numpy_helper.from_array(bq, bias + "_bq"))
            inits.append(numpy_helper.from_array(bs.astype(np.float32), bias + "_bscale"))
            inits.append(numpy_helper.from_array(np.zeros(len(bs), np.int32), bias + "_bzp"))
            new_nodes.append(helper.make_node("DequantizeLinear", [bias + "_bq", bias + "_bscale", bias + "_bzp"],
                                              [bias + "_bdq"], axis=0))
            outs.append(bias + "_bdq")
        memo[key] = outs
        return outs

    def const_u8(name):
        if name + "_cdq" in dq.values():
            return name + "_cdq"
        dq[name + ".const"] = name + "_cdq"
        c = consts[name].astype(np.float64)
        scale, zp = qparams_u8(float(c.min()), float(c.max()))
        q = np.clip(np.round(c / scale) + zp, 0, 255).astype(np.uint8)
        inits.append(numpy_helper.from_array(q, name + "_cq"))
        inits.append(numpy_helper.from_array(np.array(scale, np.float32), name + "_cscale"))
        inits.append(numpy_helper.from_array(np.array(zp, np.uint8), name + "_czp"))
        new_nodes.append(helper.make_node("DequantizeLinear", [name + "_cq", name + "_cscale", name + "_czp"],
                                          [name + "_cdq"]))
        return name + "_cdq"

    if g.input[0].name in rng:
        qdq(g.input[0].name, qparams_u8(*rng[g.input[0].name]))
    for nd in g.node:
        if nd.op_type == "Constant" and nd.output[0] in consts:
            continue
        t, ins, a = nd.op_type, list(nd.input), attrs(nd)
        x = ins[0] if ins else None
        sx = params.get(x, (None,))[0]
        if t in ("Conv", "ConvTranspose") and ins[1] in consts and sx is not None:
            b = ins[2] if len(ins) > 2 and ins[2] in consts and t == "Conv" else None
            ins = [dq[x]] + weight(ins[1], 0 if t == "Conv" else 1, sx, b) + ins[2 + (b is not None):]
        elif t == "Gemm" and ins[1] in consts and sx is not None and not a.get("transA", 0):
            b = ins[2] if len(ins) > 2 and ins[2] in consts and consts[ins[2]].ndim == 1 and \
                a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0 else None
            ins = [dq[x]] + weight(ins[1], 0 if a.get("transB", 0) else 1, sx, b) + ins[2 + (b is not None):]
        elif t == "MatMul" and ins[1] in consts and consts[ins[1]].ndim >= 2 and sx is not None:
            ins = [dq[x]] + weight(ins[1], consts[ins[1]].ndim - 1)
        if t in QUANT_OPS:
            ins = [dq.get(i, const_u8(i) if i in consts and consts[i].dtype == np.float32 and
                          t in ("Add", "Mul", "Concat") else i) for i in ins]
        else:
            ins = [dq.get(i, i) for i in ins]
        outs = [o + "_f" if o in outputs and o in rng else o for o in nd.output]
        new_nodes.append(helper.make_node(t, ins, outs, name=nd.name, domain=nd.domain, **a))
        for o in nd.output:
            if o not in rng:
                continue
            if t in SAME_PARAMS and x in params:
                qdq(o, params[x])
            else:
                qdq(o, qparams_u8(*rng[o]))

    have = {i.name for i in inits}
    for n in sorted({i for i in names_read(new_nodes) if i in consts and i not in have}):
        inits.append(numpy_helper.from_array(consts[n], n))  # read unquantized (shapes, pads, ...)
    graph = helper.make_graph(new_nodes, g.name + "_qdq", list(g.input), list(g.output), inits)
    opsets = [o for o in model.opset_import]
    for o in opsets:
        if o.domain in ("", "ai.onnx") and o.version < 13:
            o.version = 13  # per-axis DequantizeLinear
    out_model = helper.make_model(graph, opset_imports=opsets, producer_name="qnnc bench/make_qdq.py")
    out_model.ir_version = model.ir_version
    onnx.checker.check_model(out_model)
    onnx.save(out_model, args.out)
    print(f"make_qdq: wrote {args.out}: {sum(n.op_type == 'QuantizeLinear' for n in new_nodes)} activations "
          f"and {nweights} weights quantized, ranges from {len(os.listdir(args.calib))} calibration inputs")


if __name__ == "__main__":
    main()
