"""The Fashion-MNIST model's logits from PyTorch against qnnc-run's, for
fashion-mnist.test:  torch_logits.py MODEL.onnx QNNC_LOGITS.npy

PyTorch runs the ONNX graph node by node with its own float32 kernels
(torch.nn.functional: conv2d, batch_norm, max_pool2d, avg_pool2d, pad,
linear), on the same 10,000 test images (pixels / 255 in float32), with
the ONNX file's initializers as weights; no qnnc code is involved.  The
logits must agree within 1e-4 absolute on every image and class (float32
with different summation orders)."""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "fashion_mnist"))
import reference  # noqa: E402  (reads the test images only)

TOL = 1e-4

torch.set_num_threads(1)
model = onnx.load(sys.argv[1])
weights = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in model.graph.initializer}


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run(x):
    """The graph's output for the images X, node by node."""
    env = dict(weights)
    env[model.graph.input[0].name] = torch.from_numpy(x)
    for node in model.graph.node:
        a, i = attrs(node), [env[n] for n in node.input if n]
        op = node.op_type
        if op == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=a.get("strides", [1, 1]),
                         padding=(p[0], p[1]), dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
        elif op == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], training=False, eps=a.get("epsilon", 1e-5))
        elif op == "Relu":
            y = F.relu(i[0])
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "MaxPool":
            assert not any(a.get("pads", [0]))
            y = F.max_pool2d(i[0], a["kernel_shape"], a["strides"])
        elif op == "AveragePool":
            assert not any(a.get("pads", [0]))
            y = F.avg_pool2d(i[0], a["kernel_shape"], a["strides"])
        elif op == "Constant":
            y = torch.from_numpy(onnx.numpy_helper.to_array(a["value"]).copy())
        elif op == "Pad":
            pads = i[1].tolist()  # ONNX [b0, b1, ..., e0, e1, ...]
            r = len(pads) // 2
            tp = []
            for d in reversed(range(r)):
                tp += [pads[d], pads[d + r]]
            y = F.pad(i[0], tp, mode="constant", value=0.0)
        elif op == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif op == "Gemm":
            assert a.get("transB") == 1 and a.get("alpha", 1) == 1 and a.get("beta", 1) == 1
            y = F.linear(i[0], i[1], i[2])
        else:
            sys.exit("torch_logits.py: no rule for ONNX %s" % op)
        env[node.output[0]] = y
    return env[model.graph.output[0].name].numpy().astype(np.float64)


# A thousand images at a time: the whole set at once holds ~0.5 GB per
# activation tensor.
images = reference.images_f32()
with torch.no_grad():
    t = np.concatenate([run(images[k:k + 1000]) for k in range(0, len(images), 1000)])
q = np.load(sys.argv[2]).astype(np.float64)
d = np.abs(t - q)
labels = reference.read_idx(reference.LABELS)
print("logits: %d images, max |qnnc-run - PyTorch| %.2e (max |logit| %.1f), %d values beyond %g"
      % (len(t), d.max(), np.abs(t).max(), int((d > TOL).sum()), TOL))
print("PyTorch top-1 accuracy %.2f%%, same class as qnnc-run on %.2f%% of images"
      % (100 * (t.argmax(1) == labels).mean(), 100 * (t.argmax(1) == q.argmax(1)).mean()))
