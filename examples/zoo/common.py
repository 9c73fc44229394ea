"""Shared helpers for the model-zoo training scripts: the Debian Fashion-MNIST
data, a classifier training loop, the ONNX export and a summary of the
exported file (op histogram, parameters, multiply-accumulates).

Every script imports this file from its own directory; none of it is needed
to compile the exported models.
"""
import collections
import gzip
import os
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx(name):
    """An IDX file (the MNIST format: big-endian magic, dims, then bytes)."""
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    """(images, labels) of "train" or "t10k": float [N,1,28,28] in [0, 1], int64 [N]."""
    x = read_idx(f"{split}-images-idx3-ubyte.gz")
    y = read_idx(f"{split}-labels-idx1-ubyte.gz")
    return (torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1),
            torch.from_numpy(y.astype(np.int64)))


def setup(seed, threads=2):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


def predict(model, x, batch=500):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])


def steps_for_budget(make_model, step, minutes, probe=6):
    """How many training steps fit in MINUTES, timed on a throwaway model
    (the machine is shared, so this is measured, then printed so that a
    rerun can pass --steps and train exactly the same way)."""
    model = make_model()
    opt = torch.optim.AdamW(model.parameters())
    step(model, opt, 0)
    t0 = time.time()
    for i in range(probe):
        step(model, opt, i)
    dt = (time.time() - t0) / probe
    n = max(50, int(minutes * 60 / dt))
    print(f"{dt:.2f} s a step: {n} steps in {minutes} min", flush=True)
    return n


