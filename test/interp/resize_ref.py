"""resize_ref.py OUTDIR: random resize cases (every interp, coordinate
transform and nearest rounding; i8, u8, i16 and f32; scales and sizes,
enlarging and shrinking) as one .qir per case with its input, and the
expected outputs computed here from docs/ir-semantics.md ("resize") in
Python integers and NumPy, independently of qnnc's code.  Writes
OUTDIR/NAME.qir, NAME.x.npy, NAME.y.npy and OUTDIR/names.
"""
import math
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(99)
COORDS = ["half_pixel", "asymmetric", "pytorch_half_pixel", "align_corners", "tf_half_pixel_for_nn"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
DT = {"i8": np.int8, "u8": np.uint8, "i16": np.int16, "f32": np.float32}


def coord(mode, o, n_in, n_out, s, lr):
    if mode == "asymmetric":
        return o / s
    if mode == "pytorch_half_pixel":
        return (o + 0.5) / s - 0.5 if lr > 1 else 0.0
    if mode == "align_corners":
        return o * (n_in - 1) / (lr - 1) if lr > 1 else 0.0
    if mode == "tf_half_pixel_for_nn":
        return (o + 0.5) / s
    return (o + 0.5) / s - 0.5


def taps(interp, mode, nearest, n_in, n_out, scale):
    s = float(np.float32(scale)) if scale is not None else n_out / n_in
    lr = n_in * s if scale is not None else float(n_out)
    clamp = lambda v: min(max(int(v), 0), n_in - 1)
    r = []
    for o in range(n_out):
        x = coord(mode, o, n_in, n_out, s, lr)
        f = math.floor(x)
        if interp == "nearest":
            half = x - f == 0.5
            i = {"floor": f, "ceil": math.ceil(x),
                 "round_prefer_ceil": f + 1 if half else round(x),
                 "round_prefer_floor": f if half else round(x)}[nearest]
            r.append((clamp(i), clamp(i), 0.0))
        else:
            r.append((clamp(f), clamp(f + 1), x - f))
    return r


def reference(x, dt, interp, ty, tx):
    n, h, w, c = x.shape
    y = np.zeros((n, len(ty), len(tx), c), x.dtype)
    for oy, (a0, a1, fy) in enumerate(ty):
        for ox, (e0, e1, fx) in enumerate(tx):
            if interp == "nearest":
                y[:, oy, ox] = x[:, a0, e0]
            elif dt == "f32":
                w1x = np.float32(fx)
                w0x = np.float32(1) - w1x
                w1y = np.float32(fy)
                w0y = np.float32(1) - w1y
                top = x[:, a0, e0] * w0x + x[:, a0, e1] * w1x
                bot = x[:, a1, e0] * w0x + x[:, a1, e1] * w1x
                y[:, oy, ox] = top * w0y + bot * w1y
            else:
                qx, qy = math.floor(fx * 1024 + 0.5), math.floor(fy * 1024 + 0.5)
                xi = x.astype(np.int64)
                top = xi[:, a0, e0] * (1024 - qx) + xi[:, a0, e1] * qx
                bot = xi[:, a1, e0] * (1024 - qx) + xi[:, a1, e1] * qx
                v = top * (1024 - qy) + bot * qy
                y[:, oy, ox] = (v + (1 << 19)) >> 20  # floor division: round half up
    return y


names = []
k = 0
for dt in ["i8", "u8", "i16", "f32"]:
    for coord_mode in COORDS:
        for interp in ["nearest", "linear"]:
            for nearest in NEAREST if interp == "nearest" else [None]:
                n, h, w, c = 1 + k % 2, int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 4))
                use_scales = k % 3 != 0
                if use_scales:
                    sc = [float(np.float32(rng.choice([0.5, 0.75, 1.3, 2.0, 2.6, 3.0]))) for _ in range(2)]
                    oh, ow = (math.floor(d * np.float64(np.float32(s))) for d, s in zip((h, w), sc))
                    if oh < 1 or ow < 1:
                        sc, use_scales = None, False
                if not use_scales:
                    sc = None
                    oh, ow = int(rng.integers(1, 9)), int(rng.integers(1, 9))
                if dt == "f32":
                    x = rng.normal(0, 3, (n, h, w, c)).astype(np.float32)
                else:
                    info = np.iinfo(DT[dt])
                    x = rng.integers(info.min, info.max + 1, (n, h, w, c)).astype(DT[dt])
                ty = taps(interp, coord_mode, nearest, h, oh, sc[0] if sc else None)
                tx = taps(interp, coord_mode, nearest, w, ow, sc[1] if sc else None)
                y = reference(x, dt, interp, ty, tx)
                q = "" if dt == "f32" else " q(0.5, 3)"
                attrs = ["interp=%s" % interp, "coord=%s" % coord_mode]
                if nearest:
                    attrs.append("nearest=%s" % nearest)
                if sc:
                    attrs.append("scales=[%r, %r]" % tuple(sc))
                name = "r%d" % k
                with open(os.path.join(out, name + ".qir"), "w") as f:
                    f.write("graph @%s {\n  input %%x : %s[%d,%d,%d,%d]%s\n" % (name, dt, n, h, w, c, q))
                    f.write("  %%y = resize(%%x) {%s} : %s[%d,%d,%d,%d]%s\n" % (", ".join(attrs), dt, n, oh, ow, c, q))
                    f.write("  output %y\n}\n")
                np.save(os.path.join(out, name + ".x.npy"), x)
                np.save(os.path.join(out, name + ".y.npy"), y)
                names.append(name)
                k += 1
open(os.path.join(out, "names"), "w").write("\n".join(names) + "\n")
