#!/usr/bin/python3
"""Builds the seed corpora and dictionaries of the fuzz targets.

usage: seeds.py OUTDIR

Writes OUTDIR/TARGET/ (one file per seed) for every target of fuzz/, plus
OUTDIR/TARGET.dict (libFuzzer dictionaries) for the text formats.  Seeds
come from the test suite and examples (every .qir, .onnx, .toml and .npy;
split-input-file cases one by one), a few small ONNX node-test models and
their .pb tensors from /usr/share/libonnx-testdata, small synthetic IDX
files (plain and gzip), and the regression corpus test/fuzz/regressions/.
The tensor readers' seeds start with the wanted-type header of fuzz/fuzz.h.
"""
import glob
import gzip
import hashlib
import os
import re
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONNX_DATA = "/usr/share/libonnx-testdata/data/node"
# IR dtype indices (ir/dtypes.def order).
DT = {"f32": 0, "i8": 1, "u8": 2, "i16": 3, "i32": 4}
NP_DT = {np.dtype("float32"): 0, np.dtype("int8"): 1, np.dtype("uint8"): 2, np.dtype("int16"): 3,
         np.dtype("int32"): 4, np.dtype("float64"): 0, np.dtype("int64"): 4}
# ONNX TensorProto.DataType -> IR dtype index.
ONNX_DT = {1: 0, 3: 1, 2: 2, 5: 3, 6: 4, 11: 0, 7: 4}


def type_header(dtype, shape):
    if len(shape) > 6 or any(d > 65535 or d < 0 for d in shape):
        return None
    return bytes([dtype, len(shape)]) + b"".join(struct.pack("<H", d) for d in shape)


class Corpus:
    def __init__(self, out, target):
        self.dir = os.path.join(out, target)
        os.makedirs(self.dir, exist_ok=True)
        self.count = 0

    def add(self, data, max_size=1 << 16):
        if data is None or len(data) > max_size:
            return
        name = hashlib.sha1(data).hexdigest()
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.count += 1


def repo_files(*patterns):
    out = []
    for p in patterns:
        out += glob.glob(os.path.join(ROOT, p), recursive=True)
    return sorted(set(f for f in out if "/build" not in f[len(ROOT):]))


def small_node_tests(limit):
    dirs = sorted(glob.glob(os.path.join(ONNX_DATA, "test_*")))
    picked = []
    for d in dirs:
        m = os.path.join(d, "model.onnx")
        if os.path.exists(m) and os.path.getsize(m) < 4096:
            picked.append(d)
    # A spread over the alphabet rather than the first LIMIT.
    step = max(1, len(picked) // limit)
    return picked[::step][:limit]


def per_op_node_tests():
    """The smallest node test of each op in frontend/onnx_ops.def (matched by
    name: test_reduce_mean_* for ReduceMean, test_greater_equal_* for
    GreaterOrEqual), so every importer is in the corpus from the start."""
    ops = set()
    for line in open(os.path.join(ROOT, "frontend/onnx_ops.def")):
        m = re.match(r'ONNX_OP\("(\w+)",\s*AI_ONNX', line)
        if m:
            ops.add(m.group(1))
    by_key = {}
    for d in sorted(glob.glob(os.path.join(ONNX_DATA, "test_*"))):
        m = os.path.join(d, "model.onnx")
        if os.path.exists(m) and os.path.getsize(m) < 4096:
            by_key.setdefault(os.path.basename(d)[5:].replace("_", ""), []).append(m)
    picked = []
    for op in sorted(ops):
        keys = {op.lower(), op.lower().replace("or", "")}
        cands = [m for k, ms in by_key.items() for m in ms if any(k.startswith(x) for x in keys)]
        if cands:
            picked.append(min(cands, key=os.path.getsize))
    return picked


def regressions(corpus, target):
    for f in glob.glob(os.path.join(ROOT, "test/fuzz/regressions", target, "*")):
        corpus.add(open(f, "rb").read())


def seed_qir(out):
    c = Corpus(out, "qir")
    for f in repo_files("test/**/*.qir", "examples/*.qir"):
        text = open(f, "rb").read()
        for case in re.split(rb"\n// -----[^\n]*\n", text):
            c.add(case)
    regressions(c, "qir")
    words = set()
    for line in open(os.path.join(ROOT, "ir/ops.def")):
        m = re.match(r'OP\(\w+,\s*"([^"]+)"', line)
        if m:
            words.add(m.group(1))
    for line in open(os.path.join(ROOT, "ir/attrs.def")):
        m = re.match(r'ATTR\(\w+,\s*"([^"]+)"', line)
        if m:
            words.add(m.group(1))
    words |= set(DT) | {"graph", "const", "return", "q(", "range(", "dense<", "file(", "->", "@main", "%x", "{", "}",
                        "axis", "[1,2,3]", "-", "0x", "nan", "inf", "1e39"}
    write_dict(os.path.join(out, "qir.dict"), words)
    return c.count


def seed_onnx(out):
    c = Corpus(out, "onnx")
    for f in repo_files("test/**/*.onnx", "examples/*.onnx"):
        c.add(open(f, "rb").read(), 1 << 18)
    for d in small_node_tests(60):
        c.add(open(os.path.join(d, "model.onnx"), "rb").read())
    for m in per_op_node_tests():
        c.add(open(m, "rb").read())
    # The com.microsoft QOperator ops and the opset 18/19 forms have no
    # node tests: the test suite's generated models stand in.
    import subprocess
    import tempfile
    for gen in ("test/onnx/gen_qoperator.py", "test/onnx/gen_opset18.py"):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, os.path.join(ROOT, gen), tmp], check=True, stdout=subprocess.DEVNULL)
            for f in sorted(glob.glob(os.path.join(tmp, "*.onnx"))):
                c.add(open(f, "rb").read())
    regressions(c, "onnx")
    return c.count