def train_steps(model, steps, lr, loss_fn, batches, evaluate, wd=1e-4, every=None,
                checkpoint=None, phase=0, before=0.0):
    """AdamW with a one-cycle learning rate for a fixed number of steps.
    batches(i) gives step i's batch, loss_fn(model, batch) its loss.
    With CHECKPOINT (a file name), the whole training state (model,
    optimizer, schedule, batch order, random generator) is saved there
    every EVERY steps and, if the file exists, training resumes from it:
    a run stopped and started again with the same command ends with the
    same weights.  PHASE numbers successive calls sharing one checkpoint
    (training, then fine-tuning): a checkpoint of a later phase skips this
    one (the later call loads the model); BEFORE is the seconds the earlier
    phases took, kept in the checkpoint.
    Returns (evaluate(model), seconds)."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.2)
    every = every or max(1, steps // 20)
    start, secs0 = 0, 0.0
    if checkpoint and os.path.exists(checkpoint):
        ck = torch.load(checkpoint)
        if ck["phase"] > phase:
            print(f"  phase {phase} done (checkpoint {checkpoint} is of phase {ck['phase']})", flush=True)
            return None, ck["before"]
        if ck["phase"] == phase:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["opt"])
            sched.load_state_dict(ck["sched"])
            batches.set_state(ck["order"])
            torch.set_rng_state(ck["rng"])
            start, secs0 = ck["step"], ck["secs"]
            print(f"  resuming phase {phase} at step {start + 1}/{steps} from {checkpoint}", flush=True)
    t0 = time.time() - secs0
    for i in range(start, steps):
        model.train()
        loss = loss_fn(model, batches(i))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if i % every == 0 or i == steps - 1:
            print(f"  step {i + 1}/{steps}: loss {loss.item():.3f}, {time.time() - t0:.0f} s", flush=True)
        if checkpoint and ((i + 1) % every == 0 or i == steps - 1):
            ck = {"phase": phase, "step": i + 1, "model": model.state_dict(), "opt": opt.state_dict(),
                  "sched": sched.state_dict(), "order": batches.get_state(),
                  "rng": torch.get_rng_state(), "secs": time.time() - t0, "before": before}
            torch.save(ck, checkpoint + ".tmp")
            os.replace(checkpoint + ".tmp", checkpoint)
    secs = time.time() - t0
    return evaluate(model), before + secs


class Shuffled:
    """Batches of a fixed seeded permutation of the training set, epoch after epoch."""

    def __init__(self, n, batch, seed):
        self.n, self.batch = n, batch
        self.g = torch.Generator().manual_seed(seed)
        self.perm = torch.randperm(n, generator=self.g)
        self.pos = 0

    def __call__(self, i):
        if self.pos + self.batch > self.n:
            self.perm, self.pos = torch.randperm(self.n, generator=self.g), 0
        idx = self.perm[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx

    def get_state(self):
        return {"perm": self.perm, "pos": self.pos, "g": self.g.get_state()}

    def set_state(self, st):
        self.perm, self.pos = st["perm"], st["pos"]
        self.g.set_state(st["g"])


def train_classifier(make_model, seed, lr, batch, steps=None, minutes=12, augment=None, threads=2,
                     finetune=None, checkpoint=None, smoothing=0.05, wd=1e-4):
    """Trains make_model() on the 60,000 training images for STEPS steps (or as
    many as fit in MINUTES), then measures accuracy on all 10,000 test images.
    FINETUNE = (steps, lr, prepare) trains on after prepare(model) for that
    many more steps with their own one-cycle schedule (the next batches of the
    same shuffled order), before the test.  CHECKPOINT: see train_steps;
    SMOOTHING is the label smoothing, WD AdamW's weight decay.
    Returns (model, test accuracy in %, steps, training seconds)."""
    setup(seed, threads)
    xtr, ytr = load("train")
    xte, yte = load("t10k")

    def loss_fn(model, idx):
        xb = xtr[idx] if augment is None else augment(xtr[idx])
        return nn.functional.cross_entropy(model(xb), ytr[idx], label_smoothing=smoothing)

    if steps is None:
        steps = steps_for_budget(make_model, lambda m, o, i: _probe(m, o, loss_fn, torch.arange(batch)),
                                 minutes)
    setup(seed, threads)
    model = make_model()
    order = Shuffled(len(xtr), batch, seed)
    def evaluate(m):
        return 100 * (predict(m, xte) == yte).float().mean().item()

    if finetune:
        _, secs = train_steps(model, steps, lr, loss_fn, order, lambda m: None, wd=wd,
                              checkpoint=checkpoint, phase=0)
        ft_steps, ft_lr, prepare = finetune
        prepare(model)
        print(f"fine-tuning: {ft_steps} steps, lr {ft_lr}", flush=True)
        acc, secs = train_steps(model, ft_steps, ft_lr, loss_fn, order, evaluate, wd=wd,
                                checkpoint=checkpoint, phase=1, before=secs)
    else:
        acc, secs = train_steps(model, steps, lr, loss_fn, order, evaluate, wd=wd, checkpoint=checkpoint)
    print(f"{steps} steps of {batch} ({steps * batch / len(xtr):.2f} epochs) in {secs / 60:.1f} min: "
          f"test accuracy {acc:.2f}% (rerun with --steps {steps})", flush=True)
    return model, acc, steps, secs


def _probe(model, opt, loss_fn, idx):
    model.train()
    loss = loss_fn(model, idx)
    opt.zero_grad()
    loss.backward()
    opt.step()


def export(model, path, opset, shape, input_name="image", output_name="logits", graph_name=None):
    """torch.onnx.export at a fixed shape (batch 1).  PRESERVE on an eval-mode
    model keeps BatchNormalization as nodes, for qnnc's fold-batchnorm."""
    import onnx
    model.eval()
    torch.onnx.export(model, torch.zeros(*shape), path, opset_version=opset,
                      input_names=[input_name], output_names=[output_name],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    m = onnx.load(path)
    m.graph.name = graph_name or os.path.splitext(os.path.basename(path))[0]
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return summarize(path)


def _shape_values(g, known):
    """Values of the small integer tensors computed from shapes (Constant,
    initializers, Shape, Slice, Concat, Cast, Split), where they can be worked
    out."""
    from onnx import numpy_helper
    vals = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        try:
            if n.op_type == "Constant":
                vals[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
            elif n.op_type == "Shape" and n.input[0] in known:
                vals[n.output[0]] = np.array(_dims(known[n.input[0]]), np.int64)
            elif n.op_type == "Slice" and all(i in vals for i in n.input):
                x, st, en = vals[n.input[0]], int(vals[n.input[1]][0]), int(vals[n.input[2]][0])
                vals[n.output[0]] = x[st:en]
            elif n.op_type == "Concat" and all(i in vals for i in n.input):
                vals[n.output[0]] = np.concatenate([vals[i] for i in n.input])
            elif n.op_type == "Cast" and n.input[0] in vals:
                vals[n.output[0]] = vals[n.input[0]]
            elif n.op_type == "Split" and n.input[0] in vals:
                x = vals[n.input[0]]
                axis = next((at.i for at in n.attribute if at.name == "axis"), 0)
                sizes = next((list(at.ints) for at in n.attribute if at.name == "split"), None)
                if sizes is None and len(n.input) > 1 and n.input[1] in vals:
                    sizes = [int(v) for v in vals[n.input[1]]]
                if sizes is None:
                    sizes = [x.shape[axis] // len(n.output)] * len(n.output)
                for o, part in zip(n.output, np.split(x, np.cumsum(sizes)[:-1], axis=axis)):
                    vals[o] = part
        except (IndexError, ValueError):
            pass
    return vals


def _dims(vi):
    return [d.dim_value for d in vi.type.tensor_type.shape.dim]


def summarize(path):
    """Op histogram, parameter count and MACs (Conv, ConvTranspose, MatMul,
    Gemm, from ONNX shape inference) of an ONNX file, as a dict."""
    import onnx
    m = onnx.load(path)
    # onnx 1.12 infers no output shape for LayerNormalization (opset 17): give
    # it its input's shape and infer again until nothing changes.
    for _ in range(100):
        m = onnx.shape_inference.infer_shapes(m, data_prop=True)
        known = {v.name: v for v in list(m.graph.value_info) + list(m.graph.input)
                 if v.type.tensor_type.shape.dim
                 and all(d.HasField("dim_value") for d in v.type.tensor_type.shape.dim)}
        todo = [n for n in m.graph.node if n.op_type == "LayerNormalization"
                and n.input[0] in known and n.output[0] not in known]
        # Nor a Resize whose sizes come from Shape -> Slice -> Concat: work
        # the sizes out with NumPy.
        values = _shape_values(m.graph, known)
        resized = [n for n in m.graph.node if n.op_type == "Resize" and len(n.input) > 3
                   and n.input[3] in values and n.output[0] not in known]
        reshaped = [n for n in m.graph.node if n.op_type == "Reshape" and n.input[0] in known
                    and n.input[1] in values and n.output[0] not in known]
        # Nor a Pad whose pads come from Split -> Concat of a constant
        # (tf2onnx's TF SAME pads, M-LSD): x's dims plus both pads.
        padded = [n for n in m.graph.node if n.op_type == "Pad" and len(n.input) > 1 and n.input[0] in known
                  and n.input[1] in values and n.output[0] not in known]
        if not todo and not resized and not reshaped and not padded:
            break
        for n in padded:
            x, pads = _dims(known[n.input[0]]), [int(v) for v in values[n.input[1]]]
            shape = [d + pads[i] + pads[i + len(x)] for i, d in enumerate(x)]
            m.graph.value_info.append(onnx.helper.make_tensor_value_info(
                n.output[0], known[n.input[0]].type.tensor_type.elem_type, shape))
        for n in reshaped:
            x = _dims(known[n.input[0]])
            shape = [x[i] if v == 0 else int(v) for i, v in enumerate(values[n.input[1]])]
            if -1 in shape:
                shape[shape.index(-1)] = int(np.prod(x)) // -int(np.prod(shape))
            m.graph.value_info.append(onnx.helper.make_tensor_value_info(
                n.output[0], known[n.input[0]].type.tensor_type.elem_type, shape))
        for n in todo + resized:
            vi = onnx.ValueInfoProto()
            vi.CopyFrom(known[n.input[0]])
            vi.name = n.output[0]
            if n.op_type == "Resize":
                for d, v in zip(vi.type.tensor_type.shape.dim, values[n.input[3]]):
                    d.dim_value = int(v)
            old = [v for v in m.graph.value_info if v.name == n.output[0]]
            for v in old:
                m.graph.value_info.remove(v)
            m.graph.value_info.append(vi)
    g = m.graph
    shapes = {vi.name: _dims(vi) for vi in list(g.value_info) + list(g.input) + list(g.output)}
    shapes.update({t.name: list(t.dims) for t in g.initializer})
    params = sum(int(np.prod(t.dims)) for t in g.initializer)
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    shapes[n.output[0]] = list(a.t.dims)
    macs = 0
    for n in g.node:
        if n.op_type == "Conv":
            w, y = shapes[n.input[1]], shapes.get(n.output[0])
            # An unknown dim reads as 0: fail rather than count no MACs.
            assert y and 0 not in y, f"{path}: no shape for Conv {n.name}: {n.output[0]} {y}"
            macs += int(np.prod(y)) * int(np.prod(w[1:]))
        elif n.op_type == "ConvTranspose":
            w, x = shapes[n.input[1]], shapes[n.input[0]]
            macs += int(np.prod(x)) * int(np.prod(w[1:]))
        elif n.op_type in ("MatMul", "Gemm"):
            a, y = shapes[n.input[0]], shapes[n.output[0]]
            assert a and y, f"{path}: no shape for {n.op_type} {n.name}: {n.input[0]} {a} -> {y}"
            k = a[-1]
            if n.op_type == "Gemm" and any(at.name == "transA" and at.i for at in n.attribute):
                k = a[0]
            macs += int(np.prod(y)) * k
    hist = collections.Counter(n.op_type for n in g.node)
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    return {"path": path, "opset": opset, "params": params, "macs": macs,
            "ops": dict(hist.most_common()), "bytes": os.path.getsize(path)}


def report(info):
    ops = ", ".join(f"{k} {v}" for k, v in info["ops"].items())
    print(f"{os.path.basename(info['path'])}: opset {info['opset']}, {info['params']:,} parameters, "
          f"{info['macs'] / 1e6:.2f} M MACs, {info['bytes'] / 1e6:.2f} MB\n  ops: {ops}", flush=True)


if __name__ == "__main__":
    import sys
    for p in sys.argv[1:]:
        report(summarize(p))
