#!/usr/bin/python3
"""Generates the malformed-input corpus under Inputs/ and its lit tests.

usage: gen.py            (rewrites Inputs/ and the *.test files beside it)

Every case is one file with one defect, and the one-line diagnostic qnnc
must give for it (the CASES tables below: name, contents, message).  The
binary files (ONNX, .npy, .pb, IDX) are built here with python3-onnx and
NumPy; the generated files and tests are committed, so rerun this script
after changing it.  Each format gets one lit file, FORMAT.test, with one
RUN line per case:  %error TOOL FILE 2>&1 | FileCheck (exit status 1, that
one error and no other, never a crash -- in the sanitizer build, no memory
error or leak either).
"""
import gzip
import io
import os
import shutil
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.join(HERE, "Inputs")

# ---------------------------------------------------------------- ONNX


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def model(nodes, inputs, outputs, inits=(), opset=13, name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def relu_model():
    return model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, 4])], [vi("y", [1, 4])])


def tensor(name, dims, dtype=TensorProto.FLOAT, raw=None, floats=None):
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(dims)
    if raw is not None:
        t.raw_data = raw
    if floats is not None:
        t.float_data.extend(floats)
    return t


def add_with_init(init, x_shape=(1, 4)):
    """y = x + w with the initializer INIT as w."""
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", list(x_shape))],
                 [vi("y", list(x_shape))], [init])


def conv(attrs, x=(1, 1, 4, 4), w=(1, 1, 3, 3), y=(1, 1, 2, 2)):
    wt = numpy_helper.from_array(np.ones(w, np.float32), "w")
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)], [vi("x", list(x))],
                 [vi("y", list(y))], [wt])


def unary(op, attrs, x=(1, 4), y=(1, 4), opset=13):
    return model([helper.make_node(op, ["x"], ["y"], name="n", **attrs)], [vi("x", list(x))], [vi("y", list(y))],
                 opset=opset)


def with_attr(op, attr, x=(2, 3), y=(2, 3)):
    """OP with a hand-made AttributeProto (for types helper.make_node would not produce)."""
    n = helper.make_node(op, ["x"], ["y"], name="n")
    n.attribute.append(attr)
    return model([n], [vi("x", list(x))], [vi("y", list(y))])


def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])


def nested_graphs(depth):
    """A model whose graph has a node with a graph attribute whose graph has
    a node ... DEPTH times (ModelProto.graph = 7, GraphProto.node = 1,
    NodeProto.attribute = 5, AttributeProto.g = 6).  Deep enough, it once
    overflowed the stack of protobuf-c's recursive unpacker."""
    def field(num, payload):
        return varint(num << 3 | 2) + varint(len(payload)) + payload
    g = b""
    for _ in range(depth):
        g = field(1, field(5, field(6, g)))
    return field(7, g)


