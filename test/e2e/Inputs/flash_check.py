"""Checks qnnc --report's flash table against the object, independently.

flash_check.py REPORT.json OBJECT GRAPH.qir MODEL_NAME BYTES


- every section the report lists has the size `llvm-objdump -h` gives it;
- the report's sections are all the object's flash: their sum is the text
  plus data that `llvm-size` (Berkeley format) counts;
- the rows (nodes and shared) sum to each section's size, and the kinds of
  a row to its total; nothing is unattributed;
- each node's code bytes hold its function NAME_run.K.* (`llvm-nm -S`)
  and at most its alignment padding more;
- each conv2d and dense node that runs conv_gemm, conv_dot or conv_patch (its
  function's name says so) has weight bytes of BYTES times its weight
  tensor's element count (read from the IR, not the report): those pack
  Fashion-MNIST's weights without padding, as i8 (BYTES 1) or, on the
  Cortex-M4, widened to i16 for smlad (BYTES 2); conv_patch kernels
  (the same bytes per weight) between that and the tensor padded to whole
  tiles of 4 channels and 8-byte steps.  Other
  kernels' layouts pad or widen (or LLVM folds a small table into the
  code's constant pool): for those only printed.
"""
import json
import re
import subprocess
import sys

report, obj, qir, name = sys.argv[1:5]
per_elem = int(sys.argv[5])
fl = json.load(open(report))["flash"]
assert fl is not None, "no flash in the report"


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


# Section sizes, from llvm-objdump -h.
sizes = {}
for line in run("llvm-objdump", "-h", obj).splitlines():
    m = re.match(r"\s*\d+\s+(\S+)\s+([0-9a-f]{8,16})\s", line)
    if m:
        sizes[m.group(1)] = int(m.group(2), 16)
secs = [s["name"] for s in fl["sections"]]
for s in fl["sections"]:
    assert sizes.get(s["name"]) == s["bytes"], (s, sizes.get(s["name"]))

berkeley = run("llvm-size", obj).splitlines()[1].split()
text, data = int(berkeley[0]), int(berkeley[1])
total = sum(s["bytes"] for s in fl["sections"])
assert total == text + data == fl["total"], (total, text, data, fl["total"])

kinds = ["code", "weights", "biases", "requant", "luts", "tables", "other"]
for s in fl["sections"]:
    got = sum(r["sections"][s["name"]] for r in fl["rows"])
    assert got == s["bytes"], (s["name"], got, s["bytes"])
for r in fl["rows"]:
    assert sum(r[k] for k in kinds) == r["total"] == sum(r["sections"].values()), r
unattributed = [r for r in fl["rows"] if r["name"] == "unattributed"][0]
assert unattributed["total"] == 0, unattributed

# Code: each node's function, from the symbol table.
fn, kernel = {}, {}
for line in run("llvm-nm", "-S", obj).splitlines():
    f = line.split()
    if len(f) == 4 and f[2] in "tT":
        m = re.fullmatch(re.escape(name) + r"_run\.(\d+)\.(.*)", f[3])
        if m:
            fn[int(m.group(1))] = int(f[1], 16)
            kernel[int(m.group(1))] = m.group(2)
nodes = [r for r in fl["rows"] if r["node"] is not None]
for r in nodes:
    k = r["node"]
    want = fn.get(k, 0)
    assert want <= r["code"] < want + 16, (r["name"], r["code"], want)

# Weights: the IR's weight tensors.
text = open(qir).read()
shape = {m.group(1): [int(d) for d in m.group(2).split(",")]
         for m in re.finditer(r"const %(\S+) : \w+\[([\d,]+)\]", text)}
ops = re.findall(r"^\s*%(\S+) = (\w+)\(([^)]*)\)", text, re.M)
assert len(ops) == len(nodes), (len(ops), len(nodes))
checked = 0
for k, (res, op, args) in enumerate(ops):
    r = nodes[k]
    assert r["name"] == res and r["op"] == op, (r, res, op)
    if op not in ("conv2d", "dense"):
        assert r["weights"] == 0, r
        continue
    w = shape[args.split(",")[1].strip().lstrip("%")]
    numel = 1
    for d in w:
        numel *= d
    each = per_elem
    if not kernel[k].startswith(("conv_gemm", "conv_dot", "conv_patch")):
        print(f"{res}: {kernel[k]} weights {r['weights']} bytes, tensor {w} = {numel} elements")
        continue
    if kernel[k].startswith("conv_patch"):
        # Whole tiles of 4 output channels and steps of 8 reduction bytes.
        o, red = w[0], numel // w[0]
        most = each * (o + 3) // 4 * 4 * ((red + 7) // 8 * 8)
        assert each * numel <= r["weights"] <= most, (res, kernel[k], r["weights"], numel, most)
        print(f"{res}: {kernel[k]} weights {r['weights']} bytes, {each} x tensor {w} = {each * numel} "
              f"to {most} padded")
        checked += 1
        continue
    m = re.match(r"conv_gemm_\d+x(\d+)c4(\w*?)_", kernel[k])
    stem = bool(m) and m.group(2).endswith("s")
    if m and (w[0] % int(m.group(1)) or stem):
        # conv_gemm's panels: output channels padded to the tile's NR and,
        # for stems (c4...s), each kernel row's KW*C bytes padded to 4;
        # otherwise the reduction to 4.
        o, red = w[0], numel // w[0]
        nr = int(m.group(1))
        op = -(-o // nr) * nr
        if stem:
            kh, kwc = w[1], red // w[1]
            most = each * op * kh * ((kwc + 3) // 4 * 4)
        else:
            most = each * op * ((red + 3) // 4 * 4)
        assert each * numel <= r["weights"] <= most, (res, kernel[k], r["weights"], numel, most)
        print(f"{res}: {kernel[k]} weights {r['weights']} bytes, {each} x tensor {w} = {each * numel} "
              f"to {most} padded")
        checked += 1
        continue
    assert r["weights"] == each * numel, (res, kernel[k], r["weights"], numel)
    print(f"{res}: {kernel[k]} weights {r['weights']} bytes = {each} x tensor {w} = {numel} elements")
    checked += 1
print(f"flash: {len(secs)} sections, {total} bytes, {len(nodes)} nodes, {checked} weight tensors checked")
