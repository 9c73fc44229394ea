"""Makes and checks .npy files with NumPy, the format's own implementation,
so qnnc's reader and writer are tested against an independent oracle.

  npy_tool.py make DIR        writes the input files the tests use
  npy_tool.py check-add A B Y checks Y == A + B (float32, exactly)
  npy_tool.py check-equal Y V...  checks Y's values and dtype int8
"""
import os
import sys
import numpy as np

cmd = sys.argv[1]
if cmd == "make":
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    a = np.array([[1.5, -2.25, 3e-8], [1e30, -0.0, 7.0]], dtype=np.float32)
    b = np.array([[0.25, 2.25, 1.0], [1e30, 0.0, -7.5]], dtype=np.float32)
    np.save(f"{d}/a.npy", a)
    np.save(f"{d}/b.npy", b)
    np.save(f"{d}/b64.npy", b.astype(np.float64))             # float64 converts to f32
    np.save(f"{d}/wrong_shape.npy", np.zeros((3, 2), np.float32))
    np.save(f"{d}/wrong_dtype.npy", np.zeros((2, 3), np.int32))
    np.save(f"{d}/fortran.npy", np.asfortranarray(a))
    np.save(f"{d}/x_i8.npy", np.array([-128, -4, -3, 127], np.int8))
    np.save(f"{d}/x_i64.npy", np.array([-128, -4, -3, 127], np.int64))  # int64 converts
    np.save(f"{d}/x_i64_big.npy", np.array([0, 0, 300, 0], np.int64))
    raw = open(f"{d}/a.npy", "rb").read()
    open(f"{d}/truncated.npy", "wb").write(raw[:-5])
    open(f"{d}/badmagic.npy", "wb").write(b"PK\x03\x04" + raw[4:])
elif cmd == "check-add":
    a, b, y = (np.load(p) for p in sys.argv[2:5])
    assert y.dtype == np.float32 and y.shape == a.shape, (y.dtype, y.shape)
    assert np.array_equal(y, (a.astype(np.float32) + b.astype(np.float32)).astype(np.float32)), y
    print("check-add ok")
elif cmd == "check-equal":
    y = np.load(sys.argv[2])
    want = np.array([int(v) for v in sys.argv[3:]], dtype=np.int8)
    assert y.dtype == np.int8 and np.array_equal(y, want), y
    print("check-equal ok")
