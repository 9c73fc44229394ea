"""top1.py PRED.bin LABELS.gz N: the top-1 accuracy (%) of the first N
predictions in PRED.bin (one class byte per image, the Fashion-MNIST
example's torch_predictions.bin: PyTorch's own float predictions) against
the first N labels of a gzipped IDX labels file, printed as "top-1 92.80%"."""
import gzip
import struct
import sys

pred, labels, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = gzip.open(labels).read()
magic, count = struct.unpack(">II", raw[:8])
assert magic == 0x801 and count >= n
lab = raw[8:8 + n]
with open(pred, "rb") as f:
    p = f.read(n)
print("top-1 %.2f%%" % (100.0 * sum(a == b for a, b in zip(p, lab)) / n))
