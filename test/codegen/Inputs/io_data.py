"""Data for io-dtype.test: integer inputs and outputs of a compiled model.

    io_data.py data DIR SCALE OFFSET
        DIR/calib-idx4-ubyte  20 random 3x16x16 byte images (calibration)
        DIR/raw.npy           one u8[1,3,16,16] input of raw bytes
        DIR/x.npy             the same as f32: raw * SCALE + OFFSET, in
                              float64 rounded to float32 (what calibration
                              does with IDX bytes)
    io_data.py same Y_INT.npy HEADER Y_FLOAT.npy
        dequantizes the integer output with the scale and zero point the
        generated HEADER gives it (float32, as the header's helper) and
        checks it equals the float-boundary build's output exactly
"""
import re
import struct
import sys

import numpy as np


def data(d, scale, offset):
    rng = np.random.default_rng(20261206)
    x = rng.integers(0, 256, size=(20, 3, 16, 16), dtype=np.uint8)
    with open(f"{d}/calib-idx4-ubyte", "wb") as f:
        f.write(bytes([0, 0, 8, 4]) + struct.pack(">4I", *x.shape) + x.tobytes())
    raw = rng.integers(0, 256, size=(1, 3, 16, 16), dtype=np.uint8)
    np.save(f"{d}/raw.npy", raw)
    np.save(f"{d}/x.npy", (raw.astype(np.float64) * scale + offset).astype(np.float32))


def same(yq_path, header, yf_path):
    text = open(header).read()
    scale = np.float32(float(re.search(r"#define \w+_OUTPUT_Y_SCALE ([0-9.e+-]+)f", text).group(1)))
    zp = int(re.search(r"#define \w+_OUTPUT_Y_ZERO_POINT (-?[0-9]+)", text).group(1))
    yq, yf = np.load(yq_path), np.load(yf_path)
    assert yq.dtype in (np.int8, np.uint8) and yf.dtype == np.float32, (yq.dtype, yf.dtype)
    deq = (yq.astype(np.int32) - zp).astype(np.float32) * scale
    bad = int(np.sum(deq != yf))
    print(f"dequantized {yq.dtype}: {bad} of {yf.size} values differ from the float build "
          f"(scale {scale}, zero point {zp}, outputs {yq.ravel()[:4]}...)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if sys.argv[1] == "data":
        data(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    else:
        same(sys.argv[2], sys.argv[3], sys.argv[4])
