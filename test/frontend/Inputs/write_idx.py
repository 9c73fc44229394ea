"""Writes small IDX files (the MNIST format) for test/frontend/dataset-*.test.

write_idx.py DIR writes into DIR:
  imgs-idx3-ubyte       three u8 2x2 images, plain
  imgs-idx3-ubyte.gz    the same, gzip-compressed
  bytes                 the same, plain, under a name that says nothing
  i16-idx3              two i16 2x2 images (big-endian), plain
  bad-magic-idx3-ubyte  magic 00 00 07 03 (no such element type)
  short-idx3-ubyte      header promises 3 images, holds 2 and a half
  short-header-idx3-ubyte  magic and one of three dimensions
  big-idx3-ubyte        two u8 3x3 images (do not fit a 2x2 input)
  empty-idx3-ubyte      a header with 0 images
  corrupt-idx3-ubyte.gz a gzip stream with its middle overwritten
  labels-idx1-ubyte     three u8 labels (rank 1)
Image pixels: image 0 [10, 50, 20, 30], image 1 [4, 100, 200, 60],
image 2 [128, 128, 7, 9].
"""
import gzip
import os
import struct
import sys

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
imgs = [[10, 50, 20, 30], [4, 100, 200, 60], [128, 128, 7, 9]]


def idx(type_byte, dims, payload):
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", x) for x in dims) + payload


def write(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


u8 = idx(0x08, [3, 2, 2], bytes(sum(imgs, [])))
write("imgs-idx3-ubyte", u8)
write("bytes", u8)
write("imgs-idx3-ubyte.gz", gzip.compress(u8, mtime=0))
write("i16-idx3", idx(0x0B, [2, 2, 2], struct.pack(">8h", -300, 0, 5, 1000, 1, 2, 3, -4)))
write("bad-magic-idx3-ubyte", bytes([0, 0, 7, 3]) + u8[4:])
write("short-idx3-ubyte", u8[:-2])
write("short-header-idx3-ubyte", u8[:8])
write("big-idx3-ubyte", idx(0x08, [2, 3, 3], bytes(range(18))))
write("empty-idx3-ubyte", idx(0x08, [0, 2, 2], b""))
gz = bytearray(gzip.compress(idx(0x08, [3, 2, 2], bytes(range(12)) * 50), mtime=0))
gz[15:25] = b"\xff" * 10
write("corrupt-idx3-ubyte.gz", bytes(gz))
write("labels-idx1-ubyte", idx(0x08, [3], bytes([1, 2, 3])))