def seed_config(out):
    c = Corpus(out, "config")
    for f in repo_files("test/**/*.toml", "examples/*.toml"):
        c.add(open(f, "rb").read())
    regressions(c, "config")
    words = set()
    for line in open(os.path.join(ROOT, "docs/config.md")):
        words |= set(re.findall(r"`\[?([a-z_.]+)\]?`", line))
    words |= {"[model]", "[target]", "[quantization]", "[calibration]", "[output]", "[passes]", "[limits]",
              "[[quantization.override]]", "=", "true", "false", '"', "'''", '"""', "[", "]", "{", "}", "1e400",
              "-9223372036854775808", "inf", "nan", "1979-05-27T07:32:00Z"}
    write_dict(os.path.join(out, "config.dict"), words)
    return c.count


def seed_npy(out):
    c = Corpus(out, "npy")
    for f in repo_files("test/**/*.npy", "examples/*.npy"):
        try:
            a = np.load(f)
        except Exception:  # the malformed corpus: seed it with the first type
            c.add(type_header(0, [2, 3]) + open(f, "rb").read())
            continue
        h = type_header(NP_DT.get(a.dtype, 0), a.shape)
        if h:
            c.add(h + open(f, "rb").read())
    import io
    for dt, arr in [(0, np.arange(6, dtype=np.float32).reshape(2, 3)), (1, np.array([-128, 127], np.int8)),
                    (2, np.zeros((1, 2, 2, 1), np.uint8)), (3, np.array([[1, -2]], np.int16)),
                    (4, np.array(7, np.int32)), (0, np.array([1.5, -2.25], np.float64)),
                    (1, np.array([1, 300], np.int64)), (0, np.asfortranarray(np.ones((2, 2), np.float32)))]:
        b = io.BytesIO()
        np.save(b, arr)
        c.add(type_header(dt, arr.shape) + b.getvalue())
    regressions(c, "npy")
    return c.count


def seed_pb(out):
    c = Corpus(out, "pb")
    import onnx
    for d in small_node_tests(40):
        for f in sorted(glob.glob(os.path.join(d, "test_data_set_0", "*.pb")))[:2]:
            data = open(f, "rb").read()
            try:
                t = onnx.TensorProto()
                t.ParseFromString(data)
            except Exception:
                continue
            h = type_header(ONNX_DT.get(t.data_type, 0), list(t.dims))
            if h:
                c.add(h + data)
    regressions(c, "pb")
    return c.count


def idx_file(code, shape, payload):
    return struct.pack(">BBBB", 0, 0, code, len(shape)) + b"".join(struct.pack(">I", d) for d in shape) + payload


def seed_idx(out):
    c = Corpus(out, "idx")
    cases = [
        (0x08, [3, 2, 2], bytes(range(12))),                    # ubyte
        (0x09, [2, 4], bytes([0x80, 0x7f, 1, 2, 3, 4, 5, 6])),  # sbyte
        (0x0B, [2, 2], struct.pack(">4h", -1, 2, -300, 4)),     # short
        (0x0C, [1, 3], struct.pack(">3i", 1, -2, 3)),           # int
        (0x0D, [2, 1], struct.pack(">2f", 0.5, -1.0)),          # float
        (0x0E, [1, 2], struct.pack(">2d", 0.25, 3.0)),          # double
        (0x08, [4], bytes(4)),                                  # scalar samples
    ]
    for code, shape, payload in cases:
        f = idx_file(code, shape, payload)
        sample = shape[1:] or [1]
        h = type_header(0, [1] + sample)
        c.add(h + f)
        c.add(h + gzip.compress(f, mtime=0))
    # The first images of Fashion-MNIST, if installed.
    for p in glob.glob("/usr/share/**/t10k-images-idx3-ubyte.gz", recursive=True)[:1]:
        raw = gzip.open(p).read(16 + 2 * 784)
        f = raw[:4] + struct.pack(">I", 2) + raw[8:]
        c.add(type_header(0, [1, 28, 28, 1]) + gzip.compress(f, mtime=0))
    regressions(c, "idx")
    return c.count


def write_dict(path, words):
    with open(path, "w") as f:
        for w in sorted(words):
            if w:
                f.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    for name, fn in [("qir", seed_qir), ("onnx", seed_onnx), ("config", seed_config), ("npy", seed_npy),
                     ("pb", seed_pb), ("idx", seed_idx)]:
        print("%s: %d seeds" % (name, fn(out)))


if __name__ == "__main__":
    main()
