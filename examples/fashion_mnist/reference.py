"""The Fashion-MNIST example's float reference and test data, without torch.

    reference.py fp32 QNNC_RUN MODEL.onnx OUT.bin [--torch torch_predictions.bin] [--logits L.npy]
        Runs the float ONNX model in qnnc's reference interpreter (qnnc-run,
        1,000 images per call through the model's symbolic batch dimension)
        on the 10,000 test images and writes the predicted class of each as
        one byte: the fp32 figures classify prints (--fp32).  Prints the
        float accuracy and, with --torch, the agreement with PyTorch's own
        predictions saved by train.py.  --logits also saves the logits,
        f32[10000,10].
    reference.py idx DIR
        Writes the uncompressed test images and labels (classify reads
        plain IDX files) into DIR.
    reference.py npy OUT.npy COUNT
        Writes the first COUNT test images as one f32[COUNT,1,28,28] array
        (pixels / 255, as classify and calibration feed them).
    reference.py calib OUT-idx4-ubyte GROUP
        Writes the first 1,000 training images (the default calibration
        set) as an IDX file of 1000/GROUP samples of GROUP images each, to
        calibrate a model compiled with --batch=GROUP on the same pixels.
        With minmax calibration the ranges, hence the int8 model, are the
        batch-1 model's exactly.
    reference.py argmax Y.npy PRED.bin
        Checks that the first len(Y) bytes of PRED.bin are Y's row-wise
        argmax (a batched compiled model against classify's predictions).

Needs python3-numpy only; the test data is Debian's dataset-fashion-mnist.
"""
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
IMAGES, LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


def read_idx(name):
    with gzip.open(os.path.join(DATA, name + ".gz"), "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def images_f32(n=None):
    x = read_idx(IMAGES)[:n]
    # The same float32 division classify.c does (pixel / 255.0f).
    return (x.astype(np.float32) / np.float32(255.0))[:, None, :, :]


def fp32(qnnc_run, model, out, torch_pred=None, logits=None, chunk=1000):
    x = images_f32()
    labels = read_idx(LABELS)
    pred = np.empty(len(x), np.uint8)
    ys = np.empty((len(x), 10), np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        xin, yout = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        for i in range(0, len(x), chunk):
            np.save(xin, x[i:i + chunk])
            n = len(x[i:i + chunk])
            subprocess.run([qnnc_run, model, "--batch", str(n), "--input", xin, "--output", yout], check=True)
            ys[i:i + n] = np.load(yout).reshape(n, 10)
            pred[i:i + n] = ys[i:i + n].argmax(axis=1)
    pred.tofile(out)
    if logits:
        np.save(logits, ys)
    print(f"fp32 (qnnc-run): top-1 accuracy {100 * (pred == labels).mean():.2f}% on {len(x)} test images")
    if torch_pred:
        t = np.fromfile(torch_pred, np.uint8)
        print(f"fp32 (PyTorch):  top-1 accuracy {100 * (t == labels).mean():.2f}%; "
              f"same class as qnnc-run on {100 * (t == pred).mean():.2f}% of images")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "fp32":
        opts = {}
        for flag in ("--torch", "--logits"):
            if flag in args:
                i = args.index(flag)
                opts[flag[2:] + ("_pred" if flag == "--torch" else "")] = args[i + 1]
                del args[i:i + 2]
        fp32(*args, **opts)
    elif cmd == "idx":
        os.makedirs(args[0], exist_ok=True)
        for name in (IMAGES, LABELS):
            with gzip.open(os.path.join(DATA, name + ".gz"), "rb") as f, open(os.path.join(args[0], name), "wb") as g:
                g.write(f.read())
    elif cmd == "npy":
        np.save(args[0], images_f32(int(args[1])))
    elif cmd == "calib":
        group = int(args[1])
        x = read_idx("train-images-idx3-ubyte")[:1000]
        dims = [len(x) // group, group, 28, 28]
        with open(args[0], "wb") as f:
            f.write(bytes([0, 0, 8, 4]) + b"".join(d.to_bytes(4, "big") for d in dims))
            f.write(x[:dims[0] * group].tobytes())
    elif cmd == "argmax":
        y = np.load(args[0]).reshape(-1, 10)
        pred = np.fromfile(args[1], np.uint8)[:len(y)]
        same = (y.argmax(axis=1) == pred).sum()
        print(f"argmax: {same} of {len(y)} predictions agree")
        sys.exit(0 if same == len(y) else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
