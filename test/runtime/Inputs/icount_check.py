"""Instruction counts on Cortex-M4 and Cortex-M55 under QEMU -icount shift=0
(instructions-thumbv7em-none-eabi.test, instructions-thumbv8.1m.main-none-eabi.test).

  icount_check.py gen DIR          a conv graph (i8 in, 3x3 conv 16->16 on
                                   10x10 then a 1x1 conv) and an input
  icount_check.py check RUN1 RUN2 [MACS]
                                   the runner's --bench/--profile output of
                                   two runs: identical, and plausible for an
                                   instruction doing at most MACS
                                   multiply-accumulates (default 2: smlad;
                                   16 for Helium's vmlava.s8)
"""
import re
import sys

import numpy as np


def gen(d):
    rng = np.random.default_rng(3)

    def arr(a):
        return "[" + ", ".join(str(int(v)) for v in a.reshape(-1)) + "]"

    w1, w2 = rng.integers(-127, 128, (16, 3, 3, 16)), rng.integers(-127, 128, (16, 1, 1, 16))
    with open(d + "/conv.qir", "w") as f:
        f.write("graph @conv {\n"
                "  input %x : i8[1,10,10,16] q(0.05, 3)\n"
                "  const %w1 : i8[16,3,3,16] q(0.01, 0) = " + arr(w1) + "\n"
                "  const %w2 : i8[16,1,1,16] q(0.01, 0) = " + arr(w2) + "\n"
                "  %c1 = conv2d(%x, %w1) {pads=[1, 1, 1, 1], rounding=tflite, act_min=0} : i8[1,10,10,16] q(0.2, -128)\n"
                "  %c2 = conv2d(%c1, %w2) {rounding=tflite} : i8[1,10,10,16] q(0.3, 0)\n"
                "  output %c2\n}\n")
    np.save(d + "/x.npy", rng.integers(-128, 128, (1, 10, 10, 16)).astype(np.int8))


def check(p1, p2, per=2):
    a, b = open(p1).read(), open(p2).read()
    # The clock's step: 40 instructions at 25 MHz (M4), 31.25 at 32 MHz (M55).
    sm = re.search(r"in steps of ([0-9.]+)", a)
    step = float(sm.group(1)) if sm else 40
    ok = True
    if a != b:
        print("FAIL: the two runs differ")
        ok = False
    m = re.search(r"bench: conv: 3 runs, median (\d+) instructions, min (\d+) instructions", a)
    if not m:
        print("FAIL: no instruction count in the bench line")
        sys.exit(1)
    median, least = int(m.group(1)), int(m.group(2))
    # The same code every run; only where a run starts within a SysTick
    # tick differs.
    if not 0 <= median - least <= step:
        print("FAIL: runs of the same code counted differently: median %d, min %d" % (median, least))
        ok = False
    nodes = re.findall(r"^\s+\d+\s+(\S+)\s+conv2d\s+\S+\s+(\d+)\s+\S+%\s+(\d+)", a, re.M)
    if len(nodes) != 2:
        print("FAIL: expected 2 conv2d rows in the profile, got %d" % len(nodes))
        sys.exit(1)
    total_macs = 0
    for name, insns, macs in nodes:
        insns, macs = int(insns), int(macs)
        total_macs += macs
        # An instruction does PER MACs at best; STEP is the clock's step.
        if not macs / per - step <= insns <= 20 * macs:
            print("FAIL: %s: %d instructions for %d MACs" % (name, insns, macs))
            ok = False
    if not total_macs / per <= median <= 20 * total_macs:
        print("FAIL: %d instructions for %d MACs" % (median, total_macs))
        ok = False
    print("icount: %d instructions a run (%.2f per MAC), identical in both runs: %s" % (
        median, median / total_macs, "ok" if ok else "FAIL"))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 2)