def onnx_cases():
    relu = relu_model()
    m = onnx.ModelProto()
    m.ir_version = 8
    m.opset_import.append(helper.make_opsetid("", 13))
    no_graph = m.SerializeToString()

    float_attr = helper.make_attribute("axis", 1.5)
    cyc = model([helper.make_node("Relu", ["b"], ["a"], name="first"), helper.make_node("Relu", ["a"], ["b"], name="second"),
                 helper.make_node("Add", ["x", "a"], ["y"], name="out")], [vi("x", [1, 4])], [vi("y", [1, 4])])
    selfloop = model([helper.make_node("Add", ["x", "s"], ["s"], name="loop"), helper.make_node("Relu", ["s"], ["y"], name="r")],
                     [vi("x", [1, 4])], [vi("y", [1, 4])])
    dup_init = model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [1, 4])], [vi("y", [1, 4])],
                     [numpy_helper.from_array(np.ones((1, 4), np.float32), "w"),
                      numpy_helper.from_array(np.zeros((1, 4), np.float32), "w")])
    dup_out = model([helper.make_node("Relu", ["x"], ["y"], name="a"), helper.make_node("Sigmoid", ["x"], ["y"], name="b")],
                    [vi("x", [1, 4])], [vi("y", [1, 4])])
    undefined = model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")], [vi("x", [1, 4])], [vi("y", [1, 4])])
    no_out = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, 4])], [])
    out_undef = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, 4])], [vi("nowhere", [1, 4])])
    gemm = model([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")], [vi("x", [1, 4])], [vi("y", [1, 3])],
                 [numpy_helper.from_array(np.ones((5, 3), np.float32), "w")])
    shape = numpy_helper.from_array(np.array([5, 5], np.int64), "shape")
    reshape = model([helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs")], [vi("x", [2, 3])], [vi("y", [5, 5])], [shape])
    shape2 = numpy_helper.from_array(np.array([-1, -1], np.int64), "shape")
    reshape2 = model([helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs")], [vi("x", [2, 3])], [vi("y", [2, 3])], [shape2])
    concat = model([helper.make_node("Concat", ["x", "x"], ["y"], name="cat", axis=4)], [vi("x", [2, 3])], [vi("y", [4, 3])])
    q_scale0 = model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], name="q")], [vi("x", [1, 4])],
                     [vi("y", [1, 4], TensorProto.INT8)],
                     [numpy_helper.from_array(np.array(0.0, np.float32), "s"), numpy_helper.from_array(np.array(0, np.int8), "z")])
    q_nan = model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], name="q")], [vi("x", [1, 4])],
                  [vi("y", [1, 4], TensorProto.INT8)],
                  [numpy_helper.from_array(np.array(np.nan, np.float32), "s"), numpy_helper.from_array(np.array(0, np.int8), "z")])
    str_input = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, 4], TensorProto.STRING)], [vi("y", [1, 4])])
    no_shape_in = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
                        [vi("y", [1, 4])])
    unknown_domain = onnx.load_from_string(relu)
    unknown_domain.graph.node[0].domain = "com.example"
    unknown_domain = unknown_domain.SerializeToString()
    new_opset = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, 4])], [vi("y", [1, 4])], opset=99)
    ext = tensor("w", [1, 4])
    ext.data_location = TensorProto.EXTERNAL
    ext.external_data.add(key="location", value="no-such-weights.bin")
    ext2 = tensor("w", [1, 4])
    ext2.data_location = TensorProto.EXTERNAL
    ext2.external_data.add(key="location", value="model.qir")
    ext2.external_data.add(key="offset", value="-8")
    return [
        ("empty.onnx", b"", "not a valid ONNX model (it has no graph)"),
        ("truncated-header.onnx", relu[:5], "not a valid ONNX model (protobuf parse failed)"),
        ("truncated-half.onnx", relu[:len(relu) // 2], "not a valid ONNX model (protobuf parse failed)"),
        ("garbage.onnx", bytes(range(255, 0, -3)) * 4, "not a valid ONNX model (protobuf parse failed)"),
        ("text.onnx", b"ir_version: 8\ngraph { name: 'g' }\n", "not a valid ONNX model (protobuf parse failed)"),
        ("nested-too-deep.onnx", nested_graphs(1000), "not a valid ONNX model (messages nested more than 64 deep)"),
        ("no-graph.onnx", no_graph, "not a valid ONNX model (it has no graph)"),
        ("negative-dim-input.onnx", unary("Relu", {}, x=(1, -3), y=(1, -3)), "graph input 'x': dimension 1 is -3, which is no size; give the input's shape: [model] input_shapes = { x = [1, ?] } or --input-shape=x:1,?"),
        ("huge-dim-input.onnx", unary("Relu", {}, x=(1 << 40, 1 << 30), y=(1 << 40, 1 << 30)), "graph input 'x': element count overflows"),
        ("overflow64-init.onnx", add_with_init(tensor("w", [1 << 32, 1 << 32, 1 << 32], raw=b"")),
         "tensor 'w': element count of shape overflows (more than 2147483648 elements)"),
        ("negative-dim-init.onnx", add_with_init(tensor("w", [4, -1], raw=b"")), "tensor 'w': dimension 1 is negative (-1)"),
        ("rank7-init.onnx", add_with_init(tensor("w", [1] * 7, raw=b"\0" * 4)), "tensor 'w': rank 7 exceeds the maximum of 6"),
        ("short-raw-data.onnx", add_with_init(tensor("w", [1, 4], raw=b"\0" * 15)),
         "tensor 'w': raw_data has 15 bytes but shape and type need 16"),
        ("float-data-count.onnx", add_with_init(tensor("w", [1, 4], floats=[1, 2, 3])),
         "tensor 'w': float_data has 3 elements but the shape has 4"),
        ("float16-init.onnx", add_with_init(tensor("w", [1, 4], TensorProto.FLOAT16, raw=b"\0" * 8)),
         "tensor 'w': element type FLOAT16 (10) is not supported"),
        ("external-missing.onnx", add_with_init(ext), "tensor 'w': cannot open external data file '{{.*}}/no-such-weights.bin': No such file or directory"),
        ("external-negative-offset.onnx", add_with_init(ext2), "tensor 'w': external data offset '-8' is not a number"),
        ("undefined-input.onnx", undefined, "node 'add' (Add): input 'ghost' is not defined by any node, graph input or initializer (missing initializer?)"),
        ("duplicate-output.onnx", dup_out, "node 'b' (Sigmoid): output 'y' is already produced by node 'a'"),
        ("duplicate-initializer.onnx", dup_init, "tensor name 'w' is defined more than once"),
        ("cycle.onnx", cyc, "the graph has a cycle through node 'first' (Relu)"),
        ("self-loop.onnx", selfloop, "the graph has a cycle through node 'loop' (Add)"),
        ("unknown-op.onnx", unary("FooBar", {}), "node 'n' (FooBar, opset 13): unsupported op"),
        ("unknown-domain.onnx", unknown_domain, "node 'r' (Relu, domain com.example): unsupported op"),
        ("opset-99.onnx", new_opset, "opset 99 is not supported (qnnc imports opsets up to 19)"),
        ("no-outputs.onnx", no_out, "the graph has no outputs"),
        ("undefined-output.onnx", out_undef, "graph output 'nowhere' is not produced by any node"),
        ("string-input.onnx", str_input, "graph input 'x' has element type STRING, which qnnc does not support (supported: FLOAT, UINT8, INT8, INT16, INT32, INT64 narrowed to INT32)"),
        ("no-shape-input.onnx", no_shape_in, "graph input 'x' has no shape; qnnc needs static shapes"),
        ("conv-group-zero.onnx", conv({"group": 0}), "node 'conv' (Conv): weights [1,1,...] do not fit 1 input channels in 0 groups"),
        ("conv-negative-pads.onnx", conv({"pads": [-1, -1, -1, -1]}), "node 'conv' (Conv): kernel, strides and dilations must be positive and pads non-negative (and all below 2^24)"),
        ("conv-zero-stride.onnx", conv({"strides": [0, 0]}), "node 'conv' (Conv): kernel, strides and dilations must be positive and pads non-negative (and all below 2^24)"),
        ("conv-kernel-too-big.onnx", conv({}, x=(1, 1, 2, 2), y=(1, 1, 1, 1)), "node 'conv' (Conv): the kernel (extent 3) is larger than the padded input (2)"),
        ("conv-dilation-huge.onnx", conv({"dilations": [1 << 62, 1 << 62]}), "node 'conv' (Conv): kernel, strides and dilations must be positive and pads non-negative (and all below 2^24)"),
        ("maxpool-zero-kernel.onnx", unary("MaxPool", {"kernel_shape": [0, 0]}, x=(1, 1, 4, 4), y=(1, 1, 4, 4)),
         "node 'n' (MaxPool): kernel, strides and dilations must be positive and pads non-negative (and all below 2^24)"),
        ("softmax-axis.onnx", unary("Softmax", {"axis": 5}, x=(2, 3), y=(2, 3)), "node 'n' (Softmax): axis 5 is out of range for rank 2"),
        ("softmax-float-axis.onnx", with_attr("Softmax", float_attr), "node 'n' (Softmax): attribute 'axis' must be INT, not FLOAT"),
        ("transpose-perm.onnx", unary("Transpose", {"perm": [0, 0]}, x=(2, 3), y=(2, 3)), "node 'n' (Transpose): perm is not a permutation"),
        ("gemm-mismatch.onnx", gemm, "node 'fc' (Gemm): A' has 4 columns but B' has 5 rows"),
        ("reshape-count.onnx", reshape, "node 'rs' (Reshape): cannot reshape 6 elements into 25"),
        ("reshape-two-minus-one.onnx", reshape2, "node 'rs' (Reshape): the shape has more than one -1"),
        ("concat-axis.onnx", concat, "node 'cat' (Concat): axis 4 is out of range for rank 2"),
        ("quantize-zero-scale.onnx", q_scale0, "node 'q' (QuantizeLinear): scale 0 (entry 0) must be finite and positive"),
        ("quantize-nan-scale.onnx", q_nan, "node 'q' (QuantizeLinear): scale nan (entry 0) must be finite and positive"),
    ]

# ---------------------------------------------------------------- ONNX ops (issue 12)
# One defect per case in a node of one of the ops added in issue 12: bad
# attribute values, inconsistent shapes, axes and indices out of range,
# wrong input counts.  Messages name the node ('n' unless said otherwise).

F, I64, I8T, U8T, BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT8, TensorProto.UINT8, TensorProto.BOOL


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def op(op_type, ins, outs, inputs, outputs, inits=(), opset=13, domain=None, **attrs):
    """A one-node model: node 'n' of OP_TYPE; INPUTS and OUTPUTS are
    (name, shape[, type]) tuples, INITS numpy arrays by name."""
    n = helper.make_node(op_type, ins, outs, name="n", **attrs)
    if domain:
        n.domain = domain
    g = helper.make_graph([n], "g", [vi(*i) for i in inputs], [vi(*o) for o in outputs],
                          [const(k, v) for k, v in dict(inits).items()])
    ops = [helper.make_opsetid("", opset)]
    if domain:
        ops.append(helper.make_opsetid(domain, 1))
    m = helper.make_model(g, opset_imports=ops)
    m.ir_version = 8
    return m.SerializeToString()


def x4(shape=(1, 4, 4, 4)):
    return [("x", list(shape))]


def resize(attrs=None, scales=None, sizes=None, roi=True, x=(1, 2, 4, 4), y=(1, 2, 8, 8), opset=13):
    ins, inits = ["x", "roi" if roi else "", "", ""], {}
    if roi:
        inits["roi"] = np.zeros(0, np.float32)
    if scales is not None:
        ins[2] = "scales"
        inits["scales"] = np.array(scales, np.float32)
    if sizes is not None:
        ins[3] = "sizes"
        inits["sizes"] = np.array(sizes, np.int64)
    while ins[-1] == "":
        ins.pop()
    return op("Resize", ins, ["y"], [("x", list(x))], [("y", list(y))], inits, opset=opset, **(attrs or {}))


def ms_q(op_type, ins, inputs, outputs, inits, **attrs):
    return op(op_type, ins, ["y"], inputs, outputs, inits, domain="com.microsoft", **attrs)


def qp(p, s=0.1, z=0, t=np.int8):
    return {p + "_s": np.array(s, np.float32), p + "_z": np.array(z, t)}


def if_model(cond, outs=1, branch_in=False, no_op_type=False):
    """If on the constant COND with a branch Relu(x) of OUTS outputs (the
    node has one), taking an input when BRANCH_IN, its node without an
    op_type when NO_OP_TYPE (a crash found by fuzz-onnx)."""
    def branch(tag):
        outputs = [vi("r" + tag, [2, 4])] + [vi("x", [2, 4])] * (outs - 1)
        node = helper.make_node("Relu", ["x"], ["r" + tag], name="relu" + tag)
        if no_op_type:
            node.ClearField("op_type")
        return helper.make_graph([node], "b" + tag, [vi("x", [2, 4])] if branch_in else [], outputs)
    n = helper.make_node("If", ["c"], ["y"], name="n", then_branch=branch("t"), else_branch=branch("e"))
    g = helper.make_graph([n], "g", [vi("x", [2, 4])], [vi("y", [2, 4])], [const("c", cond)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m.SerializeToString()


def op_cases():
    """(name, model, message) for each op of issue 12, several defects each."""
    cat = lambda *ds: {k: v for d in ds for k, v in d.items()}
    x24, y24 = [("x", [2, 4])], [("y", [2, 4])]
    qa = [("a", [1, 4], I8T), ("b", [1, 4], I8T)]
    qy = [("y", [1, 4], I8T)]
    N = "node 'n' (%s): "
    return [
        # Resize and Upsample
        ("resize-mode.onnx", resize({"mode": "bicubic"}, scales=[1, 1, 2, 2]),
         N % "Resize" + "mode 'bicubic' is not supported (only 'nearest' and 'linear')"),
        ("resize-coord.onnx", resize({"coordinate_transformation_mode": "half_pixel_sym"}, scales=[1, 1, 2, 2]),
         N % "Resize" + "coordinate_transformation_mode 'half_pixel_sym' is not supported"),
        ("resize-nearest-mode.onnx", resize({"nearest_mode": "round"}, scales=[1, 1, 2, 2]),
         N % "Resize" + "nearest_mode 'round' is not supported"),
        ("resize-scales-count.onnx", resize(scales=[2, 2]), N % "Resize" + "scales has 2 entries but the input has rank 4"),
        ("resize-scales-zero.onnx", resize(scales=[1, 1, 0, 2]), N % "Resize" + "scales[2] is 0; scales must be positive and finite"),
        ("resize-scales-nan.onnx", resize(scales=[1, 1, float("nan"), 2]), N % "Resize" + "scales[2] is nan; scales must be positive and finite"),
        ("resize-scales-huge.onnx", resize(scales=[1, 1, 1e9, 2]), N % "Resize" + "scales[2] = 1e+09 gives an output dimension of 4000000000"),
        ("resize-sizes-negative.onnx", resize(sizes=[1, 2, -8, 8]), N % "Resize" + "sizes[2] is -8"),
        ("resize-sizes-count.onnx", resize(sizes=[8, 8]), N % "Resize" + "the sizes input must be a constant list of 4 integers"),
        ("resize-none.onnx", resize(), N % "Resize" + "one of scales and sizes must be given"),
        ("resize-both.onnx", resize(scales=[1, 1, 2, 2], sizes=[1, 2, 8, 8]), N % "Resize" + "only one of scales and sizes may be given"),
        ("resize-rank3.onnx", resize(scales=[1, 2, 2], x=(2, 4, 4), y=(2, 8, 8)), N % "Resize" + "only 4-D (NCHW) inputs are supported, got rank 3"),
        ("resize-antialias.onnx", resize({"antialias": 1}, scales=[1, 1, 0.5, 0.5], y=(1, 2, 2, 2), opset=18),
         N % "Resize" + "antialias=1 is not supported"),
        ("resize-keep-round-up.onnx", resize({"axes": [2, 3], "keep_aspect_ratio_policy": "not_larger"}, sizes=[5, 9], x=(1, 2, 4, 6), y=(1, 2, 5, 8), opset=18),
         N % "Resize" + "keep_aspect_ratio_policy 'not_larger' rounds axis 3 up to 8, which qnnc's resize (floor(input * scale)) cannot express"),
        ("resize-keep-policy.onnx", resize({"keep_aspect_ratio_policy": "fit"}, sizes=[1, 2, 8, 8], opset=18),
         N % "Resize" + "keep_aspect_ratio_policy 'fit' is not one of stretch, not_larger, not_smaller"),
        ("resize-axes-twice.onnx", resize({"axes": [3, -1]}, scales=[2, 2], opset=18), N % "Resize" + "axis -1 appears twice"),
        ("resize-axes-range.onnx", resize({"axes": [2, 4]}, scales=[2, 2], opset=18), N % "Resize" + "axis 4 is out of range for rank 4"),
        ("resize-axes-scales.onnx", resize({"axes": [2, 3]}, scales=[1, 1, 2, 2], opset=18),
         N % "Resize" + "scales has 4 entries but the input has rank 4 and axes lists fewer"),
        ("resize-axes-sizes.onnx", resize({"axes": [3]}, sizes=[8, 8], opset=18), N % "Resize" + "the sizes input must be a constant list of 1 integers"),
        ("resize-symmetric-opset18.onnx", resize({"coordinate_transformation_mode": "half_pixel_symmetric"}, scales=[1, 1, 2, 2], opset=18),
         N % "Resize" + "coordinate_transformation_mode 'half_pixel_symmetric' is not supported"),
        ("resize-symmetric-fraction.onnx", resize({"coordinate_transformation_mode": "half_pixel_symmetric"}, scales=[1, 1, 1.5, 2], x=(1, 2, 3, 4), y=(1, 2, 4, 8), opset=19),
         N % "Resize" + "half_pixel_symmetric is supported only when input size * scale is a whole number, but axis 2 gives 4.5"),
        ("split-num-outputs.onnx", op("Split", ["x"], ["a", "b"], x24, [("a", [2, 2]), ("b", [2, 2])], opset=18, axis=1, num_outputs=3),
         N % "Split" + "num_outputs is 3 but the node has 2 outputs"),
        ("split-num-outputs-and-split.onnx", op("Split", ["x", "s"], ["a", "b"], x24, [("a", [2, 2]), ("b", [2, 2])], {"s": np.array([2, 2], np.int64)}, opset=18, axis=1, num_outputs=2),
         N % "Split" + "the split input and num_outputs are both given"),
        ("split-num-outputs-empty.onnx", op("Split", ["x"], ["a", "b", "c"], x24, [("a", [2, 2]), ("b", [2, 2]), ("c", [2, 0])], opset=18, axis=1, num_outputs=3),
         N % "Split" + "axis 1 of size 4 does not split into 3 parts of 2 and a smaller last one"),
        ("pad-axes-count.onnx", op("Pad", ["x", "p", "", "a"], ["y"], x24, [("y", [2, 6])], {"p": np.array([1, 1], np.int64), "a": np.array([0, 1], np.int64)}, opset=18),
         N % "Pad" + "pads has 2 entries but must have 2 * 2 for the 2 axes"),
        ("pad-axes-twice.onnx", op("Pad", ["x", "p", "", "a"], ["y"], x24, [("y", [2, 6])], {"p": np.array([1, 1, 1, 1], np.int64), "a": np.array([1, -1], np.int64)}, opset=18),
         N % "Pad" + "axis -1 appears twice"),
        ("pad-axes-runtime.onnx", op("Pad", ["x", "p", "", "a"], ["y"], [("x", [2, 4]), ("a", [1], TensorProto.INT32)], [("y", [2, 6])], {"p": np.array([1, 1], np.int64)}, opset=18),
         N % "Pad" + "the axes input must be an integer constant of at most 2 entries"),
        ("pad-wrap.onnx", op("Pad", ["x", "p"], ["y"], x24, [("y", [2, 6])], {"p": np.array([0, 1, 0, 1], np.int64)}, opset=19, mode="wrap"),
         N % "Pad" + "pad mode 'wrap' is not supported (only 'constant')"),
        ("averagepool-dilations-opset19.onnx", op("AveragePool", ["x"], ["y"], x4(), [("y", [1, 4, 2, 2])], opset=19, kernel_shape=[2, 2], dilations=[2, 2]),
         N % "AveragePool" + "AveragePool dilations are not supported"),
        ("reducemean-axes-attr-opset18.onnx", op("ReduceMean", ["x"], ["y"], x24, [("y", [2, 1])], opset=18, axes=[1]),
         N % "ReduceMean" + "the axes attribute is an input from opset 18 on"),
        ("reducesum-axes-attr-opset13.onnx", op("ReduceSum", ["x"], ["y"], x24, [("y", [2, 1])], opset=13, axes=[1]),
         N % "ReduceSum" + "the axes attribute is an input from opset 13 on"),
        ("split-attr-opset13.onnx", op("Split", ["x"], ["a", "b"], x24, [("a", [2, 1]), ("b", [2, 3])], opset=13, axis=1, split=[1, 3]),
         N % "Split" + "the split attribute is an input from opset 13 on"),
        ("opset-20.onnx", op("Relu", ["x"], ["y"], x24, y24, opset=20), "opset 20 is not supported (qnnc imports opsets up to 19)"),
        ("upsample-scales-attr.onnx", op("Upsample", ["x"], ["y"], [("x", [1, 2, 4, 4])], [("y", [1, 2, 8, 8])], opset=7, scales=[2.0, 2.0]),
         N % "Upsample" + "scales has 2 entries but the input has rank 4"),
        ("upsample-no-scales.onnx", op("Upsample", ["x"], ["y"], [("x", [1, 2, 4, 4])], [("y", [1, 2, 8, 8])], opset=7),
         N % "Upsample" + "the scales attribute is required, one per input dim"),
        ("upsample-runtime-scales.onnx", op("Upsample", ["x", "s"], ["y"], [("x", [1, 2, 4, 4]), ("s", [4])], [("y", [1, 2, 8, 8])], opset=9),
         N % "Upsample" + "the scales input must be a 1-D constant"),
        # ConvTranspose
        ("convtranspose-group.onnx", op("ConvTranspose", ["x", "w"], ["y"], x4(), [("y", [1, 4, 6, 6])], {"w": np.ones((4, 1, 3, 3), np.float32)}, group=3),
         N % "ConvTranspose" + "weights [4,1,...] do not fit 4 input channels in 3 groups"),
        ("convtranspose-weight-rank.onnx", op("ConvTranspose", ["x", "w"], ["y"], x4(), [("y", [1, 4, 6, 6])], {"w": np.ones((4, 4, 3), np.float32)}),
         N % "ConvTranspose" + "weights must be a constant of the input's rank 4"),
        ("convtranspose-channels.onnx", op("ConvTranspose", ["x", "w"], ["y"], x4(), [("y", [1, 4, 6, 6])], {"w": np.ones((3, 4, 3, 3), np.float32)}),
         N % "ConvTranspose" + "weights [3,4,...] do not fit 4 input channels in 1 groups"),
        ("convtranspose-outpad.onnx", op("ConvTranspose", ["x", "w"], ["y"], x4(), [("y", [1, 4, 7, 7])], {"w": np.ones((4, 4, 3, 3), np.float32)}, output_padding=[3, 3]),
         N % "ConvTranspose" + "output_padding 3 must be smaller than the stride or the dilation"),
        ("convtranspose-stride.onnx", op("ConvTranspose", ["x", "w"], ["y"], x4(), [("y", [1, 4, 6, 6])], {"w": np.ones((4, 4, 3, 3), np.float32)}, strides=[0, 1]),
         N % "ConvTranspose" + "strides[0] is 0"),
        ("convtranspose-output-shape.onnx", op("ConvTranspose", ["x", "w"], ["y"], x4(), [("y", [1, 4, 6, 6])], {"w": np.ones((4, 4, 3, 3), np.float32)}, output_shape=[0, 6]),
         N % "ConvTranspose" + "output_shape[0] is 0"),
        ("convtranspose-bias.onnx", op("ConvTranspose", ["x", "w", "b"], ["y"], x4(), [("y", [1, 4, 6, 6])], {"w": np.ones((4, 4, 3, 3), np.float32), "b": np.ones(3, np.float32)}),
         N % "ConvTranspose" + "bias must have shape [4]"),
        ("convtranspose-pads-count.onnx", op("ConvTranspose", ["x", "w"], ["y"], x4(), [("y", [1, 4, 6, 6])], {"w": np.ones((4, 4, 3, 3), np.float32)}, pads=[1, 1]),
         N % "ConvTranspose" + "pads has 2 entries but must have 4"),
        # Split
        ("split-axis.onnx", op("Split", ["x"], ["a", "b"], x24, [("a", [1, 4]), ("b", [1, 4])], axis=2), N % "Split" + "axis 2 is out of range for rank 2"),
        ("split-uneven.onnx", op("Split", ["x"], ["a", "b", "c"], x24, [("a", [2, 1]), ("b", [2, 1]), ("c", [2, 1])], axis=1),
         N % "Split" + "axis 1 of size 4 does not split into 3 equal parts"),
        ("split-sum.onnx", op("Split", ["x", "s"], ["a", "b"], x24, [("a", [2, 1]), ("b", [2, 1])], {"s": np.array([1, 2], np.int64)}, axis=1),
         N % "Split" + "split sizes add up to 3, not axis 1's size 4"),
        ("split-negative.onnx", op("Split", ["x", "s"], ["a", "b"], x24, [("a", [2, 1]), ("b", [2, 1])], {"s": np.array([-1, 5], np.int64)}, axis=1),
         N % "Split" + "split sizes must be non-negative and add up to axis 1's size 4"),
        ("split-count.onnx", op("Split", ["x", "s"], ["a", "b"], x24, [("a", [2, 1]), ("b", [2, 1])], {"s": np.array([1, 1, 2], np.int64)}, axis=1),
         N % "Split" + "split has 3 entries but the node has 2 outputs"),
        ("split-attr-opset11.onnx", op("Split", ["x"], ["a", "b"], x24, [("a", [2, 1]), ("b", [2, 3])], opset=11, axis=1, split=[1, 4]),
         N % "Split" + "split sizes must be non-negative and add up to axis 1's size 4"),
        ("split-float.onnx", op("Split", ["x", "s"], ["a", "b"], x24, [("a", [2, 2]), ("b", [2, 2])], {"s": np.array([2, 2], np.float32)}, axis=1),
         N % "Split" + "the split input must be an integer constant"),
        # Slice
        ("slice-step-zero.onnx", op("Slice", ["x", "s", "e", "a", "st"], ["y"], x24, [("y", [2, 2])],
                                    {"s": np.array([0], np.int64), "e": np.array([2], np.int64), "a": np.array([1], np.int64), "st": np.array([0], np.int64)}),
         N % "Slice" + "slice step is 0"),
        ("slice-axis.onnx", op("Slice", ["x", "s", "e", "a"], ["y"], x24, [("y", [2, 2])],
                               {"s": np.array([0], np.int64), "e": np.array([2], np.int64), "a": np.array([5], np.int64)}),
         N % "Slice" + "axis 5 is out of range for rank 2"),
        ("slice-axis-twice.onnx", op("Slice", ["x", "s", "e", "a"], ["y"], x24, [("y", [1, 2])],
                                     {"s": np.array([0, 0], np.int64), "e": np.array([1, 2], np.int64), "a": np.array([1, -1], np.int64)}),
         N % "Slice" + "axis -1 appears twice"),
        ("slice-lengths.onnx", op("Slice", ["x", "s", "e"], ["y"], x24, [("y", [2, 2])],
                                  {"s": np.array([0, 0], np.int64), "e": np.array([2], np.int64)}),
         N % "Slice" + "starts, ends, axes and steps must have equal lengths"),
        ("slice-runtime.onnx", op("Slice", ["x", "s", "e"], ["y"], [("x", [2, 4]), ("s", [1], TensorProto.INT32)], [("y", [2, 2])],
                                  {"e": np.array([2], np.int64)}),
         N % "Slice" + "input 's' must be a small integer constant"),
        ("slice-no-ends.onnx", op("Slice", ["x", "s"], ["y"], x24, [("y", [2, 2])], {"s": np.array([0], np.int64)}),
         N % "Slice" + "starts, ends, axes and steps must have equal lengths"),
        ("slice-attr-lengths.onnx", op("Slice", ["x"], ["y"], x24, [("y", [2, 2])], opset=9, starts=[0, 0], ends=[1]),
         N % "Slice" + "starts, ends, axes and steps must have equal lengths"),
        # DepthToSpace, SpaceToDepth
        ("depthtospace-blocksize.onnx", op("DepthToSpace", ["x"], ["y"], x4(), [("y", [1, 4, 4, 4])], blocksize=0),
         N % "DepthToSpace" + "blocksize must be positive"),
        ("depthtospace-channels.onnx", op("DepthToSpace", ["x"], ["y"], x4((1, 6, 4, 4)), [("y", [1, 1, 8, 8])], blocksize=2),
         N % "DepthToSpace" + "channels (6) are not a multiple of blocksize^2 (4)"),
        ("depthtospace-mode.onnx", op("DepthToSpace", ["x"], ["y"], x4(), [("y", [1, 1, 8, 8])], blocksize=2, mode="RCD"),
         N % "DepthToSpace" + "mode 'RCD' is neither DCR nor CRD"),
        ("depthtospace-rank.onnx", op("DepthToSpace", ["x"], ["y"], [("x", [4, 4, 4])], [("y", [1, 8, 8])], blocksize=2),
         N % "DepthToSpace" + "the input must be 4-D, got rank 3"),
        ("depthtospace-no-blocksize.onnx", op("DepthToSpace", ["x"], ["y"], x4(), [("y", [1, 4, 4, 4])]),
         N % "DepthToSpace" + "blocksize must be positive"),
        ("spacetodepth-divisible.onnx", op("SpaceToDepth", ["x"], ["y"], x4((1, 1, 5, 4)), [("y", [1, 4, 2, 2])], blocksize=2),
         N % "SpaceToDepth" + "height and width (5) are not multiples of blocksize (2)"),
        ("spacetodepth-blocksize-huge.onnx", op("SpaceToDepth", ["x"], ["y"], x4(), [("y", [1, 4, 2, 2])], blocksize=1 << 40),
         N % "SpaceToDepth" + "blocksize must be positive"),
        # Elementwise
        ("max-shapes.onnx", op("Max", ["x", "z"], ["y"], [("x", [2, 4]), ("z", [3, 4])], y24), N % "Max" + "shapes of 'x' and 'z' do not broadcast"),
        ("min-shapes.onnx", op("Min", ["x", "z", "x"], ["y"], [("x", [2, 4]), ("z", [2, 3])], y24), N % "Min" + "shapes of 'x' and 'z' do not broadcast"),
        ("sum-none.onnx", op("Sum", [], ["y"], x24, y24), N % "Sum" + "input 0 is required but missing"),
        ("mean-shapes.onnx", op("Mean", ["x", "z"], ["y"], [("x", [2, 4]), ("z", [4, 2])], y24), N % "Mean" + "shapes of 'x' and 'z' do not broadcast"),
        ("prelu-slope.onnx", op("PRelu", ["x", "s"], ["y"], x24, y24, {"s": np.ones(3, np.float32)}), N % "PRelu" + "shapes of 'x' and 's' do not broadcast"),
        ("prelu-one-input.onnx", op("PRelu", ["x"], ["y"], x24, y24), N % "PRelu" + "input 1 is required but missing"),
        ("elu-alpha-int.onnx", op("Elu", ["x"], ["y"], x24, y24, alpha=2), N % "Elu" + "attribute 'alpha' must be FLOAT, not INT"),
        ("exp-int.onnx", op("Exp", ["x"], ["y"], [("x", [2, 4], TensorProto.INT32)], [("y", [2, 4], TensorProto.INT32)]), N % "Exp" + "input 'x' has element type INT32; this op is supported on FLOAT tensors only (quantized models use QuantizeLinear/DequantizeLinear or QLinear* ops)"),
        ("log-two-outputs.onnx", op("Log", ["x"], [], x24, y24), N % "Log" + "it has no output"),
        ("sqrt-no-input.onnx", op("Sqrt", [""], ["y"], x24, y24), N % "Sqrt" + "input 0 is required but missing"),
        ("reciprocal-bool.onnx", op("Reciprocal", ["x"], ["y"], [("x", [2, 4], BOOL)], y24), N % "Reciprocal" + "input 'x' has element type BOOL; this op is supported on FLOAT tensors only (quantized models use QuantizeLinear/DequantizeLinear or QLinear* ops)"),
        ("pow-shapes.onnx", op("Pow", ["x", "e"], ["y"], x24, y24, {"e": np.ones(3, np.float32)}), N % "Pow" + "shapes of 'x' and 'e' do not broadcast"),
        ("erf-int8.onnx", op("Erf", ["x"], ["y"], [("x", [2, 4], I8T)], [("y", [2, 4], I8T)]), N % "Erf" + "input 'x' has element type INT8; this op is supported on FLOAT tensors only (quantized models use QuantizeLinear/DequantizeLinear or QLinear* ops)"),
        ("abs-undefined.onnx", op("Abs", ["nowhere"], ["y"], x24, y24), N % "Abs" + "input 'nowhere' is not defined by any node, graph input or initializer (missing initializer?)"),
        ("neg-rank7.onnx", op("Neg", ["x"], ["y"], [("x", [1] * 7)], [("y", [1] * 7)]), "graph input 'x' has rank 7, more than the maximum of 6"),
        # Reductions
        ("reducemean-axis.onnx", op("ReduceMean", ["x"], ["y"], x24, y24, axes=[2]), N % "ReduceMean" + "axis 2 is out of range for rank 2"),
        ("reducesum-axis-twice.onnx", op("ReduceSum", ["x", "a"], ["y"], x24, [("y", [2, 1])], {"a": np.array([1, -1], np.int64)}),
         N % "ReduceSum" + "axis -1 appears twice"),
        ("reducesum-runtime-axes.onnx", op("ReduceSum", ["x", "a"], ["y"], [("x", [2, 4]), ("a", [1], TensorProto.INT32)], [("y", [2, 1])]),
         N % "ReduceSum" + "the axes input 'a' must be a constant (initializer)"),
        ("reducemax-too-many-axes.onnx", op("ReduceMax", ["x"], ["y"], x24, y24, axes=[0, 1, 0, 1, 0, 1, 0]), N % "ReduceMax" + "too many axes"),
        ("reducesum-float-axes.onnx", op("ReduceSum", ["x", "a"], ["y"], x24, [("y", [2, 1])], {"a": np.array([1.0], np.float32)}),
         N % "ReduceSum" + "the axes input must hold at most 6 integers"),
        ("reducemin-axis.onnx", op("ReduceMin", ["x"], ["y"], x24, y24, axes=[-3]), N % "ReduceMin" + "axis -3 is out of range for rank 2"),
        # LayerNormalization, Softmax
        ("layernorm-axis.onnx", op("LayerNormalization", ["x", "g"], ["y"], x24, y24, {"g": np.ones(4, np.float32)}, opset=17, axis=2),
         N % "LayerNormalization" + "axis 2 is out of range for rank 2"),
        ("layernorm-scale.onnx", op("LayerNormalization", ["x", "g"], ["y"], x24, y24, {"g": np.ones(3, np.float32)}, opset=17),
         N % "LayerNormalization" + "Scale 'g' must hold the 4 elements of the normalized dims"),
        ("layernorm-bias.onnx", op("LayerNormalization", ["x", "g", "b"], ["y"], x24, y24, {"g": np.ones(4, np.float32), "b": np.ones(2, np.float32)}, opset=17),
         N % "LayerNormalization" + "B 'b' must hold the 4 elements of the normalized dims"),
        ("layernorm-epsilon.onnx", op("LayerNormalization", ["x", "g"], ["y"], x24, y24, {"g": np.ones(4, np.float32)}, opset=17, epsilon=-1.0),
         N % "LayerNormalization" + "epsilon must be finite and non-negative, got -1"),
        ("layernorm-opset16.onnx", op("LayerNormalization", ["x", "g"], ["y"], x24, y24, {"g": np.ones(4, np.float32)}, opset=16),
         "node 'n' (LayerNormalization, ai.onnx opset 16): qnnc imports LayerNormalization at opsets 17 to 19"),
        ("softmax-axis-negative.onnx", op("Softmax", ["x"], ["y"], x24, y24, axis=-3), N % "Softmax" + "axis -3 is out of range for rank 2"),
        ("softmax-int.onnx", op("Softmax", ["x"], ["y"], [("x", [2, 4], TensorProto.INT32)], [("y", [2, 4], TensorProto.INT32)]), N % "Softmax" + "input 'x' has element type INT32; this op is supported on FLOAT tensors only (quantized models use QuantizeLinear/DequantizeLinear or QLinear* ops)"),
        # Comparisons, Where, Not, If
        ("equal-shapes.onnx", op("Equal", ["x", "z"], ["y"], [("x", [2, 4]), ("z", [3])], [("y", [2, 4], BOOL)]), N % "Equal" + "shapes of 'x' and 'z' do not broadcast"),
        ("greater-one-input.onnx", op("Greater", ["x"], ["y"], x24, [("y", [2, 4], BOOL)]), N % "Greater" + "input 1 is required but missing"),
        ("greaterorequal-opset11.onnx", op("GreaterOrEqual", ["x", "x"], ["y"], x24, [("y", [2, 4], BOOL)], opset=11),
         "node 'n' (GreaterOrEqual, ai.onnx opset 11): qnnc imports GreaterOrEqual at opsets 12 to 19"),
        ("less-types.onnx", op("Less", ["x", "z"], ["y"], [("x", [2, 4]), ("z", [2, 4], TensorProto.INT32)], [("y", [2, 4], BOOL)]), N % "Less" + "operands have different element types FLOAT and INT32"),
        ("lessorequal-shapes.onnx", op("LessOrEqual", ["x", "z"], ["y"], [("x", [2, 4]), ("z", [2, 2])], [("y", [2, 4], BOOL)]), N % "LessOrEqual" + "shapes of 'x' and 'z' do not broadcast"),
        ("where-cond-float.onnx", op("Where", ["x", "x", "x"], ["y"], x24, y24), N % "Where" + "input 'x' has element type FLOAT, but BOOL is required"),
        ("where-shapes.onnx", op("Where", ["c", "x", "z"], ["y"], [("c", [2, 4], BOOL), ("x", [2, 4]), ("z", [3, 4])], y24), N % "Where" + "shapes of 'x' and 'z' do not broadcast"),
        ("where-two-inputs.onnx", op("Where", ["c", "x"], ["y"], [("c", [2, 4], BOOL), ("x", [2, 4])], y24), N % "Where" + "input 2 is required but missing"),
        ("not-float.onnx", op("Not", ["x"], ["y"], x24, y24), N % "Not" + "input 'x' has element type FLOAT, but BOOL is required"),
        ("if-no-branches.onnx", op("If", ["c"], ["y"], [("x", [2, 4])], y24, {"c": np.array(True)}), N % "If" + "then_branch and else_branch must both be graphs"),
        ("if-cond-shape.onnx", if_model(np.array([True, False])), N % "If" + "the condition 'c' must hold exactly one element, not 2"),
        ("if-branch-outputs.onnx", if_model(np.array(True), outs=2), N % "If" + "then_branch has 2 outputs but the node has 1"),
        ("if-branch-no-op-type.onnx", if_model(np.array(True), no_op_type=True), "node 'relut' has no op_type"),
        ("if-branch-input.onnx", if_model(np.array(True), branch_in=True), N % "If" + "then_branch has inputs; an If branch takes none"),
        # com.microsoft QOperator ops
        ("qlinearadd-missing.onnx", ms_q("QLinearAdd", ["a", "a_s", "a_z", "b", "b_s", "b_z"], qa, qy, cat(qp("a"), qp("b"))),
         N % "QLinearAdd" + "input 6 is required but missing"),
        ("qlinearadd-scale-zero.onnx", ms_q("QLinearAdd", ["a", "a_s", "a_z", "b", "b_s", "b_z", "y_s", "y_z"], qa, qy, cat(qp("a", 0.0), qp("b"), qp("y"))),
         N % "QLinearAdd" + "scale 0 (entry 0) must be finite and positive"),
        ("qlinearadd-shapes.onnx", ms_q("QLinearAdd", ["a", "a_s", "a_z", "b", "b_s", "b_z", "y_s", "y_z"], [("a", [1, 4], I8T), ("b", [3, 1, 2], I8T)], qy,
                                        cat(qp("a"), qp("b"), qp("y"))), N % "QLinearAdd" + "shapes of 'a' and 'b' do not broadcast"),
        ("qlinearmul-zp-type.onnx", ms_q("QLinearMul", ["a", "a_s", "a_z", "b", "b_s", "b_z", "y_s", "y_z"], qa, qy, cat(qp("a", t=np.uint8), qp("b"), qp("y"))),
         N % "QLinearMul" + "zero point type UINT8 differs from the type INT8 of input 'a'"),
        ("qlinearmul-float.onnx", ms_q("QLinearMul", ["a", "a_s", "a_z", "b", "b_s", "b_z", "y_s", "y_z"], [("a", [1, 4]), ("b", [1, 4])], qy, cat(qp("a"), qp("b"), qp("y"))),
         N % "QLinearMul" + "tensor 'a' is FLOAT where an integer tensor is expected"),
        ("qlinearsigmoid-scale-vector.onnx", ms_q("QLinearSigmoid", ["a", "a_s", "a_z", "y_s", "y_z"], qa[:1], qy,
                                                  cat({"a_s": np.array([0.1, 0.2], np.float32), "a_z": np.array(0, np.int8)}, qp("y"))),
         N % "QLinearSigmoid" + "scale and zero point must be scalars or 1-D tensors of equal length"),
        ("qlinearleakyrelu-alpha.onnx", ms_q("QLinearLeakyRelu", ["a", "a_s", "a_z", "y_s", "y_z"], qa[:1], qy, cat(qp("a"), qp("y")), alpha=1),
         N % "QLinearLeakyRelu" + "attribute 'alpha' must be FLOAT, not INT"),
        ("qlinearaveragepool-kernel.onnx", ms_q("QLinearAveragePool", ["a", "a_s", "a_z", "y_s", "y_z"], [("a", [1, 2, 4, 4], I8T)], [("y", [1, 2, 4, 4], I8T)],
                                                cat(qp("a"), qp("y")), kernel_shape=[0, 0]),
         N % "QLinearAveragePool" + "kernel, strides and dilations must be positive and pads non-negative (and all below 2^24)"),
        ("qlinearglobalaveragepool-rank.onnx", ms_q("QLinearGlobalAveragePool", ["a", "a_s", "a_z", "y_s", "y_z"], [("a", [4], I8T)], [("y", [4], I8T)],
                                                    cat(qp("a"), qp("y"))), N % "QLinearGlobalAveragePool" + "only 1-D and 2-D pooling is supported (input has rank 1)"),
        ("qlinearconcat-axis.onnx", ms_q("QLinearConcat", ["y_s", "y_z", "a", "a_s", "a_z", "b", "b_s", "b_z"], qa, [("y", [1, 8], I8T)],
                                         cat(qp("a"), qp("b"), qp("y")), axis=3), N % "QLinearConcat" + "axis 3 is out of range for rank 2"),
        ("qlinearconcat-shapes.onnx", ms_q("QLinearConcat", ["y_s", "y_z", "a", "a_s", "a_z", "b", "b_s", "b_z"], [("a", [1, 4], I8T), ("b", [2, 4], I8T)],
                                           [("y", [1, 8], I8T)], cat(qp("a"), qp("b"), qp("y")), axis=1), N % "QLinearConcat" + "input shapes differ outside axis 1"),
        ("qgemm-shapes.onnx", ms_q("QGemm", ["a", "a_s", "a_z", "b", "b_s", "b_z", "", "y_s", "y_z"], qa[:1], [("y", [1, 3], I8T)],
                                   cat(qp("a"), qp("b"), qp("y"), {"b": np.ones((5, 3), np.int8)})), N % "QGemm" + "A has 4 columns but B' has 5 rows"),
        ("qgemm-bias-shape.onnx", ms_q("QGemm", ["a", "a_s", "a_z", "b", "b_s", "b_z", "c", "y_s", "y_z"], qa[:1], [("y", [1, 3], I8T)],
                                       cat(qp("a"), qp("b"), qp("y"), {"b": np.ones((4, 3), np.int8), "c": np.ones(7, np.int32)})), N % "QGemm" + "the quantized bias must have shape [3]"),
        ("qgemm-missing.onnx", ms_q("QGemm", ["a", "a_s", "a_z", "b", "b_s"], qa[:1], [("y", [1, 3], I8T)],
                                    cat(qp("a"), qp("b"), {"b": np.ones((4, 3), np.int8)})), N % "QGemm" + "input 5 is required but missing"),
        ("qgemm-transa.onnx", ms_q("QGemm", ["a", "a_s", "a_z", "b", "b_s", "b_z", "", "y_s", "y_z"], qa[:1], [("y", [1, 3], I8T)],
                                   cat(qp("a"), qp("b"), qp("y"), {"b": np.ones((4, 3), np.int8)}), transA=1), N % "QGemm" + "transA=1 and alpha other than 1 are not supported"),
    ]

# ---------------------------------------------------------------- textual IR

QIR_OK = b"graph @g {\n  input %x : f32[2,3]\n  %y = relu(%x) : f32[2,3]\n  output %y\n}\n"


def qir(body):
    return ("graph @g {\n" + body + "}\n").encode()


def qir_cases():
    return [
        ("empty.qir", b"", "expected 'graph'"),
        ("truncated.qir", QIR_OK[:40], "expected an op name"),
        ("binary.qir", b"\x00\xff\xfe graph", "unexpected NUL byte"),
        ("unknown-op.qir", qir("  input %x : f32[2]\n  %y = frobnicate(%x) : f32[2]\n  output %y\n"), "unknown op 'frobnicate'"),
        ("arity.qir", qir("  input %x : f32[2]\n  %y = add(%x) : f32[2]\n  output %y\n"), "op 'add' expects 2 operands but got 1"),
        ("negative-dim.qir", qir("  input %x : f32[2,-3]\n  output %x\n"), "negative dimension -3"),
        ("overflow64-dims.qir", qir("  input %x : i8[4294967296,4294967296,4294967296]\n  output %x\n"), "tensor size overflows int64"),
        ("rank7.qir", qir("  input %x : f32[1,1,1,1,1,1,1]\n  output %x\n"), "tensor rank exceeds the maximum of 6"),
        ("undefined-value.qir", qir("  input %x : f32[2]\n  %y = add(%x, %ghost) : f32[2]\n  output %y\n"), "use of undefined value '%ghost'"),
        ("redefined-value.qir", qir("  input %x : f32[2]\n  %x = relu(%x) : f32[2]\n  output %x\n"), "redefinition of value '%x'"),
        ("use-before-def.qir", qir("  input %x : f32[2]\n  %a = relu(%b) : f32[2]\n  %b = relu(%a) : f32[2]\n  output %b\n"),
         "use of undefined value '%b'"),
        ("conv-stride-zero.qir", qir("  input %x : f32[1,4,4,1]\n  const %w : f32[1,1,1,1] = [1.0]\n"
                                     "  %y = conv2d(%x, %w) {strides=[0, 0]} : f32[1,4,4,1]\n  output %y\n"), "conv2d: strides[0] is 0; strides must be positive"),
        ("const-count.qir", qir("  const %w : f32[4] = [1.0, 2.0]\n  output %w\n"), "constant 'w' has 2 elements but its type has 4"),
        ("const-out-of-range.qir", qir("  const %w : i8[2] = [1, 300]\n  output %w\n"), "value 300 is out of range for i8"),
        ("verify-shape.qir", qir("  input %x : f32[2,3]\n  %y = relu(%x) : f32[3,2]\n  output %y\n"), "relu: result shape [3,2] does not match the expected [2,3]"),
        ("conv-group-zero.qir", qir("  input %x : f32[1,4,4,1]\n  const %w : f32[1,1,1,1] = [1.0]\n"
                                   "  %y = conv2d(%x, %w) {group=0} : f32[1,4,4,1]\n  output %y\n"), "conv2d: group is 0; it must be at least 1"),
        ("zero-scale.qir", qir("  input %x : i8[2] q(0.0, 0)\n  output %x\n"), "%x: scale 0 (entry 0) must be finite and positive"),
        ("nan-scale.qir", qir("  input %x : i8[2] q(nan, 0)\n  output %x\n"), "%x: scale nan (entry 0) must be finite and positive"),
        ("zero-point-range.qir", qir("  input %x : i8[2] q(0.5, 300)\n  output %x\n"), "%x: zero point 300 (entry 0) is outside the i8 range [-128, 127]"),
        ("unterminated-string.qir", qir('  const %w : f32[4] = file("weights.bin\n  output %w\n'), "unterminated string"),
        ("missing-sidecar.qir", qir('  const %w : f32[4] = file("no-such-sidecar.bin", offset=0)\n  output %w\n'),
         "cannot read sidecar file '{{.*}}/no-such-sidecar.bin': No such file or directory"),
        ("huge-sidecar-offset.qir", qir('  const %w : f32[4] = file("../model.qir", offset=9223372036854775807)\n  output %w\n'),
         "sidecar file '{{.*}}/model.qir' is too short: 16 bytes at offset 9223372036854775807, but it has 74 bytes"),
        ("no-output.qir", qir("  input %x : f32[2]\n"), "graph '@g' has no output statement"),
        ("huge-int.qir", qir("  input %x : f32[99999999999999999999999]\n  output %x\n"), "integer literal is out of range"),
    ]

# ---------------------------------------------------------------- TOML


def toml_cases():
    return [
        ("syntax.toml", b"[model\nbatch = 1\n", "TOML syntax error in table header: expected ']', saw '\\n'"),
        ("binary.toml", b"\x00\x01\x02\xff\xfe", "TOML syntax error: Encountered invalid utf-8 sequence"),
        ("bad-utf8.toml", b"[model]\nname = \"\xc3\x28\"\n", "TOML syntax error: Encountered invalid utf-8 sequence"),
        ("batch-string.toml", b"[model]\nbatch = \"4\"\n", "'batch' must be an integer, not a string"),
        ("batch-negative.toml", b"[model]\nbatch = -4\n", "'batch' must be at least 1, not -4"),
        ("batch-overflow.toml", b"[model]\nbatch = 99999999999999999999999\n", "TOML syntax error in decimal integer: '99999999999999999999999' is not representable in 64 bits"),
        ("unknown-key.toml", b"[model]\nbatchsize = 1\n", "unknown key 'batchsize' in [model]"),
        ("unknown-section.toml", b"[modle]\nbatch = 1\n", "unknown section [modle]; did you mean [model]?"),
        ("duplicate-key.toml", b"[model]\nbatch = 1\nbatch = 2\n", "TOML syntax error in key-value pair: cannot redefine existing integer 'batch'"),
        ("emit-unknown.toml", b"[output]\nemit = [\"elf\"]\n", "each entry of 'emit' must be one of \"obj\", \"asm\", \"llvm\", \"qir\", \"header\" or \"exe\", not \"elf\""),
        ("percentile-range.toml", b"[calibration]\npercentile = 150.0\n", "'percentile' must be in the range (0, 100], not 150"),
        ("percentile-nan.toml", b"[calibration]\npercentile = nan\n", "'percentile' must be in the range (0, 100], not nan"),
        ("dataset-int.toml", b"[calibration]\ndataset = 5\n", "'dataset' must be a string or an array of strings, not an integer"),
        ("tile-negative.toml", b"[passes]\ntile_m = -1\n", "'tile_m' must be between 1 and 65536, not -1"),
        ("override-no-node.toml", b"[[quantization.override]]\ndtype = \"f32\"\n", "[[quantization.override]] needs a 'node' key"),
        ("model-table-array.toml", b"[[model]]\nbatch = 1\n", "'model' must be a table ([model]), not an array"),
        ("max-memory-string.toml", b"[limits]\nmax_memory = \"lots\"\n", "'max_memory' must be an integer, not a string"),
        ("max-memory-zero.toml", b"[limits]\nmax_memory = 0\n", "'max_memory' must be at least 1, not 0"),
    ]

# ---------------------------------------------------------------- .npy (for f32[2,3])


def npy_bytes(arr, **kw):
    b = io.BytesIO()
    np.save(b, arr, **kw)
    return b.getvalue()


def npy_with_header(header, data=b"", version=1):
    h = header.encode()
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(h)) + h + data


def npy_cases():
    good = npy_bytes(np.zeros((2, 3), np.float32))
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }"
    return [
        ("empty.npy", b"", "not a .npy file (bad magic)"),
        ("bad-magic.npy", b"\x93NUMPZ" + good[6:], "not a .npy file (bad magic)"),
        ("truncated-header.npy", good[:20], "truncated header"),
        ("truncated-data.npy", good[:-4], "file is shorter than its shape says"),
        ("header-len-beyond-file.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr'", "truncated header"),
        ("v2-header-len-huge.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{'descr'", "truncated header"),
        ("bad-version.npy", b"\x93NUMPY\x09\x00" + good[8:], "unsupported .npy version"),
        ("complex.npy", npy_bytes(np.zeros((2, 3), np.complex64)), "element type does not match: expected f32[2,3]"),
        ("object.npy", npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (2, 3), }"), "element type does not match: expected f32[2,3]"),
        ("fortran.npy", npy_bytes(np.asfortranarray(np.zeros((2, 3), np.float32))), "Fortran-order arrays are not supported; save with order='C'"),
        ("wrong-shape.npy", npy_bytes(np.zeros((3, 2), np.float32)), "shape does not match: expected f32[2,3]"),
        ("wrong-dtype.npy", npy_bytes(np.zeros((2, 3), np.int16)), "element type does not match: expected f32[2,3]"),
        ("big-endian.npy", npy_bytes(np.zeros((2, 3), ">f4")), "element type does not match: expected f32[2,3]"),
        ("negative-shape.npy", npy_with_header(hdr % "(2, -3)", b"\0" * 24), "header has a malformed or unsupported 'shape'"),
        ("overflow64-shape.npy", npy_with_header(hdr % "(4294967296, 4294967296, 4294967296)"), "shape does not match: expected f32[2,3]"),
        ("huge-dim.npy", npy_with_header(hdr % "(99999999999999999999999, 3)"), "header has a malformed or unsupported 'shape'"),
        ("garbage-dict.npy", npy_with_header("{{{{{{{{{{{{{{{{", b"\0" * 24), "header has no 'descr'"),
        ("no-descr.npy", npy_with_header("{'fortran_order': False, 'shape': (2, 3), }", b"\0" * 24), "header has no 'descr'"),
    ]

# ---------------------------------------------------------------- ONNX TensorProto .pb (for f32[2,3])


def pb_cases():
    t = numpy_helper.from_array(np.zeros((2, 3), np.float32), "x").SerializeToString()
    ext = tensor("x", [2, 3])
    ext.data_location = TensorProto.EXTERNAL
    ext.external_data.add(key="location", value="x.bin")
    return [
        ("garbage.pb", b"\xff" * 16, "not a valid ONNX TensorProto (protobuf parse failed)"),
        ("truncated.pb", t[:len(t) - 5], "not a valid ONNX TensorProto (protobuf parse failed)"),
        ("wrong-dtype.pb", numpy_helper.from_array(np.zeros((2, 3), np.int16), "x").SerializeToString(), "element type does not match: expected f32[2,3], got INT16 with 2 dimensions"),
        ("wrong-shape.pb", numpy_helper.from_array(np.zeros((3, 2), np.float32), "x").SerializeToString(), "shape does not match: expected f32[2,3], got FLOAT with 2 dimensions"),
        ("short-raw.pb", tensor("x", [2, 3], raw=b"\0" * 23).SerializeToString(), "tensor 'x': raw_data has 23 bytes but shape and type need 24"),
        ("negative-dim.pb", tensor("x", [2, -3], raw=b"").SerializeToString(), "tensor 'x': dimension 1 is negative (-3)"),
        ("overflow64.pb", tensor("x", [1 << 40, 1 << 40], raw=b"").SerializeToString(), "tensor 'x': element count of shape overflows (more than 2147483648 elements)"),
        ("huge-no-data.pb", tensor("x", [1 << 15, 1 << 15], raw=b"").SerializeToString(), "tensor 'x': raw_data has 0 bytes but shape and type need 4294967296"),
        ("external.pb", ext.SerializeToString(), "tensor 'x': external data is not allowed here"),
        ("undefined-type.pb", tensor("x", [2, 3], TensorProto.UNDEFINED, raw=b"\0" * 24).SerializeToString(),
         "tensor 'x': element type UNDEFINED (0) is not supported"),
    ]

# ---------------------------------------------------------------- IDX (for f32[1,2,2,1])


def idx(code, dims, payload=b""):
    return struct.pack(">BBBB", 0, 0, code, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_cases():
    ok = idx(0x08, [3, 2, 2], bytes(range(12)))
    return [
        ("empty.idx", b"", "truncated IDX file: no complete header"),
        ("bad-magic.idx", b"\x01\x02" + ok[2:], "not an IDX file: bad magic 0x01020803 (expected 0x00000TRR: type 08, 09, 0b, 0c, 0d or 0e, rank >= 1)"),
        ("bad-type.idx", idx(0x07, [3, 2, 2], bytes(12)), "not an IDX file: bad magic 0x00000703 (expected 0x00000TRR: type 08, 09, 0b, 0c, 0d or 0e, rank >= 1)"),
        ("rank-zero.idx", idx(0x08, []), "not an IDX file: bad magic 0x00000800 (expected 0x00000TRR: type 08, 09, 0b, 0c, 0d or 0e, rank >= 1)"),
        ("truncated-dims.idx", ok[:9], "truncated IDX file: no complete header"),
        ("short-data.idx", ok[:-5], "truncated IDX file: the header promises 3 samples of 2x2 but the data ends after 1"),
        ("huge-count.idx", idx(0x08, [0xFFFFFFFF, 2, 2], bytes(8)), "truncated IDX file: the header promises 4294967295 samples of 2x2 but the data ends after 2"),
        ("overflow-sample.idx", idx(0x0E, [1, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF]), "IDX sample size overflows"),
        ("no-samples.idx", idx(0x08, [0, 2, 2]), "the IDX file holds no samples"),
        ("wrong-sample.idx", idx(0x08, [2, 3, 3], bytes(18)), "one sample is 3x3 (9 elements) but input '%x' is f32[1,2,2,1] (4 elements)"),
        ("corrupt.idx.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 20, "corrupt gzip data: {{.*}}corrupt.idx.gz: invalid block type"),
        ("truncated.idx.gz", gzip.compress(ok, mtime=0)[:-12], "truncated IDX file: the header promises 3 samples of 2x2 but the data ends after 2"),
        ("gzip-short-data.idx.gz", gzip.compress(ok[:-5], mtime=0), "truncated IDX file: the header promises 3 samples of 2x2 but the data ends after 1"),
    ]


FORMATS = [
    # name, cases, RUN command (FILE: the input), what the lit file says
    ("onnx", onnx_cases, "%error qnnc FILE --emit=qir -o %t.qir",
     "ONNX models: truncated, wrong types, absurd and negative dimensions, element counts\n"
     "# overflowing 64 bits, missing or duplicated tensors, cycles, unknown ops, bad attributes."),
    ("onnx-ops", op_cases, "%error qnnc FILE --emit=qir -o %t.qir",
     "ONNX nodes of the ops added in issue 12: bad attribute values, inconsistent shapes,\n"
     "# axes and indices out of range, wrong input counts."),
    ("qir", qir_cases, "%error qnnc FILE --emit=qir -o %t.qir",
     "Textual IR: truncated, binary, unknown ops, bad shapes, types, values, constants, sidecars."),
    ("toml", toml_cases, "%error qnnc --config FILE --print-config",
     "TOML compile configurations: syntax, wrong types and keys, values out of range."),
    ("npy", npy_cases, "%error qnnc-run %S/Inputs/model.qir --input FILE --print",
     ".npy inputs for an f32[2,3] input: truncated, bad header, wrong or unsupported types and shapes."),
    ("pb", pb_cases, "%error qnnc-run %S/Inputs/model.qir --input FILE --print",
     "ONNX TensorProto (.pb) inputs for an f32[2,3] input."),
    ("idx", idx_cases, "%error qnnc-opt %S/Inputs/img.qir --config=FILE.toml --passes=calibrate",
     "IDX calibration data (plain and gzip) for an f32[1,2,2,1] input, through the calibrate pass."),
]


def main():
    if os.path.isdir(INPUTS):
        shutil.rmtree(INPUTS)
    os.makedirs(INPUTS)
    with open(os.path.join(INPUTS, "model.qir"), "wb") as f:
        f.write(QIR_OK)
    with open(os.path.join(INPUTS, "img.qir"), "w") as f:
        f.write("graph @img {\n  input %x : f32[1,2,2,1]\n  %r = relu(%x) : f32[1,2,2,1]\n  output %r\n}\n")
    total = 0
    for fmt, cases, cmd, what in FORMATS:
        d = os.path.join(INPUTS, fmt)
        os.makedirs(d)
        lines = ["# Malformed %s" % what,
                 "# Generated by gen.py (with the inputs in Inputs/%s/): edit that, not this." % fmt,
                 "# Each input has one defect and gets one error, exit status 1, no crash.", ""]
        for i, (name, data, msg) in enumerate(cases()):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            if fmt == "idx":
                with open(os.path.join(d, name + ".toml"), "w") as f:
                    f.write('[calibration]\ndataset = "%s"\nformat = "idx"\n' % name)
            prefix = "C%d" % i
            run = cmd.replace("FILE", "%%S/Inputs/%s/%s" % (fmt, name))
            lines.append("# RUN: %s 2>&1 | FileCheck %%s --check-prefix=%s --implicit-check-not=error:" % (run, prefix))
            # FileCheck reads [[...]] as a variable; messages name [[tables]].
            msg = msg.replace("[[", "{{\\[\\[}}")
            lines.append("# %s: %s{{(:[0-9]+:[0-9]+)?}}: error: %s" % (prefix, name.replace(".", "{{[.]}}"), msg))
            total += 1
        with open(os.path.join(HERE, fmt + ".test"), "w") as f:
            f.write("\n".join(lines) + "\n")
    print("%d malformed inputs" % total)


if __name__ == "__main__":
    main()
