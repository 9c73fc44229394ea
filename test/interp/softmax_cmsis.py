"""TFLite int8 softmax: qnnc's interpreter against CMSIS-NN's
arm_softmax_s8 built for the host (softmax-cmsis.test).

  softmax_cmsis.py gen OUT.qir OUT.cases   random cases: a graph for
                                           qnnc-run and the same inputs with
                                           TFLite Prepare's (mult, shift,
                                           diff_min) for the CMSIS harness
  softmax_cmsis.py compare CASES.out QNNC.out

The parameters come from random_ref.py's model of SoftmaxPrepare
(PreprocessSoftmaxScaling, CalculateInputRadius), which CMSIS-NN leaves to
its caller.
"""
import random
import sys

from random_ref import f32, fmt, tflite_softmax_row


def gen(qir_path, cases_path):
    rnd = random.Random(7)
    lines, outs, cases = [], [], []
    shapes = [(4, 10, 0.0625), (3, 7, 0.5), (2, 33, 0.01), (5, 3, 2.0), (2, 128, 0.1), (2, 600, 0.004),
              (3, 16, 1.0 / 32), (1, 1, 0.1), (6, 64, 0.25), (2, 200, 0.02)]
    for k, (rows, depth, scale) in enumerate(shapes):
        scale = f32(scale)
        x = [rnd.randint(-128, 127) for _ in range(rows * depth)]
        lines.append("  const %%x%d : i8[%d,%d] q(%s, 0) = [%s]" % (k, rows, depth, fmt(scale), ", ".join(map(str, x))))
        lines.append("  %%sm%d = softmax(%%x%d) {rounding=tflite} : i8[%d,%d] q(0.00390625, -128)" % (k, k, rows, depth))
        outs.append("%%sm%d" % k)
        mult, shift, diff_min = tflite_softmax_row(x[:depth], scale)[1]
        cases.append("%d %d %d %d %d %s" % (rows, depth, mult, shift, diff_min, " ".join(map(str, x))))
    with open(qir_path, "w") as f:
        f.write("graph @softmax_cmsis {\n%s\n  output %s\n}\n" % ("\n".join(lines), ", ".join(outs)))
    with open(cases_path, "w") as f:
        f.write("\n".join(cases) + "\n")


def compare(cmsis_path, qnnc_path):
    want = [[int(v) for v in line.split()] for line in open(cmsis_path) if line.strip()]
    got = []
    for line in open(qnnc_path):
        if line.startswith("%sm"):
            got.append([int(v) for v in line[line.rindex(" ["):].strip().strip("[]").split(",")])
    bad = sum(1 for w, g in zip(want, got) for a, b in zip(w, g) if a != b)
    if len(want) != len(got) or any(len(w) != len(g) for w, g in zip(want, got)):
        print("softmax_cmsis: MISMATCHED case count or length")
        bad += 1
    print("softmax_cmsis: %d values checked, %d mismatches" % (sum(len(w) for w in want), bad))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3])
    else:
        compare(sys.argv[2], sys.argv[3])
