"""A float32 NumPy forward pass of examples/tiny_cnn.qir, written
independently of qnnc: the oracle for the int8 model's outputs.

Weights come from the same hand-designed filters as examples/gen_tiny_cnn.py
(taken in their quantized form, dequantized), so the only differences
between this and qnnc-run are the int8 activations' rounding.
"""
import sys
import numpy as np

examples, outdir = sys.argv[1], sys.argv[2]

line = np.array([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]], dtype=np.float32)
filters = [line, line.T, np.array([[2, -1, -1], [-1, 2, -1], [-1, -1, 2]], np.float32)]
s1 = np.float32(2.0 / 127)
w1 = [np.clip(np.rint(f / s1), -127, 127) * s1 for f in filters]   # dequantized weights
w2 = np.float32(4.0) * np.eye(3, dtype=np.float32)


def forward(img):
    x = np.pad(img[0, :, :, 0], 1)
    conv = np.zeros((8, 8, 3), np.float32)
    for o in range(3):
        for i in range(8):
            for j in range(8):
                conv[i, j, o] = np.sum(x[i:i + 3, j:j + 3] * w1[o])
    conv = np.clip(conv, 0, 6)                                         # fused ReLU; 6 = top of range
    pooled = conv.reshape(4, 2, 4, 2, 3).max(axis=(1, 3))
    feat = pooled.mean(axis=(0, 1))
    logits = np.clip(feat @ w2.T, 0, 8)
    e = np.exp(logits - logits.max())
    return e / e.sum()


ok = True
for k, (name, short) in enumerate([("horizontal", "h"), ("vertical", "v"), ("diagonal", "d")]):
    ref = forward(np.load(f"{examples}/{name}.npy"))
    got = np.load(f"{outdir}/{short}.npy")[0]
    err = np.max(np.abs(ref - got))
    good = err <= 0.02 and int(np.argmax(got)) == k
    print(f"{name}: class {int(np.argmax(got))} {'ok' if good else 'MISMATCH'} "
          f"(max |int8 - float| = {err:.4f}; got {got}, float {ref})")
    ok &= good
sys.exit(0 if ok else 1)
